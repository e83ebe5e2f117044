from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from artifacts_app import services
from artifacts_app.models import ApiToken, hash_token


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME (the user is created if missing). Prints the token last."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label for the token, shown in admin.")
        parser.add_argument("--staff", action="store_true", help="Make a newly created user staff.")
        parser.add_argument(
            "--keep-in",
            metavar="FILE",
            help=(
                "Reuse the token kept in FILE while it is still valid for this user and name; "
                "otherwise revoke the user's other tokens of that name, create one and keep it "
                "in FILE (mode 600). `make run` uses it to print one demo token every time "
                "instead of adding another."
            ),
        )

    def handle(self, *args, username, name="", staff=False, keep_in=None, **options):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": staff}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"Created user {username!r}.")
        name = name or "created by create_api_token"
        if keep_in:
            return self._kept_token(user, name, Path(keep_in))
        _, raw = services.token_create(user=user, name=name)
        self.stderr.write(f"API token for {user.username!r} (stored hashed; shown only this once):")
        self.stdout.write(raw)
        return None

    def _kept_token(self, user, name: str, path: Path) -> None:
        raw = path.read_text().strip() if path.exists() else ""
        mine = ApiToken.objects.active().filter(user=user, name=name)
        if raw and mine.filter(digest=hash_token(raw)).exists():
            self.stderr.write(f"API token for {user.username!r} (the one kept in {path}):")
            self.stdout.write(raw)
            return
        revoked = services.token_revoke(token_ids=mine.values_list("pk", flat=True))
        if revoked:
            self.stderr.write(f"Revoked {revoked} earlier token(s) named {name!r}.")
        _, raw = services.token_create(user=user, name=name)
        path.write_text(raw + "\n")
        path.chmod(0o600)
        self.stderr.write(f"New API token for {user.username!r} (kept in {path}):")
        self.stdout.write(raw)
