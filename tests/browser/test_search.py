"""Live search in Chromium: words in any order and a phrase find reports as you type, the date
and flow-run inputs narrow them, every state lands in the address bar, and Back shows whole
pages."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from artifacts_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_live_search_words_phrase_dates_and_back(browser_page):
    page, origin = browser_page.page, browser_page.origin
    services.artifact_create(
        key="nightly-report", type="markdown", data="# Data quality\n\nThe freshness check failed."
    )
    services.artifact_create(key="weekly-summary", type="markdown", data="# Weekly\n\nAll fine.")
    services.artifact_create(key="nightly-report", type="markdown", data="# Later: all passed")
    page.goto(f"{origin}/artifacts/")
    expect(page.locator(".card")).to_have_count(2)

    page.fill("#search", "report nigh")
    expect(page.locator(".card")).to_have_count(1, timeout=5000)
    expect(page.locator(".card-title")).to_have_text("nightly-report")
    expect(page).to_have_url(re.compile(r".*q=report(\+|%20)nigh"))

    page.fill("#search", '"check failed"')  # in the older version only
    expect(page.locator(".card .match")).to_contain_text("older version", timeout=5000)
    expect(page).to_have_url(re.compile(r".*q=%22check(\+|%20)failed%22"))

    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page.fill("#date-from", tomorrow)
    expect(page.locator(".card")).to_have_count(0, timeout=5000)
    expect(page).to_have_url(re.compile(f".*from={tomorrow}"))

    page.go_back()
    expect(page).to_have_url(
        re.compile(r".*q=%22check(\+|%20)failed%22(?!.*from=\d)"), timeout=5000
    )
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator(".card")).to_have_count(1, timeout=5000)
    assert page.input_value("#search") == '"check failed"'
    browser_page.screenshot("search-results")
