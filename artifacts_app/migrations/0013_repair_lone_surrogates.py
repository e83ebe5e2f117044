"""Rows written before the API refused lone surrogates (jsoncheck) may hold one in `data` or
`metadata_`: SQLite kept it as a `\\ud800` escape in the JSON text, and every page, download and
API read of such a row failed (UTF-8 cannot encode it). Each one becomes U+FFFD. PostgreSQL's
jsonb never accepted one: nothing to do there."""

import json
import re

from django.db import migrations

LONE = re.compile("[\ud800-\udfff]")
# A surrogate escape (a valid pair, such as an emoji, matches too; the decoded text decides)
CANDIDATE = r"\\u[dD][89abAB]|\\u[dD][c-fC-F]"
BATCH = 500


def _repair(value):
    if isinstance(value, str):
        return LONE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_repair(item) for item in value]
    if isinstance(value, dict):
        return {_repair(name): _repair(item) for name, item in value.items()}
    return value


def repair(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    pattern = re.compile(CANDIDATE)
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM artifacts_app_artifact"
            " WHERE instr(lower(data), '\\ud') > 0 OR instr(lower(metadata_), '\\ud') > 0"
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"SELECT id, data, metadata_ FROM artifacts_app_artifact WHERE id IN ({marks})",
                batch,
            )
            rows = cursor.fetchall()
        for pk, data, metadata in rows:
            changes = {}
            for column, text in (("data", data), ("metadata_", metadata)):
                if text is None or not pattern.search(text):
                    continue
                value = json.loads(text)
                repaired = _repair(value)
                if repaired != value:
                    changes[column] = json.dumps(repaired)
            if changes:
                assignments = ", ".join(f"{column} = %s" for column in changes)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE artifacts_app_artifact SET {assignments} WHERE id = %s",
                        [*changes.values(), pk],
                    )


class Migration(migrations.Migration):
    dependencies = [("artifacts_app", "0012_run_index_covers_type")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
