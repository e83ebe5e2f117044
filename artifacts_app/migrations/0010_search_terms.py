"""SQLite: every word ever indexed, in a plain table, so a prefix turns into the words it stands
for with one index seek. 0009's fts5vocab table did that too, but it counts each word's
documents as it lists them (75 ms for a word in 875,000 documents); it fills this table once
and goes. Written by `search.note_terms` with each document. PostgreSQL needs nothing."""

from django.db import migrations

SQLITE = [
    "CREATE TABLE artifact_search_term (term TEXT PRIMARY KEY) WITHOUT ROWID",
    "INSERT OR IGNORE INTO artifact_search_term (term) SELECT term FROM artifact_search_vocab",
    "DROP TABLE artifact_search_vocab",
]
SQLITE_REVERSE = [
    "CREATE VIRTUAL TABLE artifact_search_vocab USING fts5vocab('artifact_search_fts', 'row')",
    "DROP TABLE IF EXISTS artifact_search_term",
]


def _on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("artifacts_app", "0009_search_vocab")]

    operations = [migrations.RunPython(_on_sqlite(SQLITE), _on_sqlite(SQLITE_REVERSE))]
