import math
import uuid

from django.core.management.base import BaseCommand

from artifacts_app import services
from artifacts_app.models import Artifact

DEMO_FLOW_RUN = uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e0")
TASK_RUNS = [uuid.UUID(f"0190f1e4-0000-7000-8000-0000000000{i:02d}") for i in range(1, 4)]

REPORT = """# Nightly data-quality report

All **12** checks ran against `warehouse.orders`.

| check | status | rows |
|---|---|---|
| not-null `order_id` | pass | 120,442 |
| unique `order_id` | pass | 120,442 |
| `amount` >= 0 | **fail** | 3 |

```sql
select * from orders where amount < 0;
```

See the [runbook](https://example.com/runbooks/dq) for what to do next.
"""


class Command(BaseCommand):
    help = "Create demo artifacts: every type, several versions of one key, a run with task runs."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even if artifacts exist.")

    def handle(self, *args, force=False, **options):
        if Artifact.objects.exists() and not force:
            self.stdout.write("Demo data already present; skipping (use --force to add more).")
            return
        create = services.artifact_create
        for version, loss in enumerate([0.92, 0.61, 0.44, 0.37, 0.31], start=1):
            create(
                key="model-loss",
                type="table",
                description=f"Training metrics, run {version}",
                data=[
                    {
                        "epoch": e,
                        "loss": round(loss / (1 + e / 3), 4),
                        "accuracy": None if e == 0 else round(0.5 + e * 0.08, 3),
                    }
                    for e in range(5)
                ],
                metadata={"version": str(version), "loss": str(loss)},
            )
        create(
            key="data-quality-report",
            type="markdown",
            data=REPORT,
            description="Checks on **orders**; see `dq` flow.",
            flow_run_id=DEMO_FLOW_RUN,
            task_run_id=TASK_RUNS[0],
        )
        create(
            key="sales-by-region",
            type="table",
            data='{"region": ["north", "south", "east", "west"], "sales": [1200.5, 980, null, 1530.25]}',
            description="Sales per region, sent as Prefect does (a JSON string).",
            flow_run_id=DEMO_FLOW_RUN,
            task_run_id=TASK_RUNS[1],
        )
        create(
            key="docs-link",
            type="markdown",
            data="[Pipeline documentation](https://example.com/docs/pipeline)",
            description="A link artifact as Prefect sends it.",
            flow_run_id=DEMO_FLOW_RUN,
        )
        create(
            key="throughput-chart",
            type="image",
            data="https://example.com/charts/throughput.png",
            description="Throughput chart",
            flow_run_id=DEMO_FLOW_RUN,
            task_run_id=TASK_RUNS[2],
        )
        create(
            key="training-progress",
            type="progress",
            data=37.5,
            description="Epochs done",
            flow_run_id=DEMO_FLOW_RUN,
        )
        create(
            key="etl-complete",
            type="progress",
            data=100.0,
            description="Finished load",
            flow_run_id=DEMO_FLOW_RUN,
        )
        create(
            key="model-result",
            type="result",
            data={"accuracy": 0.947, "f1": 0.93, "params": {"depth": 6, "lr": 0.05}},
            description="Final evaluation",
            flow_run_id=DEMO_FLOW_RUN,
            task_run_id=TASK_RUNS[2],
        )
        create(
            key="matrix",
            type="table",
            data=[[1, 2, 3], [4, 5, 6], [7, 8, math.pi]],
            description="A list-of-lists table",
        )
        create(
            type="markdown",
            data="An *unkeyed* note from an ad-hoc script.",
            description="Scratch note",
        )
        create(
            type="table",
            data={
                "step": ["extract", "transform", "load"],
                "seconds": [12.1, 30.7, 8.2],
            },
            flow_run_id=DEMO_FLOW_RUN,
            task_run_id=TASK_RUNS[1],
        )
        self.stdout.write(f"Seeded {Artifact.objects.count()} demo artifacts.")
