import contextlib
import ctypes

from django.apps import AppConfig

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD_BYTES = 1024 * 1024


def return_big_blocks_to_the_os() -> None:
    """Allocations of 1 MB and more get their own mapping, handed back to the OS when freed.

    glibc otherwise raises that threshold to the largest block freed so far, so after one big
    value (SQLite copying a 7 MB table to measure it, a decoded JSON document) every thread's
    arena keeps such blocks for reuse: 16 concurrent requests touching a 7.5 MB table held a
    worker at 304 MB RSS, 145 MB with this (benchmarks/README.md)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


class ArtifactsConfig(AppConfig):
    name = "artifacts_app"
    verbose_name = "Artifacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        return_big_blocks_to_the_os()
