"""The API reference page (vendored Swagger UI) renders under the app's CSP, and the API
tokens page creates a token shown once that then works against the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_reference_page_renders_every_operation_under_the_csp(page: Any) -> None:
    # The page fixture fails the test on any console error: a CSP violation is one.
    response = page.goto("/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 30
    assert page.get_by_text("/api/v1/runs/{run_id}/status").count() >= 1
    screenshot(page, "api-reference")


def test_token_created_on_the_page_is_shown_once_and_works(
    page: Any, make_user: Callable[..., Any]
) -> None:
    user = make_user("sync_manager")
    log_in(page, user)
    page.click("a.tokens-link")
    page.wait_for_url("**/account/tokens")
    page.fill("#name", "nightly scheduler")
    page.click("text=Create token")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("lsync_")
    api = page.request.get("/api/v1/syncs", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200
    page.goto("/account/tokens")
    assert token not in page.content()
    assert page.locator("td", has_text="nightly scheduler").count() == 1
    page.click("text=Revoke")
    page.wait_for_url("**/account/tokens")
    assert page.get_by_text("Revoked").count() >= 1
    refused = page.request.get("/api/v1/syncs", headers={"Authorization": f"Bearer {token}"})
    assert refused.status == 401
