"""Webhooks against a real local HTTP server (pytest-httpserver): signed JSON bodies,
retries with back-off recorded in the delivery log, opt-in "delivered", global hooks,
and who may manage them."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text

from jobs.tick import tick
from loyalty.db import utcnow
from loyalty.errors import ValidationError
from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.notifications import DeliveryStatus, Webhook, WebhookDelivery
from webapp.models.runs import CreationStatus
from webapp.services import runs, webhooks
from webapp.services.permissions import PermissionDenied

pytestmark = pytest.mark.integration


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (the snippet in docs/webhooks.md)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def bodies(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _response in server.log]


def deliveries(hook: Webhook) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.id)
        )
    )


@pytest.fixture
def public_base(app: Flask) -> str:
    app.config["PUBLIC_BASE_URL"] = "https://sync.example.com"
    return "https://sync.example.com"


def test_failed_run_posts_signed_json_with_facts_and_links(
    app: Flask, httpserver: HTTPServer, make_sync: Any, run_jobs: Any, public_base: str
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    sync = make_sync("Gold members to CRM", fail=True)
    hook, secret = webhooks.create_webhook(
        sync, {"name": "Ops", "url": httpserver.url_for("/hook")}, user=None, actor="test"
    )
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.FAILED
    ((request, response),) = httpserver.log
    assert response.status_code == 200
    assert verify(secret, request.get_data(), request.headers["X-Signature"])
    assert not verify("whsec_wrong", request.get_data(), request.headers["X-Signature"])
    assert request.headers["X-Webhook-Event"] == "failed"
    body = json.loads(request.get_data())
    assert body["event"] == "failed"
    assert body["sync"]["name"] == "Gold members to CRM"
    assert body["run"]["id"] == instance.id
    assert body["run"]["creation_status"] == "failed"
    assert "told to fail" in body["run"]["error"]
    assert body["links"]["creation"] == (
        f"{public_base}/syncs/{sync.id}/runs/{instance.id}/creation"
    )
    (delivery,) = deliveries(hook)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert body["delivery_id"] == delivery.id


def test_receiver_failing_then_answering_is_retried_with_back_off(
    app: Flask, httpserver: HTTPServer, make_sync: Any, run_jobs: Any, make_user: Any, login: Any
) -> None:
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok")
    sync = make_sync()
    hook, _secret = webhooks.create_webhook(
        sync, {"name": "Flaky", "url": httpserver.url_for("/hook")}, user=None, actor="test"
    )
    db.session.commit()
    before = utcnow()
    webhooks.send_test(hook, user=None)
    run_jobs()
    (delivery,) = deliveries(hook)
    assert delivery.status == DeliveryStatus.RETRYING
    assert [a["status_code"] for a in delivery.attempts] == [500]
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= before + timedelta(seconds=30)
    tick(before)  # the back-off has not passed: nothing is sent
    run_jobs()
    assert len(httpserver.log) == 1
    tick(delivery.next_attempt_at)
    run_jobs()
    (delivery,) = deliveries(hook)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a["status_code"] for a in delivery.attempts] == [500, 200]
    sent = [request.get_data() for request, _ in httpserver.log]
    assert sent[0] == sent[1]  # a retry sends the same signed bytes
    page = login(make_user("sync_manager")).get(f"/webhooks/{hook.id}").text
    assert "HTTP 500" in page and "succeeded" in page


def test_delivery_gives_up_after_its_attempts_and_audits(
    app: Flask, httpserver: HTTPServer, make_sync: Any, run_jobs: Any
) -> None:
    httpserver.expect_request("/hook").respond_with_data("no", status=503)
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    sync = make_sync()
    hook, _ = webhooks.create_webhook(
        sync, {"name": "Gone", "url": httpserver.url_for("/hook")}, user=None, actor="test"
    )
    db.session.commit()
    webhooks.send_test(hook, user=None)
    run_jobs()
    (delivery,) = deliveries(hook)
    tick(delivery.next_attempt_at)
    run_jobs()
    (delivery,) = deliveries(hook)
    assert delivery.status == DeliveryStatus.FAILED
    assert len(delivery.attempts) == 2
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.failed"))


def test_delivered_is_opt_in_and_partly_failed_is_told(
    app: Flask,
    httpserver: HTTPServer,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    closed_port: int,
) -> None:
    httpserver.expect_request("/default").respond_with_data("ok")
    httpserver.expect_request("/all").respond_with_data("ok")
    sync = make_sync()
    sftp_destination(sync, name="Partner A")
    webhooks.create_webhook(
        sync, {"name": "Default", "url": httpserver.url_for("/default")}, user=None, actor="t"
    )
    webhooks.create_webhook(
        None,
        {
            "name": "All",
            "url": httpserver.url_for("/all"),
            "events": ["delivered", "partly_failed"],
        },
        user=None,
        actor="t",
    )
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert [(r.path, json.loads(r.get_data())["event"]) for r, _ in httpserver.log] == [
        ("/all", "delivered")
    ]
    httpserver.clear_log()
    sftp_destination(sync, name="Partner B", port=str(closed_port))
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    told = sorted((r.path, json.loads(r.get_data())["event"]) for r, _ in httpserver.log)
    assert told == [("/all", "partly_failed"), ("/default", "partly_failed")]
    body = json.loads(httpserver.log[0][0].get_data())
    assert {d["name"]: d["status"] for d in body["run"]["destinations"]} == {
        "Partner A": "succeeded",
        "Partner B": "failed",
    }


def test_late_alert_reaches_webhooks(
    app: Flask, httpserver: HTTPServer, make_sync: Any, run_jobs: Any
) -> None:
    from datetime import UTC, datetime

    httpserver.expect_request("/hook").respond_with_data("ok")
    sync = make_sync()
    sync.execution_time, sync.delivery_deadline, sync.enabled = "03:00", "04:00", True
    sync.last_scheduled_for = datetime(2026, 5, 1, 2, tzinfo=UTC)
    webhooks.create_webhook(
        sync, {"name": "Ops", "url": httpserver.url_for("/hook")}, user=None, actor="t"
    )
    db.session.commit()
    tick(datetime(2026, 5, 1, 3, 0, tzinfo=UTC))
    tick(datetime(2026, 5, 1, 4, 0, tzinfo=UTC))
    # The tick queued the build too; the burst worker runs it, and the webhook delivery.
    run_jobs()
    events = [b["event"] for b in bodies(httpserver)]
    assert "late" in events
    late = next(b for b in bodies(httpserver) if b["event"] == "late")
    assert late["deadline"]["at"] == "2026-05-01T04:00:00+00:00"
    assert "waiting to build" in late["deadline"]["reason"]


def test_bad_input_is_refused_and_the_secret_is_encrypted_and_shown_once(
    app: Flask, make_sync: Any, make_user: Any, login: Any
) -> None:
    sync = make_sync()
    for url in ("ftp://example.com/x", "file:///etc/passwd", "https://", "gopher://h/"):
        with pytest.raises(ValidationError) as caught:
            webhooks.create_webhook(sync, {"name": "X", "url": url}, user=None, actor="t")
        assert "http:// or https://" in caught.value.errors["url"]
        db.session.rollback()
    with pytest.raises(ValidationError):
        webhooks.create_webhook(
            sync, {"name": "X", "url": "https://e.example/", "events": ["nope"]}, user=None
        )
    db.session.rollback()
    assert db.session.scalar(select(Webhook)) is None

    web = login(make_user("sync_manager"))
    page = web.post(
        f"/syncs/{sync.id}/webhooks",
        data={"name": "Ops", "url": "https://hooks.example.com/x", "events": ["failed", "late"]},
    ).text
    assert "this once" in page
    secret = page.split('<p class="mono">')[1].split("</p>")[0]
    assert secret.startswith("whsec_")
    hook = db.session.scalar(select(Webhook))
    assert hook is not None and hook.events == ["failed", "late"]
    stored = db.session.execute(text("SELECT secret_encrypted FROM webhooks")).scalar_one()
    assert secret not in stored
    assert secret not in web.get(f"/syncs/{sync.id}/webhooks").text
    assert secret not in web.get(f"/webhooks/{hook.id}").text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.create"))
    assert all(secret not in json.dumps(e.detail) for e in events)
    refused = web.post(f"/syncs/{sync.id}/webhooks", data={"name": "Y", "url": "ftp://x/"})
    assert "Choose at least one event" in refused.text
    assert db.session.scalar(select(db.func.count()).select_from(Webhook)) == 1


def test_global_webhooks_are_support_only(
    app: Flask, make_sync: Any, make_user: Any, login: Any
) -> None:
    manager = make_user("sync_manager")
    with pytest.raises(PermissionDenied):
        webhooks.create_webhook(None, {"name": "G", "url": "https://g.example/"}, user=manager)
    db.session.rollback()
    hook, _ = webhooks.create_webhook(
        None, {"name": "G", "url": "https://g.example/"}, user=make_user("support")
    )
    db.session.commit()
    web = login(manager)
    assert web.get("/webhooks").status_code == 403
    assert web.get(f"/webhooks/{hook.id}").status_code == 403
    assert web.post(f"/webhooks/{hook.id}/test").status_code == 403
    sync = make_sync()
    viewer = make_user("viewer")
    with pytest.raises(PermissionDenied):
        webhooks.create_webhook(sync, {"name": "V", "url": "https://v.example/"}, user=viewer)
