"""Back and Forward in Chromium always show whole pages (issue 14, item 1): after a live search, a
type filter, list paging and table sorting, pressing Back shows the page with its header and its
stylesheet, never the bare htmx fragment."""

import re

import pytest
from playwright.sync_api import expect

from artifacts_app import services
from tests import browser_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    """Chromium without its back/forward cache: Back then loads the page through the HTTP cache,
    which is where a fragment cached under the page's URL would come from (a browser evicts
    bfcache entries at will, so the HTTP cache must be right on its own)."""
    args = [*browser_fixtures.ARGS, "--disable-features=BackForwardCache"]
    yield from browser_fixtures.launch_chromium(args)


@pytest.fixture
def page(chromium, live_server):
    """A page with the browser's HTTP cache on: Playwright turns the cache off for pages whose
    requests are routed, as `browser_page`'s are. Nothing here leaves the live server."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.origin = live_server.url
    yield page
    context.close()
    assert errors == []


def assert_whole_page(page, url_part: str):
    """The address bar holds `url_part` and the document is a full page: header, stylesheet."""
    expect(page).to_have_url(re.compile(f".*{url_part}"), timeout=5000)
    expect(page.locator("header.topbar")).to_be_visible(timeout=5000)
    assert page.locator('head link[rel="stylesheet"]').count() == 1
    # The stylesheet applies: the header is a flex row, which an unstyled page never is.
    expect(page.locator("header.topbar")).to_have_css("display", "flex")
    assert page.locator("#results, .detail-grid, #timeline").count() >= 1


def test_back_after_search_filter_and_paging_shows_whole_pages(page):
    for i in range(30):
        services.artifact_create(key=f"report-{i:02d}", type="markdown", data=f"# Report {i}")
    services.artifact_create(key="beta-metrics", type="table", data=[{"a": 1}])
    origin = page.origin
    page.goto(f"{origin}/artifacts/")

    # 1. A live search pushes ?q=; open a result; Back.
    page.fill("#search", "beta")
    expect(page.locator(".card")).to_have_count(1, timeout=5000)
    expect(page).to_have_url(re.compile(r".*q=beta"))
    assert page.input_value("#permalink-url") == page.url  # the permalink follows htmx
    page.click(".card-title >> text=beta-metrics")
    expect(page).to_have_url(re.compile(r".*/artifacts/key/beta-metrics/"))
    page.go_back()
    assert_whole_page(page, r"/artifacts/\?.*q=beta")
    expect(page.locator(".card")).to_have_count(1)
    assert page.input_value("#search") == "beta"
    assert page.input_value("#permalink-url") == page.url

    # Back once more, to the unfiltered list (an htmx history restore).
    page.go_back()
    assert_whole_page(page, "/artifacts/$")
    expect(page.locator(".card")).to_have_count(25)
    page.go_forward()
    assert_whole_page(page, "q=beta")

    # 2. A type filter, then a result, then Back.
    page.goto(f"{origin}/artifacts/")
    page.select_option("#type-filter", "table")
    expect(page).to_have_url(re.compile(r".*type=table"))
    expect(page.locator(".card")).to_have_count(1, timeout=5000)
    page.click(".card-title")
    expect(page).to_have_url(re.compile(r".*/artifacts/key/beta-metrics/"))
    page.go_back()
    assert_whole_page(page, "type=table")
    assert page.input_value("#type-filter") == "table"
    page.go_back()
    assert_whole_page(page, "/artifacts/$")

    # 3. List paging, then a result, then Back (twice: page 2, then page 1).
    page.goto(f"{origin}/artifacts/?sort=key")
    page.click(".pager >> text=Next")
    expect(page).to_have_url(re.compile(r".*page=2"))
    expect(page.locator(".pager")).to_contain_text("Page 2")
    page.locator(".card-title").first.click()
    expect(page).to_have_url(re.compile(r".*/artifacts/key/report-"))
    page.go_back()
    assert_whole_page(page, "page=2")
    expect(page.locator(".pager")).to_contain_text("Page 2")
    page.go_back()
    assert_whole_page(page, r"/artifacts/\?sort=key$")
    expect(page.locator(".pager")).to_contain_text("Page 1")
