"""Issue 14, settings side: confirmed deletes, My account, timezones, role by role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exporters.base import SyncType
from tests.conftest import PASSWORD
from tests.integration.web.test_pages import dest_fields, make_run
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import SyncFile, SyncInstance
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations

Login = Callable[[Any], FlaskClient]


@pytest.fixture
def sync(app: Flask, platform_test_type: SyncType) -> Sync:
    sync = Sync(type_key=platform_test_type.key, name="Nightly members", options={"rows": 2})
    db.session.add(sync)
    db.session.commit()
    return sync


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def sync_folder(app: Flask, sync_id: int) -> Path:
    return Path(app.config["EXPORT_DIR"]) / f"sync-{sync_id}"


# ------------------------------------------------------------------ delete a sync


def test_delete_page_says_what_is_lost_and_cancel_keeps_everything(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    make_run(app, sync)
    make_run(app, sync)
    client = login(make_user("support"))
    settings = client.get(f"/syncs/{sync.id}/settings").text
    assert f'href="/syncs/{sync.id}/delete"' in settings  # a link to the confirmation, no form
    page = client.get(f"/syncs/{sync.id}/delete").text
    assert "2 runs" in page and "2 files on disk, 36 B" in page and 'name="confirm"' in page
    # A POST without the confirmation (an old one-click form) deletes nothing.
    assert client.post(f"/syncs/{sync.id}/delete").status_code == 200
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is not None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 2
    assert len(list(sync_folder(app, sync.id).rglob("*.txt"))) == 2
    assert "sync.delete" not in actions()


def test_confirmed_delete_removes_runs_and_files_after_commit(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    make_run(app, sync)
    folder = sync_folder(app, sync.id)
    (folder / "leftover.tmp").write_bytes(b"x" * 10)  # a killed attempt's leftovers go too
    client = login(make_user("support"))
    response = client.post(f"/syncs/{sync.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 0
    assert db.session.scalar(select(func.count()).select_from(SyncFile)) == 0
    assert not folder.exists()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.delete"))
    assert event.detail["runs"] == 1 and event.detail["bytes_on_disk"] == 28


def test_failed_delete_keeps_the_files(
    app: Flask, sync: Sync, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.services import syncs

    make_run(app, sync)
    support = make_user("support")
    folder = syncs.delete_sync(sync, user=support)
    db.session.rollback()  # the transaction did not commit: nothing may be removed
    assert folder.exists() and db.session.get(Sync, sync.id) is not None


@pytest.mark.parametrize("role", ["viewer", "sync_manager"])
def test_delete_sync_is_support_only(
    role: str, app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user(role))
    assert client.get(f"/syncs/{sync.id}/delete").status_code == 403
    assert client.post(f"/syncs/{sync.id}/delete", data={"confirm": "delete"}).status_code == 403
    assert db.session.get(Sync, sync.id) is not None


def test_remove_export_folder_refuses_other_paths(app: Flask, tmp_path: Path) -> None:
    from webapp.services import syncs

    with pytest.raises(ValueError, match="not a sync folder"):
        syncs.remove_export_folder(Path(app.config["EXPORT_DIR"]))
    with pytest.raises(ValueError, match="not a sync folder"):
        syncs.remove_export_folder(tmp_path / "sync-1")


# ------------------------------------------------------------------ delete a destination


def test_destination_delete_is_confirmed(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    destination = destinations.add_destination(sync, dest_fields(), user=None, actor="test")
    db.session.commit()
    client = login(make_user("sync_manager"))
    listing = client.get(f"/syncs/{sync.id}/destinations").text
    assert f'href="/destinations/{destination.id}/delete"' in listing
    page = client.get(f"/destinations/{destination.id}/delete").text
    assert "Delete destination" in page and "sftp.example.com:22" in page
    assert client.post(f"/destinations/{destination.id}/delete").status_code == 200
    assert db.session.get(Destination, destination.id) is not None
    response = client.post(f"/destinations/{destination.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Destination, destination.id) is None
    assert "destination.delete" in actions()


def test_viewer_cannot_delete_a_destination(sync: Sync, make_user: Any, login: Login) -> None:
    destination = destinations.add_destination(sync, dest_fields(), user=None, actor="test")
    db.session.commit()
    client = login(make_user("viewer"))
    assert client.get(f"/destinations/{destination.id}/delete").status_code == 403
    response = client.post(f"/destinations/{destination.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 403


# ------------------------------------------------------------------ My account


@pytest.mark.parametrize(
    ("role", "label", "may_create"),
    [("viewer", "Viewer", False), ("sync_manager", "Sync manager", False), ("support", "Support", True)],
)
def test_account_page_shows_role_and_permissions(
    role: str, label: str, may_create: bool, make_user: Any, login: Login
) -> None:
    user = make_user(role)
    page = login(user).get("/account").text
    assert user.email in page and f'id="account-role">{label}<' in page
    assert ("✓ Create and delete syncs" in page) is may_create
    assert 'href="/account"' in page  # the header's user name links here


def test_password_change_ends_other_sessions(
    app: Flask, make_user: Any, login: Login
) -> None:
    user = make_user("viewer")
    client = login(user)
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert other.get("/syncs").status_code == 200
    new = "a much longer secret"
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session continues
    assert other.get("/syncs").status_code == 302  # the other one has ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": user.email, "password": new}).status_code == 302
    assert "user.password" in actions()


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password!", "a much longer secret", "a much longer secret", "not your current"),
        (PASSWORD, "short", "short", "at least 10"),
        (PASSWORD, "a much longer secret", "another secret!!", "do not match"),
        (PASSWORD, PASSWORD, PASSWORD, "other than the current"),
    ],
)
def test_password_change_refusals_change_nothing(
    current: str, new: str, confirm: str, message: str, make_user: Any, login: Login
) -> None:
    user = make_user("sync_manager")
    client = login(user)
    before = (user.password_hash, user.session_version)
    response = client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "new_password_confirm": confirm},
    )
    assert response.status_code == 200 and message in response.text
    db.session.expire_all()
    assert (user.password_hash, user.session_version) == before
    assert client.get("/account").status_code == 200


# ------------------------------------------------------------------ timezones


def test_timezone_select_is_canonical_with_common_zones_first(
    sync: Sync, make_user: Any, login: Login
) -> None:
    page = login(make_user("sync_manager")).get(f"/syncs/{sync.id}/settings").text
    select_html = page.split('id="timezone"', 1)[1].split("</select>", 1)[0]
    assert select_html.index('label="Common"') < select_html.index('label="Africa"')
    assert '"Europe/Oslo"' in select_html and '"America/Argentina/Buenos_Aires"' in select_html
    for excluded in ("localtime", "Factory", "US/Eastern", "Etc/GMT+5", "posixrules", "EST5EDT"):
        assert f'value="{excluded}"' not in select_html
    assert 'data-filter-select="#timezone"' in page


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("US/Eastern", "old alias of America/New_York"),
        ("Factory", "not offered"),
        ("Mars/Olympus", "Unknown timezone &#39;Mars/Olympus&#39;"),
    ],
)
def test_bad_timezone_is_named_and_kept_in_the_select(
    zone: str, message: str, sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("sync_manager"))
    response = client.post(
        f"/syncs/{sync.id}/settings",
        data={"execution_time": "04:00", "timezone": zone, "compression": "none", "encryption": "none"},
    )
    assert response.status_code == 200 and message in response.text
    assert f'<option selected value="{zone}">' in response.text
    assert "Africa/Abidjan\" selected" not in response.text
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).execution_time == "03:00"  # nothing stored


def test_sync_in_a_legacy_zone_keeps_it_on_save(sync: Sync, make_user: Any, login: Login) -> None:
    sync.timezone = "US/Eastern"
    db.session.commit()
    client = login(make_user("sync_manager"))
    assert 'value="US/Eastern"' in client.get(f"/syncs/{sync.id}/settings").text
    response = client.post(
        f"/syncs/{sync.id}/settings",
        data={"execution_time": "04:00", "timezone": "US/Eastern", "compression": "none", "encryption": "none"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).execution_time == "04:00"


def test_cli_timezone_goes_through_the_same_check(app: Flask, sync: Sync, runner: Any) -> None:
    result = runner.invoke(args=["sync", "set", str(sync.id), "--timezone", "localtime"])
    assert result.exit_code != 0 and "localtime" in result.output and "not offered" in result.output
    result = runner.invoke(args=["sync", "set", str(sync.id), "--timezone", "Europe/Oslo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).timezone == "Europe/Oslo"
