"""Rewrite every artifact version's search document (artifacts_app.search).

Migration 0005 fills the index once; writes keep it current. Run this after changing what
`search.document_text` extracts, or after loading artifacts straight into the database (not
through `services`). Searches keep working meanwhile, finding fewer versions until it ends.

    manage.py rebuild_search_index [--batch 500]
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from artifacts_app import search


class Command(BaseCommand):
    help = "Rewrite the search documents of every artifact version, oldest first, with progress."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="versions per transaction")

    def handle(self, *args, batch=500, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        started = time.monotonic()
        last = [0.0]

        def progress(done, total):
            now = time.monotonic()
            if now - last[0] >= 2 or done == total:
                last[0] = now
                rate = done / max(now - started, 1e-6)
                self.stdout.write(f"{done:,} of {total:,} versions indexed ({rate:,.0f}/s)")

        done = search.rebuild(batch=batch, progress=progress)
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Indexed {done:,} versions in {seconds:.1f} s."))
