"""Webhooks, against a real local HTTP server: a disabled webhook is sent nothing (new
events, queued retries, tests), enabling and disabling is audited and guarded; and a
run's outcome is sent once per webhook even when two transfers settle at the same moment."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from jobs.deadlines import run_settled
from jobs.tick import tick
from loyalty.db import utcnow
from tests.integration.runs.conftest import latest
from tests.integration.runs.test_webhooks import deliveries
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.notifications import DeliveryStatus, Webhook
from webapp.models.runs import SyncInstance, TransferStatus
from webapp.services import runs, webhooks

pytestmark = pytest.mark.integration


def _events(server: HTTPServer) -> list[str]:
    return [json.loads(request.get_data())["event"] for request, _ in server.log]


def test_a_disabled_webhook_sends_nothing_and_the_switch_is_audited(
    app: Flask,
    httpserver: HTTPServer,
    make_sync: Any,
    run_jobs: Any,
    make_user: Any,
    login: Any,
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    sync = make_sync(fail=True)
    hook, _secret = webhooks.create_webhook(
        sync, {"name": "Ops", "url": httpserver.url_for("/hook")}, user=None, actor="t"
    )
    db.session.commit()
    web = login(make_user("support"))
    page = web.post(f"/webhooks/{hook.id}/enabled", data={"enabled": "0"}, follow_redirects=True)
    assert "Webhook disabled" in page.text and "disabled: sent nothing" in page.text
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).enabled is False
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert httpserver.log == [] and deliveries(hook) == []
    refused = web.post(f"/webhooks/{hook.id}/test", follow_redirects=True)
    assert "disabled; enable it to send a test" in refused.text
    assert httpserver.log == [] and deliveries(hook) == []
    web.post(f"/webhooks/{hook.id}/enabled", data={"enabled": "1"})
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert _events(httpserver) == ["failed"]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("webhook.%"))
    ).all()
    assert actions == ["webhook.create", "webhook.disable", "webhook.enable"]


def test_a_retry_queued_before_disabling_is_dropped(
    app: Flask, httpserver: HTTPServer, make_sync: Any, run_jobs: Any
) -> None:
    httpserver.expect_request("/flaky").respond_with_data("down", status=500)
    sync = make_sync(fail=True)
    hook, _ = webhooks.create_webhook(
        sync, {"name": "Flaky", "url": httpserver.url_for("/flaky")}, user=None, actor="t"
    )
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    [delivery] = deliveries(hook)
    assert delivery.status == DeliveryStatus.RETRYING and len(httpserver.log) == 1
    webhooks.set_enabled(db.session.get(Webhook, hook.id), False, user=None, actor="t")
    db.session.commit()
    tick(utcnow() + timedelta(hours=1))
    run_jobs()
    [delivery] = deliveries(hook)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts[-1]["error"] == "not sent: webhook disabled"
    assert len(httpserver.log) == 1  # nothing more reached the receiver


def test_viewers_cannot_switch_a_webhook(
    make_sync: Any, make_user: Any, login: Any, httpserver: HTTPServer
) -> None:
    sync = make_sync()
    hook, _ = webhooks.create_webhook(
        sync, {"name": "X", "url": httpserver.url_for("/x")}, user=None, actor="t"
    )
    db.session.commit()
    viewer = login(make_user("viewer"))
    assert viewer.post(f"/webhooks/{hook.id}/enabled", data={"enabled": "0"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).enabled is True


def _delivered_run(sync: Any, sftp_destination: Any, run_jobs: Any) -> SyncInstance:
    sftp_destination(sync, name="Partner A")
    sftp_destination(sync, name="Partner B")
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED] * 2
    return instance


def test_the_outcome_is_sent_once_when_both_transfers_see_the_run_settle(
    app: Flask, httpserver: HTTPServer, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    sync = make_sync()
    hook, _ = webhooks.create_webhook(
        sync,
        {"name": "All", "url": httpserver.url_for("/hook"), "events": ["delivered"]},
        user=None,
        actor="t",
    )
    db.session.commit()
    instance = _delivered_run(sync, sftp_destination, run_jobs)
    assert _events(httpserver) == ["delivered"]
    # The other transfer finishing at the same moment sees the same settled run: two
    # threads, each its own session, let go together.
    instance_id = instance.id
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def settle() -> None:
        try:
            with app.app_context():
                start.wait()
                run_settled(db.session.get_one(SyncInstance, instance_id))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    run_settled(latest(sync))  # and once more in this session
    run_jobs()
    assert len(deliveries(hook)) == 1
    assert _events(httpserver) == ["delivered"]
    # A re-transfer is a new outcome: told again, once.
    runs.request_retransfer(latest(sync), user=None, actor="test")
    db.session.commit()
    run_jobs()
    run_settled(latest(sync))
    run_jobs()
    assert _events(httpserver) == ["delivered", "delivered"]
