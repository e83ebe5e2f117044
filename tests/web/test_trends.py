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


def test_counters_are_not_the_default_series():
    ArtifactFactory(key="c", metadata={"version": "1", "loss": "0.5"})
    specs = [s.spec for s in charts.available_series(charts.recent_versions("c"))]
    assert specs == ["meta:loss", "meta:version"]


def test_table_trend_parses_a_bounded_amount_of_data(monkeypatch):
    monkeypatch.setattr(charts, "TABLE_CELL_BUDGET", 180)
    for n in range(6):
        ArtifactFactory(key="big", type="table", data=json.dumps({"x": [n] * 10}))  # 40 chars
    chart = charts.trend_chart("big", "last:x")
    assert [p.value for p in chart.points] == [1, 2, 3, 4, 5]  # the newest that fit (5 x 40 > 180)
    assert [p.version for p in chart.points] == [2, 3, 4, 5, 6]
