import datetime as dt
import json
import math
import random
import uuid

from django.core.management.base import BaseCommand
from django.templatetags.static import static
from django.utils import timezone

from artifacts_app import services
from artifacts_app.models import FLOW_RUN, TASK_RUN, Artifact

# Time-ordered ids, as Prefect makes them: they share their first characters, so the dashboard
# must tell them apart by name (or by their last characters).
DEMO_FLOW_RUN = uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e0")
TASK_RUNS = [uuid.UUID(f"0190f1e4-0000-7000-8000-0000000000{i:02d}") for i in range(1, 4)]

# Two flows with several named runs each; the first nightly-etl run is DEMO_FLOW_RUN.
FLOWS = {
    "nightly-etl": [
        (DEMO_FLOW_RUN, "crimson-tiger", "Completed"),
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e1"), "amber-otter", "Completed"),
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e2"), "silent-heron", "Failed"),
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e3"), "brave-lynx", "Completed"),
    ],
    "train-model": [
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000e001"), "quick-falcon", "Completed"),
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000e002"), "gentle-moose", "Completed"),
        (uuid.UUID("0190f1e4-0000-7000-8000-00000000e003"), "witty-badger", "Running"),
    ],
}
TASK_NAMES = ["extract-orders-0", "transform-orders-0", "load-orders-0"]
TRAIN_TASKS = ["train-epochs-0", "evaluate-0"]

# 48 more keys (so the list pages): pipeline x artifact, attached to the nightly-etl runs.
PIPELINES = ["orders", "customers", "payments", "inventory", "shipping", "marketing"]
PIPELINE_ARTIFACTS = [
    "row-counts", "freshness", "schema-check", "summary", "null-rates", "load-progress",
    "sample", "dashboard",
]  # fmt: skip

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
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the dashboard will be served: the demo image artifact points at the "
            "chart in its static files, so it shows without internet access.",
        )

    def handle(self, *args, force=False, base_url="http://127.0.0.1:8000", **options):
        if Artifact.objects.exists() and not force:
            self.stdout.write("Demo data already present; skipping (use --force to add more).")
            return
        create = services.artifact_create
        self.seed_runs()
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
            data=f"{base_url.rstrip('/')}{static('artifacts/demo/throughput.svg')}",
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
        create(type=None, data={"note": "an untyped artifact: shown as JSON"})
        self.seed_more(create)
        self.stdout.write(f"Seeded {Artifact.objects.count()} demo artifacts.")

    def seed_runs(self):
        """Flow runs with names, start times and states, and their task runs."""
        now = timezone.now().replace(microsecond=0)
        runs = []
        for flow_index, (flow_name, flow_runs) in enumerate(FLOWS.items()):
            for n, (run_id, name, state) in enumerate(flow_runs):
                start = now - dt.timedelta(days=n, hours=2 + flow_index * 3)
                runs.append({"id": run_id, "kind": FLOW_RUN, "name": name,
                             "flow_name": flow_name, "start_time": start, "state": state})  # fmt: skip
                tasks = TASK_NAMES if flow_name == "nightly-etl" else TRAIN_TASKS
                for t, task_name in enumerate(tasks):
                    task_id = TASK_RUNS[t] if run_id == DEMO_FLOW_RUN else _task_id(run_id, t)
                    runs.append({"id": task_id, "kind": TASK_RUN, "name": task_name,
                                 "flow_run_id": run_id, "state": state,
                                 "start_time": start + dt.timedelta(minutes=t + 1)})  # fmt: skip
        services.run_upsert(runs=runs)

    def seed_more(self, create):
        """60+ keys, a key with 30 versions, a 2,500-row table, artifacts in every named run."""
        rng = random.Random(7)
        etl_runs = [run_id for run_id, _, _ in FLOWS["nightly-etl"]]
        for p, pipeline in enumerate(PIPELINES):
            run_id = etl_runs[p % len(etl_runs)]
            task_id = TASK_RUNS[p % 3] if run_id == DEMO_FLOW_RUN else _task_id(run_id, p % 3)
            for kind in PIPELINE_ARTIFACTS:
                key = f"{pipeline}-{kind}"
                runs = {"flow_run_id": run_id, "task_run_id": task_id}
                if kind in ("row-counts", "null-rates", "sample"):
                    rows = [{"column": c, "value": rng.randint(0, 5000)} for c in
                            ("id", "created_at", "amount", "status", "region")]  # fmt: skip
                    create(key=key, type="table", data=rows, description=f"{pipeline}: {kind}",
                           **runs)  # fmt: skip
                elif kind in ("freshness", "schema-check"):
                    minutes = rng.randint(2, 90)
                    create(key=key, type="markdown", **runs,
                           data=f"# {pipeline.title()} {kind}\n\nLatest row is **{minutes} min** old.")  # fmt: skip
                elif kind == "summary":
                    create(key=key, type="result", **runs,
                           data={"rows": rng.randint(1000, 90000), "ok": rng.random() > 0.2})  # fmt: skip
                elif kind == "load-progress":
                    create(key=key, type="progress", data=float(rng.choice([25, 60, 100])), **runs)
                else:
                    create(key=key, type="markdown", **runs,
                           data=f"[{pipeline} dashboard](https://example.com/dash/{pipeline})")  # fmt: skip
        for run_id, name, _ in FLOWS["train-model"]:
            create(key="train-summary", type="markdown", flow_run_id=run_id,
                   data=f"# Training run {name}\n\nBest epoch: {rng.randint(3, 9)}.",
                   task_run_id=_task_id(run_id, 1))  # fmt: skip
            create(key="eval-metrics", type="result", flow_run_id=run_id,
                   data={"accuracy": round(0.9 + rng.random() / 20, 4)},
                   task_run_id=_task_id(run_id, 1))  # fmt: skip
        revenue = 20_000.0
        for day in range(1, 31):  # a key with 30 versions (a trend over a month)
            revenue = round(revenue * (1 + rng.uniform(-0.04, 0.06)), 2)
            create(key="daily-revenue", type="table", description=f"Revenue, day {day}",
                   data=[{"day": day, "revenue": revenue, "orders": rng.randint(300, 520)}],
                   metadata={"revenue": str(revenue)}, flow_run_id=etl_runs[day % 4])  # fmt: skip
        statuses = ["paid", "paid", "paid", "shipped", "refunded", "pending"]
        regions = ["north", "south", "east", "west"]
        orders = [
            {"order_id": 100_000 + i, "region": rng.choice(regions), "status": rng.choice(statuses),
             "amount": round(rng.uniform(5, 900), 2), "items": rng.randint(1, 12)}
            for i in range(2500)
        ]  # fmt: skip
        create(key="orders-export", type="table", data=orders, flow_run_id=DEMO_FLOW_RUN,
               task_run_id=TASK_RUNS[2], description="Yesterday's orders (2,500 rows).")  # fmt: skip


def _task_id(flow_run_id: uuid.UUID, index: int) -> uuid.UUID:
    """A task run id of that flow run, time-ordered like the flow run's own."""
    return uuid.UUID(int=flow_run_id.int + 0x100 * (index + 1))
