"""Diffs, trends, embeds and HTML artifacts in Chromium: a hostile HTML artifact stays in its sandbox; diff, trend,
embed and HTML pages on seed_demo data (screenshots in test-artifacts/screenshots/)."""

import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from artifacts_app import services
from artifacts_app.models import Artifact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = """<p id="out">pending</p>
<script>
  var results = {ran: true};
  function attempt(name, fn) {
    try { results[name] = "allowed:" + String(fn()); } catch (e) { results[name] = "blocked:" + e.name; }
  }
  attempt("cookie", function () { return document.cookie; });
  attempt("parentCookie", function () { return window.parent.document.cookie; });
  attempt("parentDom", function () {
    window.parent.document.body.setAttribute("data-pwned", "1");
    var marker = window.parent.document.createElement("div");
    marker.id = "pwned-marker";
    window.parent.document.body.appendChild(marker);
    return "wrote";
  });
  attempt("topDom", function () { return window.top.document.title; });
  attempt("localStorage", function () { return window.localStorage.length; });
  attempt("parentLocation", function () { return window.parent.location.href; });
  attempt("topNavigation", function () { window.top.location.href = "/admin/"; return "navigated"; });
  attempt("popup", function () { return String(window.open("/admin/")); });
  function done() { document.getElementById("out").textContent = JSON.stringify(results); }
  try {
    fetch("/api/artifacts/filter", {method: "POST", credentials: "include"})
      .then(function (r) { results.fetch = "allowed:" + r.status; done(); },
            function (e) { results.fetch = "blocked:" + e.name; done(); });
  } catch (e) { results.fetch = "blocked:" + e.name; done(); }
  done();
</script>"""


def _frame_results(page, frame_element):
    frame = frame_element.element_handle().content_frame()
    # expect() polls from Playwright's utility world: no eval, which the pages' CSP forbids.
    expect(frame.locator("#out")).to_contain_text('"fetch"', timeout=8000)
    return json.loads(frame.locator("#out").inner_text())


def test_html_artifact_script_cannot_reach_the_dashboard(browser_page):  # noqa: F811
    page = browser_page.page
    artifact = services.artifact_create(key="hostile-html", type="html", data=HOSTILE)
    page.goto(f"{browser_page.origin}/artifacts/key/hostile-html/")
    page.evaluate("document.cookie = 'dashboard_secret=s3cret; path=/'")
    page.reload()
    results = _frame_results(page, page.locator("iframe.html-frame"))
    assert results["ran"] is True  # scripts do run inside the sandbox...
    for name in ("cookie", "parentCookie", "parentDom", "topDom", "localStorage"):
        assert results[name].startswith("blocked:"), (name, results[name])  # ...but reach nothing
    assert "s3cret" not in json.dumps(results)
    assert results["fetch"].startswith("blocked:")  # connect-src 'none'
    assert results["popup"] in ("allowed:null", "blocked:SecurityError")  # no allow-popups
    # The parent is untouched: no marker, no attribute, still on the same page.
    assert page.evaluate("document.body.getAttribute('data-pwned')") is None
    assert page.locator("#pwned-marker").count() == 0
    assert page.url.endswith("/artifacts/key/hostile-html/")
    assert "s3cret" in page.evaluate("document.cookie")  # the cookie exists; the frame saw none
    frame_url = (
        page.locator("iframe.html-frame").element_handle().content_frame().evaluate("location.href")
    )
    assert frame_url.endswith(f"/artifacts/artifact/{artifact.pk}/html/")
    page.goto(f"{browser_page.origin}/artifacts/artifact/{artifact.pk}/")
    assert _frame_results(page, page.locator("iframe.html-frame"))["parentDom"].startswith(
        "blocked:"
    )
    # CSP and sandbox refusals are reported on the console; they are the expected outcome.
    browser_page.console_errors[:] = [
        e
        for e in browser_page.console_errors
        if not re.search(r"Content Security Policy|sandbox|Blocked|Failed to fetch", e, re.I)
    ]


def test_embed_can_be_framed_by_self_and_other_pages_cannot(browser_page):  # noqa: F811
    page = browser_page.page
    services.artifact_create(key="embedded", type="markdown", data="# Embedded **report**")
    page.goto(f"{browser_page.origin}/artifacts/")
    page.evaluate(
        """() => {
        for (const [id, src] of [["ok", "/artifacts/key/embedded/embed/"], ["denied", "/artifacts/key/embedded/"]]) {
          const frame = document.createElement("iframe");
          frame.id = id; frame.src = src; frame.style.width = "600px"; frame.style.height = "300px";
          document.body.appendChild(frame);
        }
      }"""
    )
    page.wait_for_timeout(1500)
    embedded = page.frame_locator("#ok")
    assert "Embedded" in embedded.locator("h1").inner_text()
    denied = page.locator("#denied").element_handle().content_frame()
    assert denied is None or not denied.evaluate("!!document.querySelector('.topbar')")
    browser_page.console_errors[:] = [
        e for e in browser_page.console_errors if "X-Frame-Options" not in e and "frame" not in e
    ]


def test_permalink_copy_button(browser_page):  # noqa: F811
    page = browser_page.page
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=browser_page.origin
    )
    services.artifact_create(key="copy-me", type="markdown", data="hi")
    page.goto(f"{browser_page.origin}/artifacts/key/copy-me/")
    url = page.locator("#permalink-url").input_value()
    assert url == f"{browser_page.origin}/artifacts/key/copy-me/"
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-copy-target]")).to_have_text("Copied", timeout=3000)
    assert page.evaluate("navigator.clipboard.readText()") == url


def test_diff_trend_embed_html_pages_on_demo_data(browser_page, phone_page):  # noqa: F811
    call_command("seed_demo")
    page = browser_page.page
    origin = browser_page.origin
    page.goto(f"{origin}/artifacts/key/warehouse-inventory/")
    chart = page.locator("svg.trend-chart")
    assert chart.locator("a.trend-point").count() == 4
    browser_page.screenshot("key-trend")
    # Pick another series: htmx swaps the chart in place (no page load).
    page.select_option("#trend-series", "max:units")
    expect(page.locator("#trend-title")).to_have_text(re.compile("^Max of column"), timeout=5000)
    assert page.url.endswith("/artifacts/key/warehouse-inventory/")
    # Each point links to its version.
    first = page.locator("a.trend-point").first
    href = first.get_attribute("href")
    first.click()
    page.wait_for_url(f"**{href}")
    # Compare the first and last versions, matched by the sku column.
    versions = list(Artifact.objects.for_key("warehouse-inventory"))
    page.goto(f"{origin}/artifacts/key/warehouse-inventory/")
    page.select_option("#compare-a", str(versions[-1].pk))
    page.select_option("#compare-b", str(versions[0].pk))
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**/diff/**")
    page.select_option("#key-column", "sku")
    page.get_by_role("button", name="Match").click()
    page.wait_for_url("**key_column=sku**")
    assert page.locator("tr.row-added").count() == 1
    assert page.locator("tr.row-removed").count() == 1
    assert page.locator("td.cell-changed").count() == 3
    browser_page.screenshot("diff-table")
    phone_page.page.goto(page.url)
    phone_page.screenshot("diff-table-phone")
    reports = list(Artifact.objects.for_key("data-quality-report"))
    page.goto(
        f"{origin}/artifacts/key/data-quality-report/diff/?a={reports[1].pk}&b={reports[0].pk}"
    )
    assert page.locator("td.new ins").count() >= 2
    browser_page.screenshot("diff-text")
    page.goto(f"{origin}/artifacts/key/weekly-report-html/")
    frame = page.frame_locator("iframe.html-frame")
    frame.locator("#more").click()
    assert frame.locator("#clicks").inner_text() == "1"  # its own scripts work
    browser_page.screenshot("html")
    page.goto(f"{origin}/artifacts/key/model-loss/embed/")
    assert page.locator(".topbar").count() == 0
    assert page.locator("table.data").count() == 1
    browser_page.screenshot("embed")
    phone_page.page.goto(f"{origin}/artifacts/key/model-loss/")
    phone_page.screenshot("key-trend-phone")


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["csp-on", "sandbox-only"])
def test_hostile_corpus_in_an_html_artifact_never_reaches_the_page(
    chromium,  # noqa: F811
    live_server,
    bypass_csp,
):
    """The security corpus as one HTML artifact (plus the probe script above). With the
    browser told to ignore every CSP, the sandbox alone must still keep the page safe."""
    from tests.security.xss_corpus import corpus  # the security suite's vectors

    probe = HOSTILE.replace(
        'attempt("cookie"',
        'attempt("parentXss", function () { window.parent.__xss = 1; return "set"; });\n'
        '  attempt("cookie"',
    )
    payload = probe + "\n".join(corpus())  # the probe first: later vectors leave tags open
    artifact = services.artifact_create(key="hostile-corpus", type="html", data=payload)
    context = chromium.new_context(bypass_csp=bypass_csp, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    origin = live_server.url
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith((origin, "data:")) else r.abort(),
    )
    page.context.add_cookies([{"name": "dashboard_secret", "value": "s3cret", "url": origin}])
    try:
        for path in ("/artifacts/key/hostile-corpus/", f"/artifacts/artifact/{artifact.pk}/"):
            page.goto(origin + path)
            results = _frame_results(page, page.locator("iframe.html-frame"))
            page.wait_for_timeout(500)
            assert results["ran"] is True
            for name in ("parentXss", "cookie", "parentCookie", "parentDom", "topDom"):
                assert results[name].startswith("blocked:"), (name, results[name])
            assert "s3cret" not in json.dumps(results)
            assert page.evaluate("() => window.__xss === undefined")
            assert page.evaluate("() => document.body.getAttribute('data-pwned')") is None
            assert page.url == origin + path
        assert dialogs == []  # no allow-modals: alert() inside the frame shows nothing
    finally:
        context.close()
