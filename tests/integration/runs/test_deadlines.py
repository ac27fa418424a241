"""Delivery deadlines with a clock: the late alert goes once (across a DST change too), the
console shows "Late", and a later delivery sends the all-clear."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from jobs.tick import tick
from tests.integration.runs import test_notify
from tests.integration.runs.test_notify import Inbox
from webapp.extensions import db
from webapp.models.notifications import DeadlineCheck
from webapp.models.runs import CreationStatus, SyncInstance, Transfer, TransferStatus, Trigger
from webapp.models.syncs import Sync
from webapp.services import syncs
from webapp.services.schedule import deadline_after, parse_time, slot_on

pytestmark = pytest.mark.integration
smtp = test_notify.smtp  # the real SMTP server the failure-notice tests use


def deadline_sync(make_sync: Any, time: str, deadline: str, zone: str, since: datetime) -> Sync:
    sync = make_sync("Nightly to CRM")
    sync.execution_time, sync.timezone, sync.delivery_deadline = time, zone, deadline
    sync.enabled = True
    sync.last_scheduled_for = since
    sync.notify_emails = ["ops@example.com"]
    db.session.commit()
    return sync


def checks(sync: Sync) -> list[DeadlineCheck]:
    db.session.expire_all()
    return list(db.session.scalars(select(DeadlineCheck).where(DeadlineCheck.sync_id == sync.id)))


def late_mails(inbox: Inbox) -> list[Any]:
    return [m for m in inbox.messages if "not delivered by" in m["Subject"]]


@pytest.mark.parametrize(
    ("zone", "time", "deadline", "day", "due"),
    [
        # New York springs forward on 2026-03-08: 02:30 does not exist, the deadline is 03:00 EDT.
        (
            "America/New_York",
            "01:00",
            "02:30",
            date(2026, 3, 8),
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        ),
        # London falls back on 2026-10-25: 01:30 happens twice, the deadline is the first (BST).
        (
            "Europe/London",
            "00:15",
            "01:30",
            date(2026, 10, 25),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        # A deadline earlier on the clock than the run is the next day's.
        (
            "Europe/Berlin",
            "23:00",
            "01:00",
            date(2026, 6, 1),
            datetime(2026, 6, 1, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_deadline_instant_follows_the_zones_dst_rules(
    zone: str, time: str, deadline: str, day: date, due: datetime
) -> None:
    slot = slot_on(day, parse_time(time), zone)
    assert deadline_after(slot, parse_time(deadline), zone).at == due


def test_late_alert_goes_once_across_spring_forward_and_clears_on_delivery(
    app: Flask,
    smtp: Inbox,
    make_sync: Any,
    run_jobs: Any,
    make_user: Any,
    login: Any,
) -> None:
    sync = deadline_sync(
        make_sync, "01:00", "02:30", "America/New_York", datetime(2026, 3, 8, 5, tzinfo=UTC)
    )
    tick(datetime(2026, 3, 8, 6, 0, tzinfo=UTC))  # 01:00 EST: the run is created, not built
    tick(datetime(2026, 3, 8, 6, 59, tzinfo=UTC))  # 02:59 EDT-wall-less: before the deadline
    assert checks(sync) == [] and late_mails(smtp) == []
    tick(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))  # 03:00 EDT: the deadline (02:30 skipped)
    tick(datetime(2026, 3, 8, 7, 1, tzinfo=UTC))
    tick(datetime(2026, 3, 8, 9, 0, tzinfo=UTC))
    (check,) = checks(sync)
    assert check.day == date(2026, 3, 8) and check.late_at is not None
    assert "waiting to build" in (check.reason or "")
    (mail,) = late_mails(smtp)
    assert "2026-03-08 03:00 EDT" in mail["Subject"]
    assert "Late because: run #" in mail.get_payload()
    web = login(make_user("viewer"))
    assert '<span class="status late"' in web.get("/syncs").text
    assert '<span class="status late"' in web.get(f"/syncs/{sync.id}/dashboard").text

    run_jobs()  # the run builds; no destinations, so it delivered "everywhere"
    tick(datetime(2026, 3, 8, 9, 1, tzinfo=UTC))
    tick(datetime(2026, 3, 8, 9, 2, tzinfo=UTC))
    (check,) = checks(sync)
    assert check.recovered_at == datetime(2026, 3, 8, 9, 1, tzinfo=UTC)
    clears = [m for m in smtp.messages if "delivered again" in m["Subject"]]
    assert len(clears) == 1
    assert '<span class="status late"' not in web.get("/syncs").text


def test_fall_back_deadline_alerts_at_the_first_occurrence_only(
    app: Flask,
    smtp: Inbox,
    make_sync: Any,
) -> None:
    deadline_sync(
        make_sync, "00:15", "01:30", "Europe/London", datetime(2026, 10, 24, 22, tzinfo=UTC)
    )
    tick(datetime(2026, 10, 24, 23, 15, tzinfo=UTC))  # 00:15 BST
    tick(datetime(2026, 10, 25, 0, 29, tzinfo=UTC))
    assert late_mails(smtp) == []
    tick(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 01:30 BST
    tick(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 01:30 GMT: the same wall time again
    assert len(late_mails(smtp)) == 1
    assert "01:30 BST" in late_mails(smtp)[0]["Subject"]


def test_a_run_delivered_in_time_raises_no_alert(app: Flask, smtp: Inbox, make_sync: Any) -> None:
    sync = deadline_sync(make_sync, "03:00", "06:00", "UTC", datetime(2026, 5, 1, 2, tzinfo=UTC))
    tick(datetime(2026, 5, 1, 3, 0, tzinfo=UTC))
    run = db.session.scalars(select(SyncInstance).where(SyncInstance.sync_id == sync.id)).one()
    run.creation_status = CreationStatus.SUCCEEDED
    run.creation_finished_at = datetime(2026, 5, 1, 3, 10, tzinfo=UTC)
    db.session.add(
        Transfer(
            instance_id=run.id,
            destination_name="Partner A",
            status=TransferStatus.SUCCEEDED,
            finished_at=datetime(2026, 5, 1, 3, 20, tzinfo=UTC),
        )
    )
    db.session.commit()
    tick(datetime(2026, 5, 1, 6, 0, tzinfo=UTC))
    (check,) = checks(sync)
    assert check.late_at is None
    assert late_mails(smtp) == []


def test_failed_destination_and_never_started_runs_are_late(
    app: Flask,
    smtp: Inbox,
    make_sync: Any,
) -> None:
    failing = deadline_sync(make_sync, "03:00", "04:00", "UTC", datetime(2026, 5, 1, 2, tzinfo=UTC))
    run = SyncInstance(
        sync_id=failing.id,
        trigger=Trigger.MANUAL,
        creation_status=CreationStatus.SUCCEEDED,
        created_at=datetime(2026, 5, 1, 3, 1, tzinfo=UTC),
        creation_finished_at=datetime(2026, 5, 1, 3, 2, tzinfo=UTC),
    )
    db.session.add(run)
    db.session.flush()
    db.session.add(
        Transfer(instance_id=run.id, destination_name="Partner B", status=TransferStatus.FAILED)
    )
    failing.last_scheduled_for = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # its run was skipped
    db.session.commit()
    tick(datetime(2026, 5, 1, 4, 0, tzinfo=UTC))
    (check,) = checks(failing)
    assert check.reason == f"run #{run.id}: not delivered to Partner B failed"

    never = deadline_sync(
        make_sync, "03:00", "04:00", "UTC", datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    )
    tick(datetime(2026, 5, 1, 4, 1, tzinfo=UTC))
    (check,) = checks(never)
    assert check.reason == "no run started"


def test_deadline_setting_is_checked(app: Flask, make_sync: Any) -> None:
    sync = make_sync()
    with pytest.raises(Exception, match="Delivery deadline must be HH:MM"):
        syncs.update_settings(sync, {"delivery_deadline": "7am"}, user=None)
    db.session.rollback()
    assert db.session.get(Sync, sync.id).delivery_deadline is None
    syncs.update_settings(sync, {"delivery_deadline": "07:00"}, user=None)
    assert sync.delivery_deadline == "07:00"
    syncs.update_settings(sync, {"delivery_deadline": ""}, user=None)
    assert sync.delivery_deadline is None
