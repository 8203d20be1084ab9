"""Browser tests: a real Chromium (Debian's, never a downloaded one) driven by Playwright against pytest-django's
live server.

Playwright's sync API runs an asyncio event loop in the test thread, and Django refuses ORM calls from a thread
with a running loop unless told otherwise. The ORM work here (fixtures, flushes between tests) is ordinary
synchronous code that merely shares the thread, so the guard is switched off for these tests (it must be set before
the first ORM call under Playwright, hence at import).
"""

import os

import pytest
from django.db import connections

from scripts.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

LOCALE = "zh-CN"


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"Chromium not installed at {CHROMIUM}: browser tests must run in CI "
            "(apt-get install chromium fonts-noto-cjk)",
            pytrace=False,
        )
    pytest.skip(f"Chromium not installed at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")


@pytest.fixture
def browser_page():
    """A fresh Chromium page (1280x900, zh-CN); the browser is closed after the test."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale=LOCALE)
            context.set_default_timeout(10_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()
            # While Playwright's loop is registered as running, Django keeps this thread's connections in a separate
            # (context-local) slot; close them here, or the test database cannot be dropped at the end of the run.
            connections.close_all()


PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": LOCALE,
}


@pytest.fixture
def phone_page():
    """A fresh Chromium page as a phone shows it (360x740 CSS pixels at 2x, touch, zh-CN); the browser is closed
    after the test. `phone_page.context.browser` opens further contexts (a cadre's desktop) in the same browser."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**PHONE)
            context.set_default_timeout(10_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()
            connections.close_all()  # as in browser_page
