"""Issue 17, item 11: a CR/LF in a stored name never breaks a failure notice or the sweep.

Names can no longer hold CR/LF (``loyalty.text``), so the rows here are written with SQL,
as an older version (or a shell) could have left them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from jobs.tick import sweep_dead_work
from loyalty.db import utcnow
from tests.integration.runs.test_notify import Inbox, smtp  # noqa: F401  (the fixture)
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import CreationStatus, SyncInstance, Trigger

pytestmark = pytest.mark.integration


def _dead_run(sync_id: int) -> int:
    instance = SyncInstance(sync_id=sync_id, trigger=Trigger.MANUAL)
    db.session.add(instance)
    db.session.flush()
    instance.creation_status = CreationStatus.RUNNING
    instance.heartbeat_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    return instance.id


def test_a_line_break_in_a_stored_name_still_notifies_and_the_sweep_goes_on(
    app: Flask,
    smtp: Inbox,
    make_sync: Any,
) -> None:
    broken = make_sync("Broken")
    healthy = make_sync("Healthy")
    for sync in (broken, healthy):
        sync.notify_emails = ["ops@example.com"]
    db.session.commit()
    db.session.execute(
        text("UPDATE syncs SET name = :n WHERE id = :i"),
        {"n": "Broken\r\nBcc: everyone@example.com", "i": broken.id},
    )
    db.session.commit()
    db.session.expire_all()
    first, second = _dead_run(broken.id), _dead_run(healthy.id)

    assert sweep_dead_work(utcnow()) == 2

    db.session.expire_all()
    for instance_id in (first, second):
        row = db.session.get(SyncInstance, instance_id)
        assert row is not None and row.creation_status == CreationStatus.FAILED
    notices = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notify.failure").order_by(AuditEvent.id)
    ).all()
    assert [n.sync_id for n in notices] == [broken.id, healthy.id]
    assert all(n.detail["sent"] for n in notices)
    assert len(smtp.messages) == 2
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert any("Broken Bcc: everyone@example.com" in s for s in subjects)
    assert all(m["Bcc"] is None and m["X-Rcpt"] == "ops@example.com" for m in smtp.messages)


def test_a_notice_that_cannot_be_built_is_logged_and_audited(
    app: Flask,
    smtp: Inbox,
    make_sync: Any,
    caplog: Any,
) -> None:
    from jobs.notify import notify_failure

    sync = make_sync("Bad address")
    db.session.execute(
        update(type(sync)).where(type(sync).id == sync.id).values(notify_emails=["a@b\r\n.c"])
    )
    db.session.commit()
    db.session.expire_all()
    instance_id = _dead_run(sync.id)
    instance = db.session.get(SyncInstance, instance_id)
    assert instance is not None
    app.config["MAIL_SENDER"] = "loyalty\r\nsync@example.com"  # what EmailMessage refuses
    assert notify_failure(instance, "boom") is False
    (notice,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notify.failure")
    ).all()
    assert notice.detail["sent"] is False and "not built" in notice.detail["problem"]
    assert "could not be built" in caplog.text
