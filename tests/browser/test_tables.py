"""Table state in Chromium (issue 14, item 4): sort, filter and page reach the page's own URL,
survive a reload, come back with Back, and the downloads follow them."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from artifacts_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def query(page):
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_table_state_lives_in_the_url(browser_page):
    page = browser_page.page
    rows = [
        {
            "n": i,
            "name": f"row-{i:03d}",
            "status": ["paid", "refunded"][i % 2],
            "amount": i * 7 % 50,
        }
        for i in range(120)
    ]
    table = services.artifact_create(key="orders", type="table", data=rows)
    page.goto(f"{browser_page.origin}/artifacts/key/orders/")
    grid = f"#table-{table.pk}"
    # Cues on every sortable header before any click.
    headers = page.locator(f"{grid} thead th")
    expect(headers).to_have_count(4)
    for i in range(4):
        expect(headers.nth(i)).to_have_attribute("aria-sort", "none")
        expect(headers.nth(i).locator(".sort-mark")).to_have_text("↕")
    assert (
        page.locator(f"{grid} .table-scroll").evaluate("e => getComputedStyle(e).maxHeight")
        == "none"
    )

    amount = page.locator(f"{grid} thead th", has_text="amount")  # jsonb may reorder columns
    amount.locator("a").click()  # ascending
    expect(amount).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=amount&dir=asc"))
    amount.locator("a").click()  # descending
    expect(amount).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=amount&dir=desc"))

    # Two words, in any order, each in any cell.
    page.fill(f"#table-filter-{table.pk}", "refunded row-0")
    expect(page.locator(f"{grid} .table-count")).to_contain_text("of 50 (filtered from 120)")
    expect(page).to_have_url(re.compile(r"filter=refunded"))
    assert query(page) == {"sort": "amount", "dir": "desc", "filter": "refunded row-0"}
    page.click(f"{grid} a.next-page")
    expect(page.locator(f"{grid} .table-count")).to_contain_text("Rows 26–50 of 50")
    expect(page).to_have_url(re.compile(r"table_page=2"))
    shown = page.locator(f"{grid} tbody tr").first.inner_text()

    # The downloads follow the filter and sort.
    csv_href = page.locator(f"{grid} .table-downloads a", has_text="CSV").get_attribute("href")
    assert "filter=refunded+row-0" in csv_href
    assert "sort=amount" in csv_href
    body = page.request.get(browser_page.origin + csv_href).text()
    assert len(body.strip().splitlines()) == 51

    # Reload: the same rows, the same controls.
    page.reload()
    expect(page.locator(f"{grid} .table-count")).to_contain_text("Rows 26–50 of 50")
    assert page.locator(f"{grid} tbody tr").first.inner_text() == shown
    assert page.input_value(f"#table-filter-{table.pk}") == "refunded row-0"
    expect(amount).to_have_attribute("aria-sort", "descending")
    browser_page.screenshot("table-state-desktop")

    # Back: page 1 of the same filter, a whole page.
    page.go_back()
    expect(page.locator(f"{grid} .table-count")).to_contain_text("Rows 1–25 of 50")
    expect(page.locator("header.topbar")).to_be_visible()
    assert "table_page" not in query(page)
