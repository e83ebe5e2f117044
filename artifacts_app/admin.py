from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timezone import localtime

from . import services
from .models import ApiToken, Artifact, ArtifactCollection, Run

# Six models: the home page lists them all, and the navigation sidebar would take a quarter
# of a 1280 px screen from the changelists (whose columns then got cut at the right).
admin.site.enable_nav_sidebar = False

SHORT_TIME = "Y-m-d H:i"


def _short_id(value) -> str:
    """Start and end of a UUID: time-ordered ids share their first characters."""
    text = str(value)
    return f"{text[:8]}…{text[-4:]}"


def _short_time(value):
    return date_format(localtime(value), SHORT_TIME) if value else "—"


class ArtifactForm(forms.ModelForm):
    """The admin's form refuses what services would (the same checks), as form errors."""

    class Meta:
        model = Artifact
        fields = (
            "key", "type", "description", "data", "metadata", "flow_run_id", "task_run_id",
        )  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in ("data", "description", "metadata")}
        if self.instance._state.adding:  # a change writes only these three (services)
            fields |= {"key": cleaned.get("key") or None, "type": cleaned.get("type") or None}
        try:
            services.check_fields(**fields)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                field = "metadata" if name == "metadata_" else name
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    form = ArtifactForm
    list_display = (
        "key_or_id",
        "type",
        "short_description",
        "flow_run",
        "created_at",
        "updated_at",
        "pinned_mark",
    )
    list_filter = ("type", "pinned", "created")
    actions = ["pin", "unpin"]
    search_fields = ("key", "description")
    readonly_fields = ("id", "created", "updated", "preview")
    fields = (
        "id",
        "key",
        "type",
        "description",
        "data",
        "metadata",
        "flow_run_id",
        "task_run_id",
        "created",
        "updated",
        "preview",
    )
    date_hierarchy = "created"

    class Media:
        css = {"all": ("artifacts/admin.css",)}

    show_full_result_count = False  # no COUNT(*) over the whole table on every list page
    list_per_page = 50

    @admin.display(description="key", ordering="key")
    def key_or_id(self, obj):
        return obj.key or f"(no key) {_short_id(obj.id)}"

    @admin.display(description="description")
    def short_description(self, obj):
        return Truncator(obj.description or "").chars(60)

    @admin.display(description="flow run", ordering="flow_run_id")
    def flow_run(self, obj):
        if not obj.flow_run_id:
            return "—"
        return format_html(
            '<span title="{}">{}</span>', obj.flow_run_id, _short_id(obj.flow_run_id)
        )

    @admin.display(description="pinned", ordering="pinned")
    def pinned_mark(self, obj):
        return "pinned" if obj.pinned else ""

    @admin.display(description="created", ordering="created")
    def created_at(self, obj):
        return _short_time(obj.created)

    @admin.display(description="updated", ordering="updated")
    def updated_at(self, obj):
        return _short_time(obj.updated)

    @admin.display(description="rendered")
    def preview(self, obj):
        from django.template.loader import render_to_string

        if obj.pk is None:
            return "-"
        return format_html(
            '<div class="artifact-preview">{}</div>',
            render_to_string("artifacts/partials/admin_preview.html", {"artifact": obj}),
        )

    def save_model(self, request, obj, form, change):
        if change:
            services.artifact_update(
                artifact_id=obj.pk,
                data=obj.data,
                description=obj.description,
                metadata=obj.metadata,
            )
        else:
            created = services.artifact_create(
                key=obj.key or None,
                type=obj.type or None,
                data=obj.data,
                description=obj.description,
                metadata=obj.metadata,
                flow_run_id=obj.flow_run_id,
                task_run_id=obj.task_run_id,
            )
            obj.pk = created.pk

    @admin.action(description="Pin selected versions (never pruned)")
    def pin(self, request, queryset):
        count = services.artifact_set_pinned(
            artifact_ids=queryset.values_list("pk", flat=True), pinned=True
        )
        self.message_user(request, f"Pinned {count} version(s).")

    @admin.action(description="Unpin selected versions")
    def unpin(self, request, queryset):
        count = services.artifact_set_pinned(
            artifact_ids=queryset.values_list("pk", flat=True), pinned=False
        )
        self.message_user(request, f"Unpinned {count} version(s).")

    def delete_model(self, request, obj):
        services.artifact_delete(artifact_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.artifact_delete(artifact_id=pk)
            except services.ArtifactNotFound:
                self.message_user(request, f"{pk} was already gone.", messages.WARNING)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never edited here: these rows are written by services.py alone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArtifactCollection)
class ArtifactCollectionAdmin(ReadOnlyAdmin):
    list_display = ("key", "type", "latest", "created", "updated")
    list_filter = ("type",)
    search_fields = ("key",)
    show_full_result_count = False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    """Flow and task runs, read-only: names come from the Prefect import, the client and lookups
    (services.run_upsert)."""

    list_display = ("run_id", "kind", "flow_name", "name", "state", "started", "seen")
    list_filter = ("kind", "state")
    search_fields = ("name", "flow_name")
    show_full_result_count = False

    @admin.display(description="id")
    def run_id(self, obj):
        return _short_id(obj.pk)

    @admin.display(description="started", ordering="start_time")
    def started(self, obj):
        return _short_time(obj.start_time)

    @admin.display(description="first seen", ordering="created")
    def seen(self, obj):
        return _short_time(obj.created)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("hint", "name", "user", "created_at", "last_used_at", "status")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username")
    readonly_fields = ("hint", "created", "last_used")
    fields = ("user", "name", "hint", "created", "last_used", "revoked")
    actions = ["revoke"]

    class Media:
        css = {"all": ("artifacts/admin.css",)}
        js = ("artifacts/permalink.js",)  # the copy button of a new token (no inline script)

    @admin.display(description="status", ordering="revoked")
    def status(self, obj):
        """Words, not Django's boolean icons: a red ✖ under "revoked" read as a warning on
        every token that works."""
        if obj.revoked:
            return format_html('<span class="token-status revoked">{}</span>', "Revoked")
        return format_html('<span class="token-status active">{}</span>', "Active")

    @admin.display(description="created", ordering="created")
    def created_at(self, obj):
        return _short_time(obj.created)

    @admin.display(description="last used", ordering="last_used")
    def last_used_at(self, obj):
        return _short_time(obj.last_used) if obj.last_used else "never"

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = services.token_revoke(token_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {count} token(s).")

    def save_model(self, request, obj, form, change):
        if not change:
            from .services import token_create

            token, raw = token_create(user=obj.user, name=obj.name)
            obj.pk, obj.hint, obj.digest, obj.created = (
                token.pk,
                token.hint,
                token.digest,
                token.created,
            )
            self.message_user(
                request,
                format_html(
                    '<span class="new-token">New token for {} (shown only this once: copy it'
                    ' now) <input id="new-api-token" class="new-token-value" type="text"'
                    ' readonly value="{}" aria-label="The new API token"> <button'
                    ' type="button" class="button" data-copy-target="new-api-token">Copy'
                    "</button></span>",
                    obj.user,
                    raw,
                ),
                messages.WARNING,
            )
        else:
            super().save_model(request, obj, form, change)
