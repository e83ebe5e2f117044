import json

import pytest

from artifacts_app import charts
from artifacts_app.models import Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def test_parse_spec():
    assert charts.parse_spec("progress") == ("progress", "", None)
    assert charts.parse_spec("meta:loss") == ("meta", "loss", None)
    assert charts.parse_spec("cell:a:b:3") == ("cell", "a:b", 3)
    assert charts.parse_spec("mean:loss") == ("mean", "loss", None)
    for bad in ("", "meta:", "cell:x:0", "cell:x", "median:x", "nope"):
        with pytest.raises(ValueError, match="Unknown series"):
            charts.parse_spec(bad)


def test_numbers():
    assert charts.number("1,200.5") == 1200.5
    assert charts.number(" 3 ") == 3.0
    for bad in ("nan", "inf", "", "abc", True, None, [1]):
        assert charts.number(bad) is None


def test_metadata_trend_points_link_to_versions_oldest_first():
    versions = [ArtifactFactory(key="k", metadata={"loss": str(v)}) for v in (0.9, 0.5, 0.7)]
    ArtifactFactory(key="k", metadata={"loss": "n/a"})
    chart = charts.trend_chart("k", "meta:loss")
    assert [p.value for p in chart.points] == [0.9, 0.5, 0.7]
    assert [p.url for p in chart.points] == [f"/artifacts/artifact/{v.pk}/" for v in versions]
    assert [p.version for p in chart.points] == [1, 2, 3]
    assert chart.missing == 1
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs)
    assert xs[0] == chart.plot_left
    assert xs[-1] == chart.plot_right
    lowest = min(chart.points, key=lambda p: p.value)
    assert lowest.y == max(p.y for p in chart.points)  # SVG y grows downwards
    assert all(chart.plot_top <= p.y <= chart.plot_bottom for p in chart.points)
    assert "from 0.9 (version 1) to 0.7 (version 3)" in chart.description


def test_progress_and_table_series():
    ArtifactFactory(key="p", progress=True, data=10)
    ArtifactFactory(key="p", progress=True, data=60)
    assert [p.value for p in charts.trend_chart("p", "progress").points] == [10, 60]
    ArtifactFactory(key="t", type="table", data={"x": [1, 2, 3], "name": ["a", "b", "c"]})
    ArtifactFactory(key="t", type="table", data={"x": [4, 5], "name": ["a", "b"]})
    assert [p.value for p in charts.trend_chart("t", "sum:x").points] == [6, 9]
    assert [p.value for p in charts.trend_chart("t", "mean:x").points] == [2, 4.5]
    assert [p.value for p in charts.trend_chart("t", "cell:x:2").points] == [2, 5]
    assert [p.value for p in charts.trend_chart("t", "count:rows").points] == [3, 2]
    assert charts.trend_chart("t", "cell:x:3").missing == 1


def test_available_series():
    ArtifactFactory(
        key="t", type="table", data={"x": [1, 2], "name": ["a", "b"]}, metadata={"n": "3", "s": "x"}
    )
    latest = Artifact.objects.for_key("t").first()
    specs = {s.spec for s in charts.available_series(charts.recent_versions("t"), latest)}
    assert {"meta:n", "mean:x", "sum:x", "count:rows"} <= specs
    assert "meta:s" not in specs
    assert not any(spec.endswith(":name") for spec in specs)


def test_a_flat_series_still_has_a_range():
    ArtifactFactory(key="f", metadata={"v": "5"})
    ArtifactFactory(key="f", metadata={"v": "5"})
    chart = charts.trend_chart("f", "meta:v")
    assert len({p.y for p in chart.points}) == 1
    assert len(chart.ticks) >= 2


def test_counters_are_not_offered():
    """Noise series stay out of the picker: a metadata counter by name or by its values, and
    every aggregate of an index-like column (epoch, step, id, 0..n)."""
    for v in range(1, 5):
        ArtifactFactory(
            key="c",
            type="table",
            data={
                "epoch": [0, 1, 2, 3],
                "row": [10, 11, 12, 13],
                "loss": [0.9, 0.5, 0.4, 0.3 / v],
                "order_id": [7, 3, 9, 1],
            },
            metadata={"version": str(v), "n_runs": str(40 + v), "loss": str(1 / v), "k": "x"},
        )
    latest = Artifact.objects.for_key("c").first()
    specs = [s.spec for s in charts.available_series(charts.recent_versions("c"), latest)]
    assert specs == [
        "meta:loss",
        "mean:loss",
        "sum:loss",
        "max:loss",
        "min:loss",
        "last:loss",
        "count:rows",
    ]
    # Still chartable by their spec (the URL), and then offered in the picker.
    context = charts.trend_context("c", "meta:version")
    assert [p.value for p in context["chart"].points] == [1, 2, 3, 4]
    assert "meta:version" in [s.spec for s in context["series"]]


def test_human_numbers():
    assert charts.human(21080) == "21,080"
    assert charts.human(31910.0) == "31,910"
    assert charts.human(21080.5) == "21,080.5"
    assert charts.human(0.42) == "0.42"
    assert charts.human(0.4213) == "0.421"
    assert charts.human(3.14159) == "3.142"
    assert charts.human(1_234_567.5) == "1.23M"
    assert charts.human(2.5e9 + 0.5) == "2.5B"
    assert charts.human(0.000012) == "0.000012"
    assert charts.human(-3.5) == "-3.5"
    assert charts.compact(22500) == "22.5k"
    assert charts.compact(20000) == "20k"
    assert charts.compact(1_200_000) == "1.2M"
    assert charts.compact(950) == "950"


def test_chart_text_has_human_numbers_and_several_version_ticks(client):
    for v in range(30):
        ArtifactFactory(key="rev", metadata={"total": str(21080 + v * 373.1)})
    chart = charts.trend_chart("rev", "meta:total")
    assert "from 21,080 (version 1)" in chart.description
    assert "highest 31,899.9" in chart.description
    assert [t.label for t in chart.x_ticks] == ["v1", "v7", "v13", "v18", "v24", "v30"]
    assert chart.x_ticks[0].anchor == "start"
    assert chart.x_ticks[-1].anchor == "end"
    assert all("e+" not in t.label and "," not in t.label for t in chart.ticks)
    html = client.get("/artifacts/key/rev/").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count('<line class="x-tick"') == 6
    assert ">v13</text>" in svg
    assert ">25k</text>" in svg
    assert '<td class="num">31,899.9</td>' in html
    assert "e+0" not in html


def test_table_trend_parses_a_bounded_amount_of_data(monkeypatch):
    monkeypatch.setattr(charts, "TABLE_CELL_BUDGET", 180)
    for n in range(6):
        ArtifactFactory(key="big", type="table", data=json.dumps({"x": [n] * 10}))  # 40 chars
    chart = charts.trend_chart("big", "last:x")
    assert [p.value for p in chart.points] == [1, 2, 3, 4, 5]  # the newest that fit (5 x 40 > 180)
    assert [p.version for p in chart.points] == [2, 3, 4, 5, 6]
