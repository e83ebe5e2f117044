"""Playwright fixtures (registered from tests/conftest.py): Debian's Chromium (/usr/bin/chromium) driving pytest-django's live_server.

`browser_page` fails the test on console errors and page errors, and blocks (and records) any
request that leaves the live server, so tests never touch the network."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per test module. Playwright's sync API keeps an event loop running in this
    thread while it is open, so it is closed at the end of the module (later tests must not see a
    running loop), and Django is told that the tests' own ORM calls are synchronous meanwhile."""
    yield from launch_chromium(ARGS)


def launch_chromium(args):
    """Chromium with these command-line `args`, for a module-scoped `chromium` fixture."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageProbe:
    def __init__(self, page, origin):
        self.page = page
        self.origin = origin
        self.console_errors: list[str] = []
        self.outbound: list[str] = []
        self.dialogs: list[str] = []

    def screenshot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret injects a <style>, which the pages' CSP refuses
        # (a console error) when an input has focus.
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")


def _probe(chromium, live_server, width):
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    origin = live_server.url
    probe = PageProbe(page, origin)
    host = urlsplit(origin).netloc

    def route(route_):
        if urlsplit(route_.request.url).netloc == host or route_.request.url.startswith("data:"):
            route_.continue_()
        else:
            probe.outbound.append(route_.request.url)
            route_.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda msg: probe.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: probe.console_errors.append(str(exc)))

    def on_dialog(dialog):
        probe.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, probe


@pytest.fixture
def browser_page(chromium, live_server):
    context, probe = _probe(chromium, live_server, 1280)
    yield probe
    context.close()
    blocked_errors = [e for e in probe.console_errors if "ERR_FAILED" not in e]
    assert blocked_errors == [], f"console errors: {blocked_errors}"


@pytest.fixture
def phone_page(chromium, live_server):
    context, probe = _probe(chromium, live_server, 375)
    yield probe
    context.close()
