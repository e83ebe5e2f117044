"""A table's sort, filter and page live in its page's URL; downloads take the same state; the
filter matches every word in any cell; every sortable header carries a sort cue (issue 14,
item 4)."""

import csv
import io
import json
import re

import pytest
from pytest_django.asserts import assertContains

from artifacts_app import rendering, services
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}

ORDERS = [
    {"id": i, "region": ["north", "south", "east"][i % 3], "status": ["paid", "refunded"][i % 2],
     "amount": (i * 37) % 101}
    for i in range(90)
]  # fmt: skip


@pytest.fixture
def orders():
    return services.artifact_create(key="orders", type="table", data=ORDERS)


def cells(html, name):
    """The cells of column `name` in the grid, top to bottom (PostgreSQL's jsonb reorders the
    keys of a row object, so columns are found by name)."""
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    column = re.findall(r'title="Sort by ([^"]+)"', head).index(name)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row)[column] for row in body.split("<tr>")[1:]]


def test_filter_words_in_any_order_and_any_cell():
    rows = [["Refunded", "north"], ["paid", "north"], ["refunded", "south"], ["new york", "x"]]
    assert rendering.filter_rows(rows, "north refunded") == [["Refunded", "north"]]
    assert rendering.filter_rows(rows, "REFUNDED") == [["Refunded", "north"], ["refunded", "south"]]
    assert rendering.filter_rows(rows, "  ") == rows
    assert rendering.filter_rows(rows, '"new york"') == [["new york", "x"]]
    assert rendering.filter_rows(rows, '"york new"') == []
    assert rendering.filter_rows([["new", "york"]], '"new york"') == []  # a phrase is one cell


def test_the_page_url_holds_sort_filter_and_page(client, orders):
    response = client.get(
        "/artifacts/key/orders/?sort=amount&dir=desc&filter=refunded+north&table_page=2"
    )
    html = response.content.decode()
    amounts = [int(a) for a in cells(html, "amount")]
    assert amounts == sorted(amounts, reverse=True)
    assert len(amounts) == 15 - 0  # 15 refunded rows in the north: page 2 would be empty
    assertContains(response, "Rows 1–15 of 15 (filtered from 90)")
    assertContains(response, 'value="refunded north"')
    assertContains(response, '<th scope="col" aria-sort="descending">', count=1)


def test_every_sortable_header_has_a_cue_before_any_click(client, orders):
    html = client.get("/artifacts/key/orders/").content.decode()
    headers = re.findall(r'<th scope="col" aria-sort="([a-z]+)">', html)
    assert headers == ["none", "none", "none", "none"]
    assert html.count('<span class="sort-mark idle" aria-hidden="true">↕</span>') == 4
    # Each header links to the page sorted by it (ascending first), keeping the filter.
    filtered = client.get("/artifacts/key/orders/?filter=paid&series=meta:x").content.decode()
    assert (
        'href="/artifacts/key/orders/?series=meta%3Ax&amp;sort=amount&amp;dir=asc&amp;filter=paid"'
        in filtered
    )
    sorted_page = client.get("/artifacts/key/orders/?sort=amount").content.decode()
    assert '<span class="sort-mark" aria-hidden="true">▲</span>' in sorted_page
    assert "sort=amount&amp;dir=desc" in sorted_page  # a second click sorts descending


def test_the_grid_fragment_pushes_the_page_url(client, orders):
    page_url = "http://testserver/artifacts/key/orders/?series=meta%3Ax&page=2"
    headers = {**HX, "HX-Current-URL": page_url, "HX-Trigger": "whatever"}
    response = client.get(
        f"/artifacts/artifact/{orders.pk}/table/?sort=amount&dir=asc&table_page=2", headers=headers
    )
    assert response["HX-Push-Url"] == (
        "/artifacts/key/orders/?series=meta%3Ax&page=2&sort=amount&dir=asc&table_page=2"
    )
    assert response["Cache-Control"] == "no-store"
    # Typing in the filter replaces the address instead of adding to the history; page 1.
    typing = {**headers, "HX-Trigger": f"table-form-{orders.pk}"}
    response = client.get(
        f"/artifacts/artifact/{orders.pk}/table/?sort=amount&dir=asc&filter=south", headers=typing
    )
    assert "HX-Push-Url" not in response
    assert response["HX-Replace-Url"] == (
        "/artifacts/key/orders/?series=meta%3Ax&page=2&sort=amount&dir=asc&filter=south"
    )
    # Another site's URL is not trusted: the links point at the artifact's own page.
    foreign = {**HX, "HX-Current-URL": "https://evil.example/x/"}
    response = client.get(f"/artifacts/artifact/{orders.pk}/table/?sort=id", headers=foreign)
    assert response["HX-Push-Url"] == f"/artifacts/artifact/{orders.pk}/?sort=id&dir=asc"


def test_downloads_honour_filter_and_sort(client, orders):
    html = client.get(
        "/artifacts/key/orders/?sort=amount&dir=desc&filter=refunded"
    ).content.decode()
    csv_url = re.search(r'href="([^"]*download\.csv[^"]*)"', html).group(1).replace("&amp;", "&")
    json_url = re.search(r'href="([^"]*download\.json[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "Download these 45 rows, sorted:" in html
    rows = list(csv.reader(io.StringIO(client.get(csv_url).content.decode())))
    assert sorted(rows[0]) == ["amount", "id", "region", "status"]
    assert len(rows) == 46
    status, amount = rows[0].index("status"), rows[0].index("amount")
    assert {row[status] for row in rows[1:]} == {"refunded"}
    amounts = [int(row[amount]) for row in rows[1:]]
    assert amounts == sorted(amounts, reverse=True)
    records = json.loads(client.get(json_url).content)
    assert len(records) == 45
    assert all(isinstance(r["amount"], int) for r in records)  # values as sent, not as text
    assert [r["amount"] for r in records] == amounts
    everything = client.get(f"/artifacts/artifact/{orders.pk}/download.csv")
    assert len(everything.content.decode().splitlines()) == 91


def test_no_js_filter_form_submits_to_the_page(client, orders):
    html = client.get("/artifacts/key/orders/?series=meta:x&sort=id").content.decode()
    form = html[
        html.index('<form class="table-tools"') : html.index(
            "</form>", html.index('<form class="table-tools"')
        )
    ]
    assert 'action="/artifacts/key/orders/"' in form
    assert '<input type="hidden" name="series" value="meta:x">' in form
    assert f'form="table-form-{orders.pk}" type="hidden" name="sort" value="id"' in html


def test_the_table_scrolls_only_sideways():
    css = (ROOT / "static" / "artifacts" / "app.css").read_text(encoding="utf-8")
    rule = re.search(r"\.table-scroll \{([^}]*)\}", css).group(1)
    assert "max-height" not in rule
    assert "overflow-x: auto" in rule


def test_a_preview_counts_the_rows_it_shows(client):
    import uuid

    run = uuid.uuid4()
    services.artifact_create(
        key="t", type="table", data=[{"n": i} for i in range(40)], flow_run_id=run
    )
    html = client.get(f"/runs/flow-run/{run}/").content.decode()
    assert "Rows 1–10 of 40" in html
    assert "Open full table →" in html
