"""How a run is shown everywhere: its name (flow name / run name, or the task run's name) linking to
its page, the full id in the link's title and on the run page; without a name, the last 12
characters of the id (time-ordered UUIDs share their first ones). Views put the page's runs in the
context as `runs` ({id: Run}, web.runs.runs_of) so a page looks them up in one query."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

from artifacts_app.models import FLOW_RUN, TASK_RUN, Run, short_id

register = template.Library()


def _run(context, run_id, kind):
    """The Run of `run_id` from the page's `runs` (a run missing there has no row: no query per
    card); looked up (and remembered for this render) only when a view brought no `runs`."""
    if not run_id:
        return None
    runs = context.get("runs")
    if runs is not None:  # the view's one query: a run it did not find has no row
        return runs.get(run_id) or Run(id=run_id, kind=kind)
    looked_up = context.render_context.setdefault("runs_looked_up", {})
    if run_id not in looked_up:
        looked_up[run_id] = Run.objects.filter(pk=run_id).first()
    return looked_up[run_id] or Run(id=run_id, kind=kind)


def flow_run_text(run) -> str:
    if run.name:
        return f"{run.flow_name} / {run.name}" if run.flow_name else run.name
    return ""


@register.simple_tag(takes_context=True)
def run_link(context, flow_run_id=None, task_run_id=None, bare=False):
    """A link to the run: the task run when `task_run_id` is given, else the flow run. `bare`
    leaves out the words "flow run"/"task run" where a label already says them."""
    if task_run_id:
        run = _run(context, task_run_id, TASK_RUN)
        url = reverse("artifacts:task_run", args=[task_run_id])
        title, words, text = f"Task run {task_run_id}", "task run", run.name
    elif flow_run_id:
        run = _run(context, flow_run_id, FLOW_RUN)
        url = reverse("artifacts:run", args=[flow_run_id])
        title, words, text = f"Flow run {flow_run_id}", "flow run", flow_run_text(run)
    else:
        return ""
    if text:
        label = format_html('<span class="run-name">{}</span>', text)
        if not bare and task_run_id:
            label = format_html("{} {}", words, label)
    else:
        label = format_html("<code>{}</code>", short_id(run.id))
        if not bare:
            label = format_html("{} {}", words, label)
    return format_html('<a class="run-link" href="{}" title="{}">{}</a>', url, title, label)


@register.simple_tag
def prefect_run_url(run_id, kind=FLOW_RUN):
    """The run's page in Prefect's UI (ARTIFACTS_PREFECT_UI_URL), or "" when it is not set."""
    base = settings.ARTIFACTS_PREFECT_UI_URL
    if not base or not run_id:
        return ""
    path = "task-run" if kind == TASK_RUN else "flow-run"
    return f"{base}/runs/{path}/{run_id}"


@register.filter
def run_label(run) -> str:
    """A Run as text: "flow / run", the task run's name, or the id's last 12 characters."""
    return run.label if run is not None else ""


@register.filter
def short_run_id(value) -> str:
    return short_id(value)
