"""Migrations 0005-0010 index the versions stored before search existed: a database at 0004 with
artifacts in it is searchable after `migrate`, and migrating back and forth keeps it so."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from artifacts_app import search

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("artifacts_app", "0004_runs")]


def test_versions_stored_before_search_are_indexed_by_migrate():
    try:
        call_command("migrate", "artifacts_app", "0004_runs", verbosity=0)
        old_apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Artifact = old_apps.get_model("artifacts_app", "Artifact")
        Artifact.objects.create(
            key="legacy-report", type="markdown", description="Before search", data="# old words"
        )
        Artifact.objects.create(key=None, type="table", data='[{"region": "north"}]')
    finally:
        call_command("migrate", verbosity=0)
    keyed = search.search_versions(search.parse_query("legacy old words"), keyed=True)
    assert [hit.key for hit in keyed.hits] == ["legacy-report"]
    unkeyed = search.search_versions(search.parse_query("north"), keyed=False)
    assert len(unkeyed.hits) == 1
    prefix = search.search_versions(search.parse_query("wor"), keyed=True)
    assert len(prefix.hits) == 1
