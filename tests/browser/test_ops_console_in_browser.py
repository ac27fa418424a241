"""Issue 14 (settings side) in Chromium: confirmed delete, the scope picker, changing
one's password, the Testing… indicator, and every sync page at 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from exporters.base import SyncType
from tests.browser.conftest import log_in, screenshot
from tests.conftest import PASSWORD
from tests.integration.web.test_pages import dest_fields, make_run
from webapp.extensions import db
from webapp.models.runs import SyncInstance
from webapp.models.syncs import Sync
from webapp.services import destinations

pytestmark = pytest.mark.browser


@pytest.fixture
def sync(app: Any, platform_test_type: SyncType) -> Sync:
    sync = Sync(type_key=platform_test_type.key, name="Nightly members", options={"rows": 2})
    db.session.add(sync)
    db.session.commit()
    return sync


def test_delete_confirmation_cancel_keeps_and_confirm_removes(
    app: Any, page: Any, make_user: Any, sync: Sync
) -> None:
    make_run(app, sync)
    make_run(app, sync)
    sync_id = sync.id
    folder = Path(app.config["EXPORT_DIR"]) / f"sync-{sync_id}"
    log_in(page, make_user("support"))
    page.goto(f"/syncs/{sync.id}/settings")
    page.click("#delete-sync")
    page.wait_for_url(f"**/syncs/{sync.id}/delete")
    assert "2 runs" in page.inner_text("#impact-runs")
    assert "2 files on disk" in page.inner_text("#impact-files")
    screenshot(page, "delete-sync-confirm")
    page.click("#cancel-delete")
    page.wait_for_url(f"**/syncs/{sync.id}/settings")
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is not None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 2
    assert len(list(folder.rglob("*.txt"))) == 2
    page.click("#delete-sync")
    page.click("#confirm-delete")
    page.wait_for_url("**/syncs")
    page.locator(".flashes", has_text="deleted").wait_for()
    db.session.expire_all()
    assert db.session.get(Sync, sync_id) is None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 0
    assert not folder.exists()


def test_scope_picker_on_create_sync(app: Any, page: Any, make_user: Any) -> None:
    from loyalty.models import Descriptor

    db.session.add_all(
        [
            Descriptor(ext_ref="ABC", name="Alphabet"),
            Descriptor(ext_ref="GOLD", name="Gold members"),
            Descriptor(ext_ref="SILV", name="Silver members"),
        ]
    )
    db.session.commit()
    log_in(page, make_user("support"))
    page.goto("/syncs/new")
    page.select_option("#type_key", "member_descriptor")
    page.locator("#scope_id").wait_for()
    assert page.input_value("#scope_id") == ""  # nothing chosen unseen (it was "ABC")
    page.fill("#name", "Silver to CRM")
    page.get_by_role("button", name="Create sync").click()
    page.locator(".error", has_text="Member descriptor is required").wait_for()
    # The refused form comes back with the type kept and its scope field in place.
    assert page.input_value("#type_key") == "member_descriptor"
    page.locator("#scope-search").wait_for(state="visible")
    page.fill("#scope-search", "silver")
    visible = page.evaluate(
        "[...document.querySelectorAll('#scope_id option')].filter(o => !o.hidden && o.value)"
        ".map(o => o.text)"
    )
    assert visible == ["SILV — Silver members"]
    page.fill("#scope-search", "gold")  # the external reference is searched too
    page.press("#scope-search", "Enter")  # Enter picks the first match
    assert "GOLD" in page.evaluate("document.querySelector('#scope_id').selectedOptions[0].text")
    screenshot(page, "create-sync-scope")
    page.fill("#name", "Gold to CRM")
    page.get_by_role("button", name="Create sync").click()
    page.wait_for_url("**/settings")
    assert page.inner_text("#scope-current") == "Member descriptor: GOLD"
    db.session.expire_all()
    created = db.session.scalar(select(Sync).where(Sync.name == "Gold to CRM"))
    gold = db.session.scalar(select(Descriptor).where(Descriptor.ext_ref == "GOLD"))
    assert created is not None and created.scope == {"descriptor_id": gold.id}


def test_password_change_logs_out_other_sessions(
    browser: Any, live_server: Any, page: Any, make_user: Any
) -> None:
    user = make_user("viewer")
    log_in(page, user)
    other_context = browser.new_context(base_url=live_server.url)
    other = other_context.new_page()
    try:
        log_in(other, user)
        page.click("a.who")  # the user name in the header
        page.wait_for_url("**/account")
        assert page.inner_text("#account-role") == "Viewer"
        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", "a brand new secret")
        page.fill("#new_password_confirm", "a brand new secret")
        screenshot(page, "account")
        page.get_by_role("button", name="Change password").click()
        page.locator(".flashes", has_text="Password changed").wait_for()
        other.goto("/syncs")
        other.wait_for_url("**/login**")  # the other session has ended
        page.goto("/syncs")
        assert page.url.endswith("/syncs")  # this one continues
        page.click("text=Log out")
        page.wait_for_url("**/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.locator("text=Wrong email or password.").wait_for()
        page.fill("#email", user.email)
        page.fill("#password", "a brand new secret")
        page.click("button[type=submit]")
        page.wait_for_url("**/syncs")
    finally:
        other_context.close()


def test_testing_indicator_is_hidden_at_rest(page: Any, make_user: Any, sync: Sync) -> None:
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/destinations/new")
    assert page.locator("#test-busy").count() == 1
    assert not page.locator("#test-busy").is_visible()


@pytest.fixture
def narrow_page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def test_sync_pages_fit_390_px(app: Any, narrow_page: Any, make_user: Any, sync: Sync) -> None:
    make_run(app, sync)
    destinations.add_destination(
        sync, dest_fields(name="A receiver with a rather long name"), user=None, actor="test"
    )
    db.session.commit()
    page = narrow_page
    log_in(page, make_user("support"))
    for name, path in [
        ("list", "/syncs"),
        ("settings", f"/syncs/{sync.id}/settings"),
        ("destinations", f"/syncs/{sync.id}/destinations"),
        ("dashboard", f"/syncs/{sync.id}/dashboard"),
    ]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        logout = page.get_by_role("button", name="Log out").bounding_box()
        assert logout is not None and logout["x"] >= 0 and logout["x"] + logout["width"] <= 390
        assert logout["height"] >= 16  # readable, not squeezed
        screenshot(page, f"mobile-{name}")


def test_timezone_picker_is_searchable(page: Any, make_user: Any, sync: Sync) -> None:
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/settings")
    page.fill("#timezone-search", "oslo")
    visible = page.evaluate(
        "[...document.querySelectorAll('#timezone option')].filter(o => !o.hidden).map(o => o.value)"
    )
    assert visible == ["Europe/Oslo"]
    assert page.inner_text("#timezone-search-count") == "1 match"
    page.press("#timezone-search", "Enter")
    assert page.input_value("#timezone") == "Europe/Oslo"
    page.get_by_role("button", name="Save settings").click()
    page.locator(".flashes", has_text="Settings saved").wait_for()
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).timezone == "Europe/Oslo"
