"""Runs can be told apart in Chromium: two flow runs and three task runs whose ids share their first
characters show distinct names (or distinct id tails) on the cards, the runs index and the run
page, and each one's link leads to its own page."""

import uuid

import pytest
from playwright.sync_api import expect

from artifacts_app import services
from artifacts_app.models import FLOW_RUN, TASK_RUN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "0190f1e4-7a3b-7000-8000-"
FLOW_A, FLOW_B = uuid.UUID(PREFIX + "0000000000a1"), uuid.UUID(PREFIX + "0000000000b2")
TASKS = [uuid.UUID(PREFIX + f"00000000000{n}") for n in (1, 2, 3)]


def test_runs_with_a_shared_id_prefix_are_distinct(browser_page):
    page = browser_page.page
    services.run_upsert(
        runs=[
            {"id": FLOW_A, "kind": FLOW_RUN, "name": "crimson-tiger", "flow_name": "nightly-etl"},
            {"id": TASKS[0], "kind": TASK_RUN, "name": "extract", "flow_run_id": FLOW_A},
            {"id": TASKS[1], "kind": TASK_RUN, "name": "transform", "flow_run_id": FLOW_A},
        ]
    )
    for n, task in enumerate(TASKS):  # the third task run has no name: its id's tail shows
        services.artifact_create(
            key=f"step-{n}", type="markdown", data=f"Step {n}", flow_run_id=FLOW_A, task_run_id=task
        )
    services.artifact_create(key="other", type="markdown", data="# b", flow_run_id=FLOW_B)

    page.goto(f"{browser_page.origin}/artifacts/")
    links = page.locator(".card .run-link")
    expect(links).to_have_count(4)
    texts = set(links.all_inner_texts())
    assert texts == {"nightly-etl / crimson-tiger", f"flow run {str(FLOW_B)[-12:]}"}

    page.goto(f"{browser_page.origin}/runs/")
    rows = page.locator("table.run-table tbody tr")
    expect(rows).to_have_count(2)
    names = rows.locator("th a.run-link").all_inner_texts()
    assert sorted(names) == sorted(["crimson-tiger", str(FLOW_B)[-12:]])

    page.click("text=crimson-tiger")
    expect(page.locator(".page-head h1")).to_contain_text("nightly-etl / crimson-tiger")
    headings = page.locator("section.panel h2").all_inner_texts()
    assert headings[0] == "Flow" or len(headings) == 3
    task_headings = [h for h in headings if h.startswith("Task run")]
    assert task_headings == [
        "Task run extract",
        "Task run transform",
        f"Task run {str(TASKS[2])[-12:]}",
    ]
    assert len(set(task_headings)) == 3
    browser_page.screenshot("runs-flow-run")

    page.click("text=transform")
    expect(page.locator(".page-head h1")).to_contain_text("transform")
    expect(page.locator(".crumbs a", has_text="crimson-tiger")).to_be_visible()
    assert "step-1" in page.content()
    assert "step-0" not in page.content()
    page.click(".crumbs >> text=Runs")
    expect(page.locator(".page-head h1")).to_have_text("Runs")
    browser_page.screenshot("runs-index")


def test_runs_search_is_live_and_back_shows_the_whole_page(browser_page):
    page = browser_page.page
    services.run_upsert(
        runs=[
            {"id": FLOW_A, "kind": FLOW_RUN, "name": "crimson-tiger", "flow_name": "nightly-etl"},
            {"id": FLOW_B, "kind": FLOW_RUN, "name": "amber-otter", "flow_name": "train-model"},
        ]
    )
    page.goto(f"{browser_page.origin}/runs/")
    rows = page.locator("table.run-table tbody tr")
    expect(rows).to_have_count(2)
    page.fill("#run-search", "otter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("amber-otter")
    expect(page).to_have_url(f"{browser_page.origin}/runs/?q=otter")
    page.click("text=amber-otter")
    expect(page.locator(".page-head h1")).to_contain_text("train-model / amber-otter")
    page.go_back()
    expect(page).to_have_url(f"{browser_page.origin}/runs/?q=otter")
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator("#run-search")).to_have_value("otter")
    expect(rows).to_have_count(1)
