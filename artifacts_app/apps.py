import contextlib
import ctypes

from django.apps import AppConfig
from django.db.backends.signals import connection_created

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


def read_timestamps_in_c(sender, connection, **kwargs) -> None:
    """PostgreSQL: timestamps parsed by psycopg's C loader. Django registers a subclass of
    psycopg's pure-Python loader on every connection (to pin the time zone), and that parses each
    value with a regular expression: 2.9 us against 0.16, or 14% of the CPU of a 50-row
    filter, which reads 100 of them (benchmarks/README.md). The loader registered here keeps
    Django's class and its `timezone` (Django checks it per cursor) and the result Django's
    gives: the connection's session time zone is Django's (Django sets it on connect)."""
    if connection.vendor != "postgresql":
        return
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from psycopg import adapters
    from psycopg.pq import Format

    oid = adapters.types["timestamptz"].oid
    c_loader = adapters.get_loader(oid, Format.TEXT)  # psycopg's own (C with psycopg[binary])

    class TimestamptzLoader(BaseTzLoader):
        timezone = connection.timezone

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.parse = c_loader(oid, context).load

        def load(self, data):
            return self.parse(data).replace(tzinfo=self.timezone)

    connection.connection.adapters.register_loader(oid, TimestamptzLoader)


class ArtifactsConfig(AppConfig):
    name = "artifacts_app"
    verbose_name = "Artifacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy checks

        return_big_blocks_to_the_os()
        connection_created.connect(read_timestamps_in_c, dispatch_uid="read_timestamps_in_c")
