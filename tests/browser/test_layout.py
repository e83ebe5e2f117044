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
