"""Full-text search: one SearchDocument per artifact version (artifacts_app.search), filled for
the versions already stored, then indexed per database: PostgreSQL a stored tsvector column with
a GIN index, SQLite an FTS5 table kept in step by triggers. On both, deleting a version deletes
its document (a cascading foreign key; a trigger)."""

import django.db.models.deletion
from django.db import migrations, models

DOCUMENTS = "artifacts_app_searchdocument"
ARTIFACTS = "artifacts_app_artifact"
FTS = "artifact_search_fts"

NO_TIMEOUT = "SET LOCAL statement_timeout = 0"  # DJANGO_DB_STATEMENT_TIMEOUT is for requests

POSTGRESQL = [
    NO_TIMEOUT,
    f"""ALTER TABLE {DOCUMENTS} ADD COLUMN vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, body), 'B')) STORED""",
    f"CREATE INDEX search_vector ON {DOCUMENTS} USING gin (vector)",
    f"""ALTER TABLE {DOCUMENTS} ADD CONSTRAINT search_artifact_cascade
        FOREIGN KEY (artifact_id) REFERENCES {ARTIFACTS} (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED""",
]
POSTGRESQL_REVERSE = [
    f"ALTER TABLE {DOCUMENTS} DROP CONSTRAINT IF EXISTS search_artifact_cascade",
    "DROP INDEX IF EXISTS search_vector",
    f"ALTER TABLE {DOCUMENTS} DROP COLUMN IF EXISTS vector",
]
SQLITE = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(title, body, content='{DOCUMENTS}',
        content_rowid='id', tokenize='unicode61 remove_diacritics 0')""",
    f"""CREATE TRIGGER search_document_insert AFTER INSERT ON {DOCUMENTS} BEGIN
        INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
    f"""CREATE TRIGGER search_document_delete AFTER DELETE ON {DOCUMENTS} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body); END""",
    f"""CREATE TRIGGER search_document_update AFTER UPDATE ON {DOCUMENTS} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
    f"""CREATE TRIGGER search_artifact_cascade AFTER DELETE ON {ARTIFACTS} BEGIN
        DELETE FROM {DOCUMENTS} WHERE artifact_id = old.id; END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_artifact_cascade",
    "DROP TRIGGER IF EXISTS search_document_update",
    "DROP TRIGGER IF EXISTS search_document_delete",
    "DROP TRIGGER IF EXISTS search_document_insert",
    f"DROP TABLE IF EXISTS {FTS}",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


def backfill(apps, schema_editor):
    from artifacts_app import search

    def progress(done, total):
        if done % 50_000 < 500 or done == total:
            print(f"  search documents: {done:,} of {total:,} versions", flush=True)

    search.rebuild(
        artifact_model=apps.get_model("artifacts_app", "Artifact"),
        document_model=apps.get_model("artifacts_app", "SearchDocument"),
        progress=progress,
        terms=False,  # SQLite's word list comes with 0010, filled from the index
    )


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ("artifacts_app", "0004_runs"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("created", models.DateTimeField()),
                ("title", models.TextField(blank=True, default="")),
                ("body", models.TextField(blank=True, default="")),
                (
                    "artifact",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="search_document",
                        to="artifacts_app.artifact",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["-created"], name="search_created")],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
