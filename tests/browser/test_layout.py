"""Layout in Chromium: error pages in the site's layout with a way back and a search box; the
diff page's default versions (issue 14, item 6)."""

import re

import pytest
from playwright.sync_api import expect

from artifacts_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_error_pages_have_the_layout_a_way_back_and_search(browser_page, phone_page):
    services.artifact_create(key="nightly-report", type="markdown", data="# Nightly")
    for probe, suffix in ((browser_page, "desktop"), (phone_page, "phone")):
        page = probe.page
        page.goto(f"{probe.origin}/artifacts/")
        response = page.goto(f"{probe.origin}/artifacts/key/nightly-reprot/")
        assert response.status == 404
        expect(page.locator("header.topbar")).to_have_css("display", "flex")
        expect(page.locator("h1")).to_have_text("Nothing here")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        probe.screenshot(f"error-404-{suffix}")
        # "← Back" returns to the page we came from.
        page.click("text=← Back")
        expect(page).to_have_url(re.compile(r"/artifacts/$"))
        # The search box, offered the mistyped key, finds the right one.
        page.goto(f"{probe.origin}/artifacts/key/nightly-reprot/")
        assert page.input_value("#error-search") == "nightly-reprot"
        page.fill("#error-search", "nightly")
        page.press("#error-search", "Enter")
        expect(page).to_have_url(re.compile(r"/artifacts/\?q=nightly"))
        expect(page.locator(".card-title")).to_have_text("nightly-report")
        # Chromium logs each 404 document on the console: the expected outcome here.
        probe.console_errors[:] = [e for e in probe.console_errors if "404 (Not Found)" not in e]


def test_diff_without_versions_shows_the_two_newest(browser_page):
    for n in range(1, 4):
        services.artifact_create(key="loss", type="markdown", data=f"loss {n}")
    services.artifact_create(key="single", type="markdown", data="only")
    page = browser_page.page
    response = page.goto(f"{browser_page.origin}/artifacts/key/loss/diff/")
    assert response.status == 200
    expect(page).to_have_url(re.compile(r"/diff/\?a=.*&b="))
    expect(page.locator(".diff-sides")).to_contain_text("version 2")
    expect(page.locator(".diff-sides")).to_contain_text("version 3")
    assert page.locator("#compare-a option:checked").inner_text().startswith("v2")
    assert page.locator("#compare-b option:checked").inner_text().startswith("v3")
    page.goto(f"{browser_page.origin}/artifacts/key/single/diff/")
    expect(page.locator("main")).to_contain_text("has only one version so far")
    browser_page.screenshot("diff-default-desktop")


WIDE_ROWS = [
    {f"column_with_a_long_name_{c}": f"value-{r}-{c}-abcdefgh" for c in range(14)}
    for r in range(30)
]
LONG_WORD = "x" * 150
MARKDOWN = f"""# A report with wide things

A long word: {LONG_WORD} and a long link https://example.com/{"a" * 120}

| a | wide | markdown | table | with | many | columns | aaaaaaaaaaaa | bbbbbbbbbbbbbbbb | ccccccccccc |
|---|---|---|---|---|---|---|---|---|---|
| 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |

```
a code line that is much wider than a phone screen: {"y" * 200}
```
"""


def every_page_type():
    """One of each page type, with content made to be too wide."""
    import uuid

    run = uuid.UUID("0190f1e4-0000-7000-8000-00000000abcd")
    task = uuid.UUID("0190f1e4-0000-7000-8000-00000000abce")
    create = services.artifact_create
    made = {
        "table": create(key="wide-export", type="table", data=WIDE_ROWS, flow_run_id=run,
                        task_run_id=task, description=f"Wide {LONG_WORD}"),
        "markdown": create(key="wide-report", type="markdown", data=MARKDOWN, flow_run_id=run),
        "link": create(key="a-link", type="link", data=f"https://example.com/{LONG_WORD}",
                       flow_run_id=run),
        "image": create(key="a-chart", type="image", data="https://example.com/chart.png",
                        flow_run_id=run),
        "progress": create(key="a-progress", type="progress", data=100, flow_run_id=run),
        "result": create(key="a-result", type="result", data={LONG_WORD: [LONG_WORD] * 3},
                         metadata={LONG_WORD: LONG_WORD}, flow_run_id=run),
        "html": create(key="a-page", type="html", data="<h1>Hi</h1><p>" + LONG_WORD + "</p>",
                       flow_run_id=run),
        "untyped": create(key="no-type", type=None, data=[1, 2, 3]),
        "unkeyed": create(key=None, type="markdown", data=MARKDOWN, description=LONG_WORD),
    }  # fmt: skip
    services.run_upsert(
        runs=[
            {"id": run, "kind": "flow", "name": f"run-{LONG_WORD}", "flow_name": f"flow-{LONG_WORD}",
             "state": "Completed"},
            {"id": task, "kind": "task", "name": f"task-{LONG_WORD}", "flow_run_id": run},
        ]
    )  # fmt: skip
    create(key="wide-export", type="table", data=WIDE_ROWS[:20] + [{"extra": LONG_WORD}])
    for n in range(3):
        create(key="trend", type="progress", data=10 * n, metadata={"loss": str(0.5 / (n + 1))})
    pages = {"list": "/artifacts/", "unkeyed-list": "/artifacts/?tab=unkeyed"}
    pages.update({f"artifact-{kind}": f"/artifacts/artifact/{a.pk}/" for kind, a in made.items()})
    pages.update({f"key-{kind}": f"/artifacts/key/{a.key}/" for kind, a in made.items() if a.key})
    pages.update(
        {
            "key-trend": "/artifacts/key/trend/",
            "trend": "/artifacts/key/trend/trend/",
            "list-view": "/artifacts/?view=list",
            "search": f"/artifacts/?q=wide+{LONG_WORD[:20]}",
            "search-help": "/artifacts/search/",
            "runs": "/runs/",
            "run": f"/runs/flow-run/{run}/",
            "task-run": f"/runs/task-run/{task}/",
            "diff-table": "/artifacts/key/wide-export/diff/",
            "diff-text": "/artifacts/key/trend/diff/",
            "embed": "/artifacts/key/wide-export/embed/",
            "error-404": "/artifacts/key/no-such-key/",
            "error-400": "/artifacts/key/wide-export/diff/?a=not-an-id&b=x",
            "admin-login": "/admin/login/",
        }
    )
    return pages


def test_no_page_scrolls_sideways_on_a_phone(chromium, live_server):
    """At 390 px, `document.documentElement.scrollWidth <= innerWidth` on every page type: wide
    tables scroll inside their own box, charts scale to theirs."""
    from tests.browser_fixtures import _probe

    pages = every_page_type()
    context, probe = _probe(chromium, live_server, 390)
    page = probe.page
    try:
        too_wide = {}
        for name, path in pages.items():
            response = page.goto(probe.origin + path)
            expected = {"error-404": 404, "error-400": 400}.get(name, 200)
            assert response.status == expected, (name, path, response.status)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            if width > inner:
                too_wide[name] = width
            probe.screenshot(f"phone-{name}")
        assert too_wide == {}, f"pages wider than 390 px: {too_wide}"
        # The wide table scrolls inside its own box.
        page.goto(probe.origin + pages["artifact-table"])
        box = page.locator(".table-scroll").first
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")
        # The trend chart fits its box (viewBox scaling, no minimum width).
        page.goto(probe.origin + pages["key-trend"])
        chart = page.locator("svg.trend-chart")
        assert chart.get_attribute("viewBox") == "0 0 640 240"
        figure = page.locator(".trend-figure").bounding_box()
        assert chart.bounding_box()["width"] <= figure["width"] + 0.5
    finally:
        context.close()
    expected = ("ERR_FAILED", "404 (Not Found)", "400 (Bad Request)")  # blocked images, errors
    blocked = [e for e in probe.console_errors if not any(x in e for x in expected)]
    assert blocked == []
