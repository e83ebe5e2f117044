"""System checks of a deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_limits(app_configs, **kwargs):
    """Throttles and the login lockout must hold across every worker: without Redis they are
    counted in each process's memory, and the deploy's two workers allow twice the rate."""
    if settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: API throttles and the admin login lockout are counted per "
            "server process, so each worker (and machine) allows the whole rate.",
            hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), as README.md's deploy does.",
            id="artifacts.W001",
        )
    ]
