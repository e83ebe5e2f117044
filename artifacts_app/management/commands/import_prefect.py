import datetime as dt
import os
import signal
import time

from django.core.management.base import BaseCommand, CommandError

from artifacts_app.prefect_import import PrefectAPI, PrefectAPIError, PrefectImport

FOLLOW_MARGIN = dt.timedelta(seconds=5)  # re-read a little before the newest `updated` seen


class Command(BaseCommand):
    help = (
        "Copy every artifact version of a Prefect server (ids, times, run ids and run names "
        "preserved). Safe to run again: only what is new or changed is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", help="Prefect's API base, e.g. http://127.0.0.1:4200/api")
        parser.add_argument("--api-key", help="Prefect Cloud API key (default: PREFECT_API_KEY).")
        parser.add_argument(
            "--auth-string",
            help="user:password of a server with PREFECT_SERVER_API_AUTH_STRING "
            "(default: PREFECT_API_AUTH_STRING).",
        )
        parser.add_argument("--since", help="Only artifacts updated at or after this ISO time.")
        parser.add_argument(
            "--follow", action="store_true", help="Keep polling for new and updated artifacts."
        )
        parser.add_argument(
            "--interval", type=float, default=10.0, help="Seconds between polls (--follow)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Read and count; write nothing.")

    def handle(
        self, *args, url, api_key=None, auth_string=None, since=None, follow=False, interval=10.0,
        **options,
    ):  # fmt: skip
        if since is not None:
            try:
                since = dt.datetime.fromisoformat(since)
            except ValueError:
                raise CommandError(f"--since {since!r} is not an ISO time.") from None
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
        if interval <= 0:
            raise CommandError("--interval must be above 0.")
        stopping = []
        if follow:  # SIGTERM ends the loop between polls, like Ctrl-C
            signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        api = PrefectAPI(
            url,
            api_key or os.environ.get("PREFECT_API_KEY") or None,
            auth_string=auth_string or os.environ.get("PREFECT_API_AUTH_STRING") or None,
        )
        importer = PrefectImport(api, dry_run=options["dry_run"], out=self.stdout.write)
        try:
            summary = importer.run(since)
            self.report(summary, options["dry_run"])
            newest = summary.newest_updated or since
            importer.out = lambda line: None  # polls report only what they changed
            while follow and not stopping:
                self.sleep(interval, stopping)
                if stopping:
                    break
                try:
                    summary = importer.run(newest - FOLLOW_MARGIN if newest else None)
                except PrefectAPIError as exc:  # Prefect restarting: keep following
                    self.stdout.write(f"{exc}; trying again in {interval:g} s")
                    continue
                if summary.new or summary.updated or summary.refused:
                    self.report(summary, options["dry_run"])
                if summary.newest_updated and (not newest or summary.newest_updated > newest):
                    newest = summary.newest_updated
        except PrefectAPIError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            self.stdout.write("Interrupted; running the command again resumes.")
        finally:
            api.close()

    @staticmethod
    def sleep(seconds, stopping):
        deadline = time.monotonic() + seconds
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, seconds))

    def report(self, summary, dry_run):
        verb = "Would write" if dry_run else "Done"
        self.stdout.write(
            f"{verb}: {summary.read:,} artifacts read in {summary.seconds:.1f} s "
            f"({summary.rate:,.0f}/s): {summary.new:,} new, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged, {len(summary.refused):,} refused; "
            f"{summary.runs_named:,} runs named."
        )
        for artifact_id, key, reason in summary.refused:
            self.stdout.write(f"  refused {artifact_id} (key {key!r}): {reason}")
