"""A Run row for every flow run and task run that artifacts written before 0004 name, so /runs/
lists them; first seen = the run's first artifact. Names come later (import, client, lookups)."""

from django.db import migrations
from django.db.models import Min

BATCH = 1000


def backfill(apps, schema_editor):
    Artifact = apps.get_model("artifacts_app", "Artifact")
    Run = apps.get_model("artifacts_app", "Run")

    def insert(rows):
        for start in range(0, len(rows), BATCH):
            Run.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)

    flows = (
        Artifact.objects.filter(flow_run_id__isnull=False)
        .order_by()
        .values("flow_run_id")
        .annotate(first=Min("created"))
    )
    batch = []
    for row in flows.iterator(chunk_size=BATCH):
        batch.append(
            Run(id=row["flow_run_id"], kind="flow", created=row["first"], updated=row["first"])
        )
        if len(batch) >= BATCH:
            insert(batch)
            batch = []
    insert(batch)
    tasks = (
        Artifact.objects.filter(task_run_id__isnull=False)
        .order_by()
        .values("task_run_id", "flow_run_id")  # a task run has one flow run (or none)
        .annotate(first=Min("created"))
    )
    batch = []
    for row in tasks.iterator(chunk_size=BATCH):
        batch.append(
            Run(id=row["task_run_id"], kind="task", flow_run_id=row["flow_run_id"],
                created=row["first"], updated=row["first"])
        )  # fmt: skip
        if len(batch) >= BATCH:
            insert(batch)
            batch = []
    insert(batch)


class Migration(migrations.Migration):
    dependencies = [("artifacts_app", "0007_search_unkeyed_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
