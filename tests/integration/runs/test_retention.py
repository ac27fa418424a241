"""Retention with a clock: the daily purge removes old runs' files (rows, hashes and audit
stay), purged runs say so and refuse re-transfer and download, the purge is claimed once
a day, and the change log is pruned only below what every sync still needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from jobs import retention as retention_job
from jobs.build import run_dir
from jobs.retention import purge, purge_due
from loyalty.changefeed import changes_since, current_watermark
from loyalty.db import utcnow
from loyalty.errors import ValidationError
from loyalty.models import ChangeKind, ChangeLog
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.maintenance import MaintenanceRun
from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
from webapp.models.syncs import Sync
from webapp.services import retention, runs, syncs
from webapp.services.dispatch import queue

pytestmark = pytest.mark.integration


@pytest.fixture
def support_client(make_user: Callable[..., Any], login: Callable[[Any], Any]) -> Any:
    return login(make_user("support"))


def two_runs(make_sync: Callable[..., Sync], run_jobs: Callable[[], None], **policy: Any) -> Sync:
    sync = make_sync("Kept files")
    for key, value in policy.items():
        setattr(sync, key, value)
    db.session.commit()
    for _ in range(2):
        runs.start_manual_run(sync, user=None, actor="test")
        run_jobs()
    return sync


def all_runs(sync: Sync) -> list[SyncInstance]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SyncInstance).where(SyncInstance.sync_id == sync.id).order_by(SyncInstance.id)
        )
    )


def test_default_policy_is_90_days_and_editable_in_settings(
    app: Flask, make_sync: Callable[..., Sync], support_client: Any
) -> None:
    sync = make_sync("Policy")
    assert (sync.retention_days, sync.retention_runs) == (90, None)
    page = support_client.get(f"/syncs/{sync.id}/settings").get_data(as_text=True)
    assert 'name="retention_days"' in page and 'value="90"' in page
    changed = syncs.update_settings(
        sync, {"retention_days": "", "retention_runs": "5"}, user=None, actor="test"
    )
    assert changed["retention_days"] == {"from": 90, "to": None}
    assert (sync.retention_days, sync.retention_runs) == (None, 5)
    with pytest.raises(ValidationError) as refused:
        syncs.update_settings(sync, {"retention_days": "0"}, user=None, actor="test")
    assert "between 1" in refused.value.errors["retention_days"]
    with pytest.raises(ValidationError):
        syncs.update_settings(sync, {"retention_runs": "ten"}, user=None, actor="test")


def test_settings_page_saves_the_policy_and_refuses_bad_values(
    app: Flask, make_sync: Callable[..., Sync], support_client: Any
) -> None:
    from tests.integration.web.test_pages import settings_form

    sync = make_sync("Policy page")
    saved = support_client.post(
        f"/syncs/{sync.id}/settings",
        data=settings_form(retention_days="30", retention_runs="3"),
        follow_redirects=True,
    )
    assert "Settings saved." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert (sync.retention_days, sync.retention_runs) == (30, 3)
    refused = support_client.post(
        f"/syncs/{sync.id}/settings", data=settings_form(retention_days="-1", retention_runs="")
    )
    assert refused.status_code == 200
    assert "Keep files for (days) must be between 1" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert (sync.retention_days, sync.retention_runs) == (30, 3)  # nothing stored
    # A form without the fields (an older page, a script) leaves the policy alone.
    support_client.post(f"/syncs/{sync.id}/settings", data=settings_form())
    db.session.expire_all()
    assert (sync.retention_days, sync.retention_runs) == (30, 3)


def test_purge_removes_old_files_keeps_rows_and_refuses_retransfer(
    app: Flask,
    make_sync: Callable[..., Sync],
    run_jobs: Callable[[], None],
    sftp_destination: Callable[..., Any],
    support_client: Any,
) -> None:
    sync = make_sync("Kept files")
    sftp_destination(sync)
    sync.retention_days, sync.retention_runs = 30, 1
    db.session.commit()
    for _ in range(2):
        runs.start_manual_run(sync, user=None, actor="test")
        run_jobs()
    old, new = all_runs(sync)
    assert old.creation_status == new.creation_status == CreationStatus.SUCCEEDED
    before = retention.stored_bytes(sync.id)
    assert before > 0
    hashes = sorted(f.sha256 for f in old.files)

    # 29 days later nothing is old enough; 31 days later the older run goes, the last is kept.
    assert purge(now=utcnow() + timedelta(days=29))["runs"] == 0
    later = utcnow() + timedelta(days=31)
    assert purge(now=later)["runs"] == 1
    old, new = all_runs(sync)
    assert old.files_removed_at is not None and new.files_removed_at is None
    assert not run_dir(app, old).exists() and run_dir(app, new).exists()
    assert sorted(f.sha256 for f in old.files) == hashes  # the rows and hashes stay
    assert retention.stored_bytes(sync.id) == before - sum(f.size for f in old.files)
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "run.files_removed")
    ).all()
    assert [a.object_id for a in audit] == [old.id]

    with pytest.raises(ValidationError, match=r"removed on .* by the retention policy"):
        runs.request_retransfer(old, user=None, actor="test")
    page = support_client.get(f"/syncs/{sync.id}/runs/{old.id}/creation").get_data(as_text=True)
    assert f"Files removed on {later:%Y-%m-%d} by the retention policy" in page
    assert "/download" not in page
    page = support_client.get(f"/syncs/{sync.id}/runs/{old.id}/transfers").get_data(as_text=True)
    assert "Files removed on" in page and 'id="transfer-files"' not in page
    pressed = support_client.post(
        f"/syncs/{sync.id}/runs/{old.id}/retransfer", follow_redirects=True
    )
    assert pressed.status_code == 200
    assert "cannot be transferred again" in pressed.get_data(as_text=True)
    download = support_client.get(f"/files/{old.originals[0].id}/download")
    assert download.status_code == 404
    assert "removed on" in download.get_data(as_text=True)
    dashboard = support_client.get(f"/syncs/{sync.id}/dashboard").get_data(as_text=True)
    assert 'id="stored-bytes"' in dashboard
    listing = support_client.get("/syncs").get_data(as_text=True)
    assert 'id="stored-total"' in listing

    # A run older than the age limit but among the last N keeps its files, and a second
    # purge the same day finds nothing more.
    assert purge(now=later + timedelta(days=365))["runs"] == 0


def test_keep_last_runs_only(
    app: Flask, make_sync: Callable[..., Sync], run_jobs: Callable[[], None]
) -> None:
    sync = two_runs(make_sync, run_jobs, retention_days=None, retention_runs=1)
    assert purge(now=utcnow())["runs"] == 1
    old, new = all_runs(sync)
    assert old.files_removed_at is not None and new.files_removed_at is None
    sync2 = two_runs(make_sync, run_jobs, retention_days=None, retention_runs=None)
    assert purge(now=utcnow() + timedelta(days=10_000))["runs"] == 0  # kept forever
    assert all(r.files_removed_at is None for r in all_runs(sync2))


def test_the_purge_is_claimed_once_a_day(app: Flask) -> None:
    builds = queue("builds")
    builds.empty()
    today = utcnow().replace(hour=0, minute=1)
    assert purge_due(today) == 1
    assert purge_due(today + timedelta(minutes=1)) == 0  # the next tick, or a 2nd scheduler
    # Not finished two hours on (its job lost with Redis): queued once more, by one tick.
    assert purge_due(today + timedelta(hours=2)) == 1
    assert purge_due(today + timedelta(hours=2, minutes=1)) == 0
    claim = db.session.scalars(select(MaintenanceRun)).one()
    assert purge(claim.id)["runs"] == 0
    db.session.expire_all()
    assert claim.finished_at is not None
    assert purge_due(today + timedelta(hours=5)) == 0  # done for today
    assert purge_due(today + timedelta(days=1)) == 1
    assert [j.func_name for j in builds.jobs] == [retention_job.PURGE_JOB] * 3
    builds.empty()


def _log(n: int) -> None:
    for _ in range(n):
        db.session.add(ChangeLog(kind=ChangeKind.INTERACTION, code="NEW", member_id=1))
        db.session.commit()


def _log_ids() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(ChangeLog.id).order_by(ChangeLog.id)))


def test_change_log_is_pruned_below_the_lowest_needed_position(app: Flask) -> None:
    if db.engine.dialect.name == "postgresql":
        # A PostgreSQL position is a snapshot whose xmin is the whole server's oldest open
        # transaction; the test processes beside this one hold it back in their own
        # databases, so the exact counts below would depend on them. Open: make the test
        # wait for a quiet xmin, then run it here too.
        pytest.skip("exact prune counts depend on other databases' open transactions")
    _log(3)
    # A disabled sync that ran once, up to here: it still needs everything after.
    ran = Sync(type_key="interaction", name="Ran once", enabled=False)
    ran.watermark = current_watermark(db.session())
    db.session.add(ran)
    db.session.commit()
    _log(2)
    # A sync created now starts from its creation: it never needs what came before.
    created = syncs.create_sync("interaction", "Created later", {}, user=None, actor="test")
    db.session.commit()
    assert created.log_start is not None and created.watermark is None
    _log(2)
    ids = _log_ids()
    assert len(ids) == 7

    assert retention_job.prune_change_log() == 3
    assert _log_ids() == ids[3:]
    ran.watermark = current_watermark(db.session())  # it ran again: everything seen
    db.session.commit()
    assert retention_job.prune_change_log() == 2
    assert _log_ids() == ids[5:]
    # The later sync's first run still sees every change since its creation.
    assert [r.id for r in changes_since(db.session(), created.log_start).rows] == ids[5:]

    # A sync that has neither a watermark nor a creation position needs the whole log.
    db.session.add(Sync(type_key="interaction", name="Old", enabled=False))
    db.session.commit()
    assert retention_job.prune_change_log() == 0
    assert db.session.scalar(select(func.count()).select_from(ChangeLog)) == 2


def test_purge_leaves_files_of_runs_still_delivering(
    app: Flask,
    make_sync: Callable[..., Sync],
    run_jobs: Callable[[], None],
    sftp_destination: Callable[..., Any],
) -> None:
    sync = make_sync("Busy")
    sftp_destination(sync)
    sync.retention_days = 1
    db.session.commit()
    for _ in range(2):
        runs.start_manual_run(sync, user=None, actor="test")
        run_jobs()
    old, new = all_runs(sync)
    # The newer run is being re-sent right now: a worker reads its files.
    new.transfers[0].status = TransferStatus.RETRYING
    db.session.commit()
    assert purge(now=utcnow() + timedelta(days=2))["runs"] == 1
    old, new = all_runs(sync)
    assert old.files_removed_at is not None and new.files_removed_at is None
    assert run_dir(app, new).exists()


def test_the_minute_tick_queues_the_daily_purge_once(app: Flask) -> None:
    from jobs.tick import tick

    builds = queue("builds")
    builds.empty()
    first = tick()
    second = tick()
    assert (first["purge_queued"], second["purge_queued"]) == (1, 0)
    assert [j.func_name for j in builds.jobs] == [retention_job.PURGE_JOB]
    builds.empty()
