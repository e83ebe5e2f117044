"""The dashboard in Chromium: live progress, search, table sort and paging, screenshots."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_progress_bar_follows_updates_and_stops_at_100(browser_page):
    page = browser_page.page
    bar = services.artifact_create(key="training", type="progress", data=10)
    page.goto(f"{browser_page.origin}/artifacts/key/training/")
    label = page.locator(f"#progress-{bar.pk} .progress-label")
    assert label.inner_text() == "10%"
    services.artifact_update(artifact_id=bar.pk, data=45)
    expect(label).to_have_text("45%", timeout=8000)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/progress/" in r.url else None)
    services.artifact_update(artifact_id=bar.pk, data=100)
    expect(page.locator(f"#progress-{bar.pk}")).to_have_class(re.compile("done"), timeout=8000)
    assert page.locator(f"#progress-{bar.pk}").get_attribute("hx-trigger") is None
    count = len(polls)
    page.wait_for_timeout(4500)  # two more polling periods: nothing is requested after 100
    assert len(polls) == count


def test_progress_never_goes_backwards_on_screen(browser_page):
    page = browser_page.page
    bar = services.artifact_create(key="bar", type="progress", data=60)
    page.goto(f"{browser_page.origin}/artifacts/key/bar/")
    services.artifact_update(artifact_id=bar.pk, data=30)  # a late, stale write
    page.wait_for_timeout(2600)
    assert page.locator(f"#progress-{bar.pk} .progress-label").inner_text() == "60%"


def test_search_narrows_the_list(browser_page):
    page = browser_page.page
    for key in ("alpha-report", "beta-metrics", "gamma-table"):
        services.artifact_create(key=key, type="markdown", data=f"# {key}")
    page.goto(f"{browser_page.origin}/artifacts/")
    assert page.locator(".card").count() == 3
    page.fill("#search", "beta")
    expect(page.locator(".card")).to_have_count(1, timeout=5000)
    assert page.locator(".card-title").inner_text() == "beta-metrics"
    assert "q=beta" in page.url  # the search is in the address bar
    page.select_option("#type-filter", "table")
    expect(page.locator(".card")).to_have_count(0, timeout=5000)


def test_new_artifacts_appear_without_reload(browser_page):
    page = browser_page.page
    services.artifact_create(key="first", type="markdown", data="x")
    page.goto(f"{browser_page.origin}/artifacts/")
    services.artifact_create(key="second-arrival", type="markdown", data="y")
    page.wait_for_selector("text=second-arrival", timeout=8000)


def test_table_sort_filter_and_paging(browser_page):
    page = browser_page.page
    rows = [{"n": i, "name": f"row-{i:03d}"} for i in range(120)]
    table = services.artifact_create(key="big-table", type="table", data=rows)
    page.goto(f"{browser_page.origin}/artifacts/artifact/{table.pk}/")
    grid = f"#table-{table.pk}"
    assert page.locator(f"{grid} tbody tr").count() == 25
    page.click(f"{grid} a.next-page")
    page.wait_for_selector(f"{grid} >> text=Rows 26–50 of 120")
    page.click(f"{grid} th >> text=n")  # sort ascending by n
    page.wait_for_selector(f"{grid} th[aria-sort=ascending]")
    page.click(f"{grid} th >> text=n")  # and descending
    page.wait_for_selector(f"{grid} th[aria-sort=descending]")
    assert page.locator(f"{grid} tbody tr").first.locator("td").first.inner_text() == "119"
    page.fill(f"#table-filter-{table.pk}", "row-01")
    page.wait_for_selector(f"{grid} >> text=of 10 (filtered from 120)")
    first = page.locator(f"{grid} tbody tr").first.locator("td").first.inner_text()
    assert first == "19"  # the sort survives the filter


def test_every_page_renders_without_errors_and_screenshots(browser_page, phone_page):
    call_command("seed_demo", base_url=browser_page.origin)
    run = Artifact.objects.exclude(flow_run_id=None).first().flow_run_id
    pages = {
        "artifacts": "/artifacts/",
        "unkeyed": "/artifacts/?tab=unkeyed",
        "key-table": "/artifacts/key/model-loss/",
        "key-markdown": "/artifacts/key/data-quality-report/",
        "key-link": "/artifacts/key/docs-link/",
        "key-image": "/artifacts/key/throughput-chart/",
        "key-progress": "/artifacts/key/training-progress/",
        "key-result": "/artifacts/key/model-result/",
        "artifact": f"/artifacts/artifact/{ArtifactCollection.objects.get(key='sales-by-region').latest_id}/",
        "run": f"/runs/flow-run/{run}/",
        "api-docs": "/api/docs/",
    }
    for probe, suffix in ((browser_page, "desktop"), (phone_page, "phone")):
        for name, path in pages.items():
            response = probe.page.goto(probe.origin + path)
            assert response.status == 200, path
            probe.page.wait_for_load_state("networkidle")
            probe.screenshot(f"{name}-{suffix}")
            if name == "key-image":  # the demo chart comes from our static files, no internet
                loaded = "img => img.complete && img.naturalWidth > 0"
                assert probe.page.locator("main img").first.evaluate(loaded)
            if suffix == "phone":  # nothing wider than the phone screen
                width = probe.page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{path} is {width}px wide on a phone"
    assert all(re.match(r"https?://example\.com/", url) for url in browser_page.outbound)
