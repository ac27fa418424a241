"""The webhook delivery job: POST one stored body, signed, and record the attempt.

A 2xx answer delivers; anything else (another status, a refused connection, a timeout,
a redirect, which is never followed) is recorded in the delivery's log and retried after
a back-off (``BACKOFF_SECONDS``) while attempts remain: the tick enqueues due retries
(``enqueue_due_deliveries``), as it does for transfers. The secret is decrypted only to
sign, and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from jobs.context import job_context
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.notifications import DeliveryStatus, WebhookDelivery
from webapp.services import audit, dispatch, secrets

# After attempt n fails, attempt n+1 waits BACKOFF_SECONDS[n-1] (the last repeats).
BACKOFF_SECONDS = (30, 120, 600, 1800)
LOST_JOB_GRACE = timedelta(seconds=90)
USER_AGENT = "LoyaltySync-Webhook/1"


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a hop: following it could reach another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def deliver(delivery_id: int) -> str:
    with job_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "gone"
        if delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            return f"already {delivery.status}"
        if not delivery.webhook.enabled:
            return drop_disabled(delivery)
        return attempt(delivery)


def drop_disabled(delivery: WebhookDelivery, now: datetime | None = None) -> str:
    """A webhook disabled after this delivery was queued: send nothing, say so in the log."""
    now = now or utcnow()
    delivery.attempts = [
        *(delivery.attempts or []),
        {
            "at": now.isoformat(),
            "status_code": None,
            "error": "not sent: webhook disabled",
            "seconds": 0,
        },
    ]
    delivery.status, delivery.finished_at, delivery.next_attempt_at = (
        DeliveryStatus.FAILED,
        now,
        None,
    )
    delivery.job_id = None
    db.session.commit()
    return "disabled"


def attempt(delivery: WebhookDelivery, now: datetime | None = None) -> str:
    webhook = delivery.webhook
    body = delivery.body.encode("utf-8")
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        secret = secrets.decrypt(webhook.secret_encrypted)
    except secrets.SecretUnreadable as exc:
        secret, error = None, str(exc)
    if secret is not None:
        request = urllib.request.Request(  # noqa: S310  (the URL's scheme is checked on save)
            webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Signature": signature(secret, body),
                "X-Webhook-Event": delivery.event,
                "X-Webhook-Delivery": str(delivery.id),
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
        try:
            with opener.open(request, timeout=timeout) as response:
                status_code = int(response.status)
        except urllib.error.HTTPError as exc:
            status_code, error = exc.code, f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))
    ok = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not ok and error is None:
        error = f"HTTP {status_code}"
    now = now or utcnow()
    delivery.attempts = [
        *(delivery.attempts or []),
        {
            "at": now.isoformat(),
            "status_code": status_code,
            "error": error[:500] if error else None,
            "seconds": round(time.monotonic() - started, 3),
        },
    ]
    delivery.job_id = None
    count = len(delivery.attempts)
    if ok:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = (
            DeliveryStatus.SUCCEEDED,
            now,
            None,
        )
    elif count < delivery.max_attempts:
        wait = BACKOFF_SECONDS[min(count, len(BACKOFF_SECONDS)) - 1]
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    else:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = (
            DeliveryStatus.FAILED,
            now,
            None,
        )
        audit.record(
            "webhook.failed",
            obj=webhook,
            sync_id=delivery.sync_id,
            detail={"delivery": delivery.id, "event": delivery.event, "error": error},
            actor="worker",
        )
    db.session.commit()
    return str(delivery.status)


def enqueue_due_deliveries(now: datetime) -> int:
    """Called by the tick: retries whose back-off has passed, and deliveries whose job was lost."""
    due = select(WebhookDelivery).where(
        (
            (WebhookDelivery.status == DeliveryStatus.RETRYING)
            & (WebhookDelivery.next_attempt_at <= now)
        )
        | (
            (WebhookDelivery.status == DeliveryStatus.PENDING)
            & (WebhookDelivery.created_at < now - LOST_JOB_GRACE)
        )
    )
    count = 0
    for delivery in db.session.scalars(due):
        if not dispatch.job_is_alive(delivery.job_id):
            dispatch.enqueue_webhook(delivery)
            count += 1
    db.session.commit()
    return count
