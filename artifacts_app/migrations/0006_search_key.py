"""The version's key on its search document, so the keyed/unkeyed tabs and grouping by key need
no join to the versions (a phrase matching 6,000 of a million versions: 66 ms -> 18 ms). On
SQLite the FTS5 update trigger now fires only when the text changes."""

from django.db import migrations, models

DOCUMENTS = "artifacts_app_searchdocument"
FTS = "artifact_search_fts"

FILL = f"""UPDATE {DOCUMENTS} SET key = (
    SELECT a.key FROM artifacts_app_artifact a WHERE a.id = {DOCUMENTS}.artifact_id)"""

SQLITE_TRIGGER = f"""CREATE TRIGGER search_document_update AFTER UPDATE OF title, body ON {DOCUMENTS}
    BEGIN
    INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS search_document_update")
        schema_editor.execute(FILL)
        schema_editor.execute(SQLITE_TRIGGER)
    else:  # one statement over every document: longer than the requests' statement timeout
        schema_editor.execute("SET LOCAL statement_timeout = 0")
        schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("artifacts_app", "0005_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="key",
            field=models.CharField(blank=True, max_length=2000, null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
