"""The pages in a real browser: login, the inline toggle, destination forms."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from exporters.base import SyncType
from tests.browser.conftest import log_in, screenshot
from webapp.extensions import db
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations

pytestmark = pytest.mark.browser


@pytest.fixture
def three_syncs(app: Any, platform_test_type: SyncType) -> list[Sync]:
    items = [
        Sync(type_key=platform_test_type.key, name=f"Sync {c}", timezone="Europe/London")
        for c in "ABC"
    ]
    db.session.add_all(items)
    db.session.commit()
    return items


def test_login_and_toggle_changes_only_its_row(
    page: Any, make_user: Any, three_syncs: list[Sync]
) -> None:
    log_in(page, make_user("sync_manager"))
    first, second, third = three_syncs
    # Tag the rows in the live DOM: a swap of only row B leaves A and C the same nodes.
    page.evaluate(
        "document.querySelectorAll('#sync-table tbody tr').forEach(r => r.dataset.mark = 'before')"
    )
    row = page.locator(f"#sync-row-{second.id}")
    row.get_by_role("button", name=f"Enable {second.name}").click()
    page.locator(f"#sync-row-{second.id} .status.enabled").wait_for()
    marks = page.evaluate(
        "[...document.querySelectorAll('#sync-table tbody tr')].map(r => [r.id, r.dataset.mark || null])"
    )
    assert marks == [
        [f"sync-row-{first.id}", "before"],
        [f"sync-row-{second.id}", None],
        [f"sync-row-{third.id}", "before"],
    ]
    assert page.url.endswith("/syncs")  # no navigation happened
    db.session.expire_all()
    assert [db.session.get(Sync, s.id).enabled for s in three_syncs] == [False, True, False]
    screenshot(page, "sync-list")
    page.locator(f"#sync-row-{second.id}").get_by_role(
        "button", name=f"Disable {second.name}"
    ).click()
    page.locator(f"#sync-row-{second.id} .status.disabled").wait_for()


def fill_destination(page: Any, name: str, password: str, confirm: str) -> None:
    page.fill("#name", name)
    page.fill("#host", "sftp.example.com")
    page.select_option("#protocol", "sftp")
    page.fill("#directory", "incoming")
    page.fill("#username", "loyalty")
    page.fill("#password", password)
    page.fill("#password_confirm", confirm)
    page.select_option("#retries", "3")


def save_untested(page: Any, sync: Sync) -> None:
    """Save a destination that was never tested: saved, with a warning, on its edit page
    (where Test connection is); then back to the list."""
    page.click("text=Save FTP Destination")
    page.wait_for_url("**/edit#test-connection")
    page.locator(".flashes .flash-warning", has_text="never tested").wait_for()
    page.goto(f"/syncs/{sync.id}/destinations")


def test_destination_mismatch_then_sixth_has_no_add(
    page: Any, make_user: Any, three_syncs: list[Sync]
) -> None:
    sync = three_syncs[0]
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/destinations")
    page.click("#add-destination")
    fill_destination(page, "Partner SFTP", "one-password", "another-password")
    page.click("text=Save FTP Destination")
    error = page.locator("#password_confirm-error")
    error.wait_for()
    assert error.inner_text() == "The passwords do not match."
    assert page.input_value("#name") == "Partner SFTP"  # the user's other input is kept
    assert page.input_value("#password") == ""  # secrets are never sent back
    screenshot(page, "destination-form-error")
    fill_destination(page, "Partner SFTP", "one-password", "one-password")
    save_untested(page, sync)
    for i in range(2, 7):
        page.click("#add-destination")
        fill_destination(page, f"Partner {i}", "pw-number-one", "pw-number-one")
        save_untested(page, sync)
    assert page.locator("#add-destination").count() == 0
    assert page.locator("#destinations-full").is_visible()
    assert page.locator("#destination-table tbody tr").count() == 6
    screenshot(page, "destinations")
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 6


def test_settings_preview_updates_while_typing(
    page: Any, make_user: Any, three_syncs: list[Sync]
) -> None:
    sync = three_syncs[0]
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/settings")
    page.select_option("#timezone", "America/New_York")
    page.fill("#execution_time", "02:30")
    page.locator("#schedule-preview .warning", has_text="does not exist").first.wait_for()
    screenshot(page, "settings")
    page.click("text=Save settings")
    page.locator(".flashes", has_text="Settings saved").wait_for()
    db.session.expire_all()
    saved = db.session.get(Sync, sync.id)
    assert (saved.execution_time, saved.timezone) == ("02:30", "America/New_York")


def test_anonymous_htmx_request_goes_to_login(
    page: Any, make_user: Any, three_syncs: list[Sync]
) -> None:
    user = make_user("sync_manager")
    log_in(page, user)
    page.context.clear_cookies()  # the session ends while the page is open
    page.locator(f"#sync-row-{three_syncs[0].id}").get_by_role(
        "button", name=f"Enable {three_syncs[0].name}"
    ).click()
    page.wait_for_url("**/login")


def test_destination_edit_never_shows_password(
    page: Any, make_user: Any, three_syncs: list[Sync]
) -> None:
    sync = three_syncs[0]
    destination = destinations.add_destination(
        sync,
        {
            "name": "R",
            "host": "h.example",
            "protocol": "sftp",
            "username": "u",
            "password": "hidden-pass-1",
            "password_confirm": "hidden-pass-1",
        },
        user=None,
    )
    db.session.commit()
    log_in(page, make_user("sync_manager"))
    page.goto(f"/destinations/{destination.id}/edit")
    assert page.input_value("#password") == ""
    assert "hidden-pass-1" not in page.content()


def test_test_connection_polls_for_the_job_and_pins_the_key(
    page: Any, make_user: Any, three_syncs: list[Sync], sshd_server: Any, worker_process: Any
) -> None:
    """Test connection is a job: the box polls every second until the worker's outcome
    arrives (then stops polling), and the presented host key can be pinned on save."""
    sync = three_syncs[0]
    remote, _ = sshd_server.fresh_dir()
    log_in(page, make_user("sync_manager"))
    page.goto(f"/syncs/{sync.id}/destinations/new")
    page.fill("#name", "Partner SFTP")
    page.fill("#host", sshd_server.host)
    page.select_option("#protocol", "sftp")
    page.fill("#port", str(sshd_server.port))
    page.fill("#directory", remote)
    page.fill("#username", sshd_server.username)
    page.fill("#password", sshd_server.password)
    page.fill("#password_confirm", sshd_server.password)
    page.click("#test-connection")
    page.locator("#test-outcome .status.succeeded").wait_for()
    outcome = page.locator("#test-outcome")
    assert "Connected" in outcome.inner_text()
    assert sshd_server.host_key_fingerprint in outcome.inner_text()
    assert outcome.get_attribute("hx-trigger") is None  # polling stopped
    assert page.locator("input[name=host_key_fingerprint]").is_checked()
    page.get_by_role("button", name="Save FTP Destination").click()
    page.wait_for_url(f"**/syncs/{sync.id}/destinations")
    db.session.expire_all()
    saved = db.session.scalar(select(Destination).where(Destination.sync_id == sync.id))
    assert saved is not None
    assert saved.host_key_fingerprint == sshd_server.host_key_fingerprint
