"""Cards show content, not source; a list layout kept in the URL; each key's version count
without a query per card (issue 14, item 7)."""

import re

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import rendering, services
from artifacts_app.models import Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
REPORT = """# Nightly data-quality report

All **12** checks ran against `warehouse.orders`.

| check | status | rows |
|---|---|---|
| `amount` >= 0 | **fail** | 3 |

```sql
select * from orders where amount < 0;
```
"""
HTML_REPORT = """<style>
  body { font-family: system-ui, sans-serif; } .kpi b { display: block; }
</style>
<h2>Weekly pipeline report</h2>
<div class="kpis"><div class="kpi"><b>98.7%</b>successful runs</div></div>
<p><button id="more" type="button">Click me</button></p>
<script>document.getElementById("more").addEventListener("click", function () {});</script>
"""


def card_of(html, key):
    start = html.index(f'href="/artifacts/key/{key}/">{key}</a>')
    return html[start : html.index("</li>", start)]


def test_markdown_card_is_a_plain_text_excerpt(client):
    services.artifact_create(key="nightly", type="markdown", data=REPORT)
    card = card_of(client.get("/artifacts/").content.decode(), "nightly")
    assert "Nightly data-quality report. All 12 checks ran against warehouse.orders." in card
    for source in ("# Nightly", "**", "| check", "```", "select *"):
        assert source not in card


def test_html_card_never_shows_its_source(client):
    services.artifact_create(key="weekly", type="html", data=HTML_REPORT)
    services.artifact_create(
        key="empty-html", type="html", data="<style>p{}</style><script>x()</script>"
    )
    html = client.get("/artifacts/").content.decode()
    card = card_of(html, "weekly")
    assert "Weekly pipeline report 98.7% successful runs" in card
    for source in ("&lt;style", "font-family", "&lt;script", "getElementById", "&lt;h2"):
        assert source not in card
    assert "HTML document (no text)" in card_of(html, "empty-html")


def test_image_card_has_a_lazy_no_referrer_thumbnail(client):
    services.artifact_create(key="chart", type="image", data="https://example.com/chart.png")
    html = client.get("/artifacts/").content.decode()
    card = card_of(html, "chart")
    assert (
        '<img src="https://example.com/chart.png" alt="Thumbnail of chart" loading="lazy"'
        ' decoding="async" referrerpolicy="no-referrer">'
    ) in card
    assert ">https://example.com/chart.png<" not in card  # the picture, not its URL
    # Only http(s) is ever shown (the API refuses others; older rows may hold anything).
    assert rendering.image_url(Artifact(type="image", data="javascript:alert(1)")) == ""
    assert rendering.image_url(Artifact(type="image", data="data:image/png;base64,xx")) == ""


def test_cards_count_versions_without_a_query_per_card(client, django_assert_num_queries):
    for n in range(12):
        for _ in range(n % 3 + 1):
            ArtifactFactory(key=f"k{n:02d}")
    # count, the page with latest versions, versions per key, the flow filter's names
    with django_assert_num_queries(4):
        html = client.get("/artifacts/?sort=key").content.decode()
    assert '<a href="/artifacts/key/k00/#timeline-heading">1 version</a>' in html
    assert '<a href="/artifacts/key/k02/#timeline-heading">3 versions</a>' in html
    with django_assert_num_queries(4):
        client.get("/artifacts/?sort=key&view=list")


def test_list_layout_is_kept_in_the_url(client):
    services.artifact_create(
        key="orders", type="table", data=[{"a": 1}] * 3, description="**Daily** orders"
    )
    ArtifactFactory(key="orders")
    cards = client.get("/artifacts/").content.decode()
    assert '<ul class="cards">' in cards
    assert re.search(r'href="\?view=list"[^>]*>List</a>', cards)
    listed = client.get("/artifacts/?view=list").content.decode()
    assert '<ul class="cards">' not in listed
    assert '<table class="data artifact-table">' in listed
    assert '<td class="num">2</td>' in listed
    assert '<input type="hidden" name="view" value="list">' in listed  # search keeps the layout
    assert 'href="?view=list&amp;page=2"' not in listed
    fragment = client.get("/artifacts/?view=list&q=orders", headers=HX)
    assertContains(fragment, '<table class="data artifact-table">')
    assertContains(fragment, 'aria-current="true">List</a>')
    assertNotContains(fragment, "<html")


def test_unkeyed_cards_show_text_not_markdown(client):
    ArtifactFactory(
        key=None, description="**Ad hoc** check of `orders`", data="# Done\n\nAll *good*."
    )
    html = client.get("/artifacts/?tab=unkeyed").content.decode()
    assert ">Ad hoc check of orders</a>" in html
    assert "Done. All good." in html
    assert "**" not in html


def test_excerpts():
    assert rendering.markdown_excerpt("# Title\n\nSome **bold** text") == "Title. Some bold text"
    assert rendering.markdown_excerpt("x " * 200, 20) == "x x x x x x x x x x…"
    assert rendering.html_excerpt("<p>a<b>b</b></p><style>p{}</style>c") == "a b c"
