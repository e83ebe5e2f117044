import json
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


INVENTORY = {
    "A-100": {"item": "bolts", "units": 1200, "price": 0.12},
    "A-200": {"item": "nuts", "units": 800, "price": 0.08},
    "B-310": {"item": "washers", "units": 450, "price": 0.05},
    "C-020": {"item": "brackets", "units": 90, "price": 2.4},
    "D-777": {"item": "hinges", "units": 60, "price": 3.1},
}
# Each version: rows changed (merged), added (new sku) or removed (None), from the base table.
INVENTORY_VERSIONS = [
    {},
    {"A-100": {"units": 1130}, "C-020": {"units": 85}},
    {"A-100": {"units": 990}, "B-310": None, "E-500": {"item": "rivets", "units": 300, "price": 0.2}},
    {"A-100": {"units": 1410, "price": 0.11}, "B-310": None, "D-777": {"units": 42},
     "E-500": {"item": "rivets", "units": 280, "price": 0.2}},
]  # fmt: skip

HTML_REPORT = """<style>
  body { font-family: system-ui, sans-serif; margin: 1rem; color: #1b1f24; }
  .kpis { display: flex; gap: 1rem; } .kpi { background: #eef3ff; border-radius: 8px; padding: .75rem 1rem; }
  .kpi b { display: block; font-size: 1.6rem; color: #2f5bd3; }
</style>
<h2>Weekly pipeline report</h2>
<div class="kpis">
  <div class="kpi"><b>98.7%</b>successful runs</div>
  <div class="kpi"><b>4m 12s</b>median duration</div>
  <div class="kpi"><b id="clicks">0</b>clicks on the button</div>
</div>
<p><button id="more" type="button">Click me (scripts run inside the sandbox)</button></p>
<svg width="320" height="80" role="img" aria-label="Runs per day">
  <polyline fill="none" stroke="#2f5bd3" stroke-width="3" points="0,60 50,50 100,55 150,30 200,35 250,20 300,25"/>
</svg>
<script>
  var n = 0;
  document.getElementById("more").addEventListener("click", function () {
    document.getElementById("clicks").textContent = ++n;
  });
</script>
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
        for version, changes in enumerate(INVENTORY_VERSIONS, start=1):
            rows = {sku: dict(row) for sku, row in INVENTORY.items()}
            for sku, row in changes.items():
                if row is None:
                    rows.pop(sku, None)
                else:
                    rows[sku] = {**rows.get(sku, {}), **row}
            table = [{"sku": sku, **row} for sku, row in rows.items()]
            create(
                key="warehouse-inventory",
                type="table",
                data=json.dumps(table),
                description=f"Stock on hand, snapshot {version}",
                metadata={
                    "total_units": str(sum(r["units"] for r in table)),
                    "skus": str(len(table)),
                    "fill_rate": str(round(0.82 + version * 0.03, 3)),
                },
            )
        create(
            key="data-quality-report",
            type="markdown",
            data=REPORT.replace("| 3 |", "| 5 |").replace("**12**", "**11**"),
            description="Checks on **orders** (yesterday).",
        )
        create(
            key="weekly-report-html",
            type="html",
            data=HTML_REPORT,
            description="A rich HTML report (rendered in a sandboxed frame).",
            flow_run_id=DEMO_FLOW_RUN,
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
