"""The pages, role by role: what each sees, what each may change, what bad input gets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exporters.base import SyncType
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations

Login = Callable[[Any], FlaskClient]


@pytest.fixture
def sync(app: Flask, platform_test_type: SyncType) -> Sync:
    sync = Sync(type_key=platform_test_type.key, name="Nightly members", options={"rows": 2})
    db.session.add(sync)
    db.session.commit()
    return sync


def dest_fields(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Receiver",
        "host": "sftp.example.com",
        "protocol": "sftp",
        "directory": "in",
        "port": "",
        "username": "loyalty",
        "password": "s3cret-pass",
        "password_confirm": "s3cret-pass",
        "retries": "2",
    }
    data.update(overrides)
    return data


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# ------------------------------------------------------------------ list


def test_list_shows_columns_and_create_for_support(
    sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("support"))
    page = client.get("/syncs").text
    for column in ("Enable/Disable", "Execution Time", "Settings", "FTP Destinations", "Dashboard"):
        assert column in page
    assert "Nightly members" in page and "Create sync" in page
    assert "HX-Request" in client.get("/syncs").headers["Vary"]


@pytest.mark.parametrize("role", ["viewer", "sync_manager"])
def test_list_hides_create_for_others(role: str, sync: Sync, make_user: Any, login: Login) -> None:
    page = login(make_user(role)).get("/syncs").text
    assert "Nightly members" in page and "Create sync" not in page


def test_viewer_sees_no_edit_links(sync: Sync, make_user: Any, login: Login) -> None:
    page = login(make_user("viewer")).get("/syncs").text
    assert "/settings" not in page and "/enabled" not in page and "Add or Edit" not in page


def test_toggle_swaps_only_the_row_and_is_audited(sync: Sync, make_user: Any, login: Login) -> None:
    manager = make_user("sync_manager")
    client = login(manager)
    response = client.post(
        f"/syncs/{sync.id}/enabled", data={"enabled": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="sync-row-{sync.id}">')
    assert "<table" not in response.text and "Enabled" in response.text
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).enabled is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.enable"))
    assert event.user_id == manager.id and event.sync_id == sync.id


def test_toggle_without_htmx_redirects(sync: Sync, make_user: Any, login: Login) -> None:
    response = login(make_user("sync_manager")).post(
        f"/syncs/{sync.id}/enabled", data={"enabled": "1"}
    )
    assert response.status_code == 302


def test_toggle_bad_value(sync: Sync, make_user: Any, login: Login) -> None:
    response = login(make_user("sync_manager")).post(
        f"/syncs/{sync.id}/enabled", data={"enabled": "yes"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).enabled is False


# ------------------------------------------------------------------ create


def test_support_creates_a_sync(platform_test_type: SyncType, make_user: Any, login: Login) -> None:
    client = login(make_user("support"))
    assert "Platform Test Sync" in client.get("/syncs/new").text
    response = client.post(
        "/syncs/new", data={"type_key": platform_test_type.key, "name": "From the page"}
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Sync).where(Sync.name == "From the page"))
    assert created is not None and created.enabled is False


def test_create_bad_input_keeps_the_form(
    platform_test_type: SyncType, make_user: Any, login: Login
) -> None:
    client = login(make_user("support"))
    response = client.post("/syncs/new", data={"type_key": platform_test_type.key, "name": ""})
    assert response.status_code == 200 and "needs a name" in response.text
    assert db.session.scalar(select(func.count()).select_from(Sync)) == 0


def test_manager_cannot_create(platform_test_type: SyncType, make_user: Any, login: Login) -> None:
    assert login(make_user("sync_manager")).get("/syncs/new").status_code == 403


# ------------------------------------------------------------------ settings


def settings_form(**overrides: str) -> dict[str, str]:
    data = {
        "execution_time": "02:30",
        "timezone": "America/New_York",
        "compression": "gzip",
        "encryption": "none",
        "notify_emails": "ops@example.com, data@example.com",
        "option_rows": "5",
    }
    data.update(overrides)
    return data


def test_settings_save(sync: Sync, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    page = client.get(f"/syncs/{sync.id}/settings").text
    assert "Next runs" in page and "File layout" in page
    response = client.post(f"/syncs/{sync.id}/settings", data=settings_form())
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Sync, sync.id)
    assert (saved.execution_time, saved.timezone, saved.compression.value) == (
        "02:30",
        "America/New_York",
        "gzip",
    )
    assert saved.options["rows"] == 5
    assert saved.notify_emails == ["ops@example.com", "data@example.com"]
    assert "sync.settings" in audit_actions()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"execution_time": "25:61"}, "HH:MM"),
        ({"option_rows": "-3"}, "at least 0"),
        ({"notify_emails": "not an email"}, "Not an email address"),
        ({"encryption": "pgp"}, "recipient public key"),
    ],
)
def test_settings_bad_input_changes_nothing(
    override: dict[str, str], message: str, sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("sync_manager"))
    response = client.post(f"/syncs/{sync.id}/settings", data=settings_form(**override))
    assert response.status_code == 200
    assert message in response.text
    assert (
        'value="America/New_York" selected' in response.text or "America/New_York" in response.text
    )
    db.session.expire_all()
    saved = db.session.get(Sync, sync.id)
    assert (saved.execution_time, saved.timezone, saved.options) == ("03:00", "UTC", {"rows": 2})


def test_schedule_preview_notes_dst(sync: Sync, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    partial = client.get(
        f"/syncs/{sync.id}/settings/preview?execution_time=02:30&timezone=America/New_York",
        headers={"HX-Request": "true"},
    ).text
    assert partial.startswith('<div id="schedule-preview"')
    assert "does not exist" in partial and "UTC" in partial


def test_viewer_cannot_open_settings(sync: Sync, make_user: Any, login: Login) -> None:
    assert login(make_user("viewer")).get(f"/syncs/{sync.id}/settings").status_code == 403


def test_layout_page(
    sync: Sync, platform_test_type: SyncType, make_user: Any, login: Login
) -> None:
    page = login(make_user("viewer")).get(f"/sync-types/{platform_test_type.key}").text
    assert "PlatformTest_YYYYMMDDHHMMSS.txt" in page and "Id|Name" in page


# ------------------------------------------------------------------ destinations


def test_add_destination_and_password_never_shown(sync: Sync, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    assert client.get(f"/syncs/{sync.id}/destinations").status_code == 200
    response = client.post(f"/syncs/{sync.id}/destinations/new", data=dest_fields())
    assert response.status_code == 302
    destination = db.session.scalar(select(Destination))
    edit_page = client.get(f"/destinations/{destination.id}/edit").text
    assert "s3cret-pass" not in edit_page
    assert destination.password_encrypted not in edit_page
    assert "sftp.example.com" in edit_page


def test_mismatched_confirmation_shows_error_and_keeps_input(
    sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("sync_manager"))
    response = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data=dest_fields(password_confirm="different", name="Kept name"),
    )
    assert response.status_code == 200
    assert "The passwords do not match." in response.text
    assert 'value="Kept name"' in response.text
    assert "different" not in response.text  # passwords are never echoed
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_no_add_after_six(sync: Sync, make_user: Any, login: Login) -> None:
    for i in range(6):
        destinations.add_destination(sync, dest_fields(name=f"D{i}"), user=None)
    db.session.commit()
    client = login(make_user("sync_manager"))
    page = client.get(f"/syncs/{sync.id}/destinations").text
    assert "Add FTP Destination" not in page and "the most a sync can have" in page
    refused = client.post(f"/syncs/{sync.id}/destinations/new", data=dest_fields(name="D7"))
    assert "at most 6" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 6


def test_edit_keeps_password_when_empty_and_delete(
    sync: Sync, make_user: Any, login: Login
) -> None:
    destination = destinations.add_destination(sync, dest_fields(), user=None)
    db.session.commit()
    token = destination.password_encrypted
    client = login(make_user("sync_manager"))
    response = client.post(
        f"/destinations/{destination.id}/edit",
        data=dest_fields(name="Renamed", password="", password_confirm=""),
    )
    assert response.status_code == 302
    db.session.expire_all()
    edited = db.session.get(Destination, destination.id)
    assert edited.name == "Renamed" and edited.password_encrypted == token
    # Without confirm the POST only shows the confirmation page; with it, deletes.
    assert client.post(f"/destinations/{destination.id}/delete").status_code == 200
    assert db.session.get(Destination, destination.id) is not None
    confirmed = client.post(f"/destinations/{destination.id}/delete", data={"confirm": "delete"})
    assert confirmed.status_code == 302
    assert db.session.get(Destination, destination.id) is None
    assert {"destination.create", "destination.update", "destination.delete"} <= set(
        audit_actions()
    )


# ------------------------------------------------------------------ dashboard, details, downloads


def make_run(
    app: Flask, sync: Sync, status: CreationStatus = CreationStatus.SUCCEEDED
) -> SyncInstance:
    run = SyncInstance(
        sync_id=sync.id, trigger=Trigger.MANUAL, creation_status=status, run_started_at=utcnow()
    )
    db.session.add(run)
    db.session.flush()
    folder = Path(app.config["EXPORT_DIR"]) / f"sync-{sync.id}" / f"run-{run.id}" / "original"
    folder.mkdir(parents=True)
    content = b"Id|Name\r\n1|row 1\r\n"
    (folder / "PlatformTest_1.txt").write_bytes(content)
    db.session.add(
        SyncFile(
            instance_id=run.id,
            role=FileRole.ORIGINAL,
            name="PlatformTest_1.txt",
            path=f"sync-{sync.id}/run-{run.id}/original/PlatformTest_1.txt",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            rows=1,
        )
    )
    db.session.commit()
    return run


def test_dashboard_and_details(app: Flask, sync: Sync, make_user: Any, login: Login) -> None:
    run = make_run(app, sync)
    client = login(make_user("viewer"))
    page = client.get(f"/syncs/{sync.id}/dashboard").text
    assert f'id="run-{run.id}"' in page and "Created" in page and "Complete" not in page
    assert "Process New Sync" not in page  # viewers cannot run
    creation = client.get(f"/syncs/{sync.id}/runs/{run.id}/creation").text
    assert "PlatformTest_1.txt" in creation and "Download" not in creation
    assert client.get(f"/syncs/{sync.id}/runs/{run.id}/transfers").status_code == 200
    assert client.get(f"/syncs/{sync.id + 1}/runs/{run.id}/creation").status_code == 404


def test_live_row_polls_until_final(app: Flask, sync: Sync, make_user: Any, login: Login) -> None:
    running = make_run(app, sync, CreationStatus.RUNNING)
    client = login(make_user("viewer"))
    live = client.get(f"/runs/{running.id}/row", headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 2s, refresh"' in live and "data-poll" in live
    running.creation_status = CreationStatus.SUCCEEDED
    db.session.commit()
    final = client.get(f"/runs/{running.id}/row", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in final and "Created" in final


def test_transfer_progress_bar(app: Flask, sync: Sync, make_user: Any, login: Login) -> None:
    run = make_run(app, sync)
    db.session.add(
        Transfer(
            instance_id=run.id,
            destination_name="Partner",
            status=TransferStatus.TRANSFERRING,
            bytes_total=1000,
            bytes_sent=250,
        )
    )
    db.session.commit()
    row = login(make_user("viewer")).get(f"/runs/{run.id}/row").text
    assert '<progress max="1000" value="250"' in row and "hx-trigger" in row


def test_download_is_audited_and_exact(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    run = make_run(app, sync)
    original = run.files[0]
    manager = make_user("sync_manager")
    response = login(manager).get(f"/files/{original.id}/download")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == original.sha256
    assert "attachment" in response.headers["Content-Disposition"]
    response.close()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "file.download"))
    assert event.user_id == manager.id and event.detail["sha256"] == original.sha256


def test_viewer_cannot_download(app: Flask, sync: Sync, make_user: Any, login: Login) -> None:
    run = make_run(app, sync)
    assert login(make_user("viewer")).get(f"/files/{run.files[0].id}/download").status_code == 403
    assert "file.download" not in audit_actions()


def test_missing_file_is_404(app: Flask, sync: Sync, make_user: Any, login: Login) -> None:
    run = make_run(app, sync)
    (Path(app.config["EXPORT_DIR"]) / run.files[0].path).unlink()
    assert (
        login(make_user("sync_manager")).get(f"/files/{run.files[0].id}/download").status_code
        == 404
    )


def test_retransfer_of_failed_run_is_refused(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    run = make_run(app, sync, CreationStatus.FAILED)
    client = login(make_user("sync_manager"))
    response = client.post(f"/syncs/{sync.id}/runs/{run.id}/retransfer", follow_redirects=True)
    assert "Only a run whose files were created" in response.text


# ------------------------------------------------------------------ audit page


def test_audit_page_filters(sync: Sync, make_user: Any, login: Login) -> None:
    support = make_user("support")
    client = login(support)
    client.post(f"/syncs/{sync.id}/enabled", data={"enabled": "1"})
    page = client.get(f"/support/audit?sync={sync.id}&action=sync").text
    assert "<code>sync.enable</code>" in page and "<code>auth.login</code>" not in page
    by_user = client.get(f"/support/audit?user={support.id}&action=auth.login").text
    assert "<code>auth.login</code>" in by_user and "<code>sync.enable</code>" not in by_user


def test_list_shows_each_syncs_newest_run(
    app: Flask, sync: Sync, platform_test_type: SyncType, make_user: Any, login: Login
) -> None:
    from webapp.services import syncs

    other = Sync(type_key=platform_test_type.key, name="Never run", options={"rows": 1})
    busy = Sync(type_key=platform_test_type.key, name="Busy", options={"rows": 1})
    db.session.add_all([other, busy])
    db.session.commit()
    # Interleaved, so the newest of one sync is older than another sync's runs.
    make_run(app, sync, CreationStatus.SUCCEEDED)
    make_run(app, busy, CreationStatus.SUCCEEDED)
    newest = make_run(app, sync, CreationStatus.FAILED)
    busy_newest = make_run(app, busy, CreationStatus.RUNNING)
    last = syncs.last_runs([sync, other, busy])
    assert {k: v.id for k, v in last.items()} == {sync.id: newest.id, busy.id: busy_newest.id}
    page = login(make_user("viewer")).get("/syncs").text
    row = page[page.index(f'id="sync-row-{sync.id}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="status failed"' in row
    never = page[page.index(f'id="sync-row-{other.id}"') :]
    assert "never run" in never[: never.index("</tr>")]
