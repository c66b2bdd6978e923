"""Browser tests drive Debian's Chromium through Playwright. Without a browser they are deselected,
never skipped-as-passed, and the run says so plainly."""

import os
import shutil
from pathlib import Path

import pytest

from tests.missing_programs import deselect_and_say

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def browser_available() -> bool:
    return Path(CHROMIUM).exists()


@pytest.hookimpl(trylast=True)  # after -m: browser tests a marker expression left out need no word
def pytest_collection_modifyitems(config, items):
    if browser_available():
        return
    browser_tests = [item for item in items if "tests/browser/" in str(item.fspath)]
    deselect_and_say(config, items, browser_tests, what="BROWSER TESTS", missing=f"no Chromium at {CHROMIUM}",
                     install="apt-get install chromium")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own (synchronous) database
    # work there would otherwise be refused by Django's async-safety guard.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()
