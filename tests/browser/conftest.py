"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Playwright never downloads a browser here; the Debian package is launched directly with
the flags a root, offline machine needs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Screenshots go to a scratch folder, so that a test run never rewrites the tracked PNGs
# in docs/screenshots/; `make screenshots` points this at docs/screenshots on purpose.
SCREENSHOTS = Path(
    os.environ.get("LOYALTY_SYNC_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "loyalty-sync-screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # The browser goes through the real CSRF protection, htmx requests included.
    return {**app_config, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 850}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A 401 carrying HX-Redirect is how htmx is sent to the login page; the browser logs it.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "status of 401" not in msg.text
            else None
        ),
    )
    yield page
    context.close()
    assert errors == [], f"browser errors: {errors}"


def log_in(page: Any, user: Any) -> None:
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/syncs")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
