from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from artifacts_app import services


class Command(BaseCommand):
    help = (
        "Apply retention: keep the last N versions of every key and/or drop versions older than "
        "a TTL (ARTIFACTS_RETENTION_* settings, per-key overrides). Pinned versions never go."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would go.")
        parser.add_argument("--keep-last", type=int, help="Override ARTIFACTS_RETENTION_KEEP_LAST.")
        parser.add_argument("--ttl-days", type=float, help="Override ARTIFACTS_RETENTION_TTL_DAYS.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Ids per transaction.")

    def handle(
        self, *args, dry_run=False, keep_last=None, ttl_days=None, batch_size=1000, **options
    ):
        keep_last = settings.ARTIFACTS_RETENTION_KEEP_LAST if keep_last is None else keep_last
        ttl_days = settings.ARTIFACTS_RETENTION_TTL_DAYS if ttl_days is None else ttl_days
        overrides = settings.ARTIFACTS_RETENTION_OVERRIDES
        if (keep_last or 0) < 0 or (ttl_days or 0) < 0 or batch_size < 1:
            raise CommandError("--keep-last and --ttl-days must be >= 0, --batch-size >= 1.")
        if not keep_last and not ttl_days and not overrides:
            self.stdout.write("No retention configured (ARTIFACTS_RETENTION_*); nothing to do.")
            return
        report = services.artifact_prune(
            keep_last=keep_last,
            ttl_days=ttl_days,
            overrides=overrides,
            dry_run=dry_run,
            batch_size=batch_size,
        )
        verb = "Would delete" if dry_run else "Deleted"
        for key, count in sorted(report.keys.items(), key=lambda item: item[0] or ""):
            self.stdout.write(f"{verb} {count} version(s) of {key or '(unkeyed artifacts)'}")
        if dry_run and options.get("verbosity", 1) > 1:
            for pk in report.ids:
                self.stdout.write(f"  {pk}")
        summary = f"{verb} {report.deleted} artifact(s) in {report.batches} batch(es)"
        if not dry_run:
            summary += (
                f"; {report.collections_repointed} key(s) re-pointed to an older version,"
                f" {report.collections_removed} key(s) removed"
            )
        if not dry_run and report.batches:
            summary += f"; longest batch {report.longest_batch_seconds * 1000:.0f} ms"
        self.stdout.write(summary + ".")
