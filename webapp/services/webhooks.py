"""Webhooks: HTTP(S) endpoints told about runs, deadlines and expiring keys, beside e-mail.

Who manages them: a sync's own webhooks need ``sync.configure`` (the people who set the
sync's failure addresses); global webhooks (every sync) need ``webhooks.manage`` (support).

The secret is generated here, shown once (returned by :func:`create_webhook`), stored as
a Fernet token and never logged. An event becomes one ``WebhookDelivery`` per webhook
with the exact JSON body; the job ``jobs.webhooks.deliver`` sends it, signs it
(``X-Signature: sha256=<hex HMAC-SHA256 of the body>``) and records every attempt.

SSRF is guarded the simple way: only ``http`` and ``https`` URLs with a host are
accepted, and redirects are not followed (docs/webhooks.md).
"""

from __future__ import annotations

import json
import secrets as pysecrets
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from loyalty.db import utcnow
from loyalty.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models.notifications import (
    DEFAULT_EVENTS,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from webapp.models.runs import SyncInstance
from webapp.models.syncs import Sync
from webapp.models.users import User
from webapp.services import audit, dispatch, secrets
from webapp.services.permissions import SYNC_CONFIGURE, WEBHOOKS_MANAGE, require

SUBSCRIBABLE = [e for e in WebhookEvent if e != WebhookEvent.TEST]
EVENT_LABELS = {
    WebhookEvent.FAILED: "Failed (file creation, or every destination)",
    WebhookEvent.PARTLY_FAILED: "Partly failed (some destinations)",
    WebhookEvent.LATE: "Late (delivery deadline passed)",
    WebhookEvent.RECOVERED: "Recovered (delivered after a late alert)",
    WebhookEvent.DELIVERED: "Delivered to every destination (every run: opt-in)",
    WebhookEvent.EXPIRING: "Key or certificate expiring (30 and 7 days before)",
}


def check_manage(user: User | None, sync_id: int | None) -> None:
    if user is not None:
        require(user, SYNC_CONFIGURE if sync_id is not None else WEBHOOKS_MANAGE)


def clean_url(value: str) -> str:
    url = (value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("A webhook URL starts with http:// or https:// and names a host.")
    if parts.username or parts.password:
        raise ValueError("Put no user name or password in the URL; the signature authenticates.")
    if len(url) > 2000 or any(c.isspace() for c in url):
        raise ValueError("A webhook URL has no spaces and at most 2000 characters.")
    return url


def create_webhook(
    sync: Sync | None, fields: dict[str, Any], *, user: User | None, actor: str | None = None
) -> tuple[Webhook, str]:
    """Validate and store a webhook; returns it and its secret (shown once, never again)."""
    check_manage(user, sync.id if sync else None)
    errors: dict[str, str] = {}
    name = str(fields.get("name") or "").strip()
    if not name or len(name) > 120:
        errors["name"] = "A webhook needs a name of at most 120 characters."
    try:
        url = clean_url(str(fields.get("url") or ""))
    except ValueError as exc:
        errors["url"] = str(exc)
    events = list(dict.fromkeys(fields.get("events") or DEFAULT_EVENTS))
    unknown = [e for e in events if e not in {s.value for s in SUBSCRIBABLE}]
    if unknown:
        errors["events"] = f"Unknown event(s): {', '.join(unknown)}."
    if errors:
        raise ValidationError(errors)
    secret = "whsec_" + pysecrets.token_urlsafe(32)
    webhook = Webhook(
        sync_id=sync.id if sync else None,
        name=name,
        url=url,
        secret_encrypted=secrets.encrypt(secret),
        events=events,
        created_by_id=user.id if user else None,
    )
    db.session.add(webhook)
    db.session.flush()
    audit.record(
        "webhook.create",
        obj=webhook,
        sync_id=webhook.sync_id,
        detail={"name": name, "url": url, "events": events},
        user=user,
        actor=actor,
    )
    return webhook, secret


def get_webhook(webhook_id: int, *, user: User | None) -> Webhook:
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"No webhook with id {webhook_id}.")
    check_manage(user, webhook.sync_id)
    return webhook


def list_webhooks(sync: Sync | None, *, user: User | None) -> list[Webhook]:
    check_manage(user, sync.id if sync else None)
    where = Webhook.sync_id == sync.id if sync else Webhook.sync_id.is_(None)
    return list(db.session.scalars(select(Webhook).where(where).order_by(Webhook.id)))


def delete_webhook(webhook: Webhook, *, user: User | None, actor: str | None = None) -> None:
    check_manage(user, webhook.sync_id)
    audit.record(
        "webhook.delete",
        obj=webhook,
        sync_id=webhook.sync_id,
        detail={"name": webhook.name, "url": webhook.url},
        user=user,
        actor=actor,
    )
    db.session.delete(webhook)


def set_enabled(
    webhook: Webhook, enabled: bool, *, user: User | None, actor: str | None = None
) -> bool:
    """Enable or disable a webhook; returns whether anything changed. A disabled webhook
    is sent nothing: no new events, and its queued retries are dropped when due."""
    check_manage(user, webhook.sync_id)
    if webhook.enabled == enabled:
        return False
    webhook.enabled = enabled
    audit.record(
        "webhook.enable" if enabled else "webhook.disable",
        obj=webhook,
        sync_id=webhook.sync_id,
        detail={"name": webhook.name, "url": webhook.url},
        user=user,
        actor=actor,
    )
    return True


def recent_deliveries(webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def send_test(webhook: Webhook, *, user: User | None) -> WebhookDelivery:
    """Queue a ``test`` event to this webhook (whatever its subscriptions)."""
    check_manage(user, webhook.sync_id)
    if not webhook.enabled:
        raise ValidationError("This webhook is disabled; enable it to send a test.")
    sync = db.session.get(Sync, webhook.sync_id) if webhook.sync_id else None
    delivery = _add_delivery(webhook, WebhookEvent.TEST, sync, None, {"message": "Test event"})
    audit.record("webhook.test", obj=webhook, sync_id=webhook.sync_id, user=user)
    db.session.commit()
    dispatch.enqueue_webhook(delivery)
    db.session.commit()
    return delivery


def emit(
    event: WebhookEvent,
    sync: Sync,
    *,
    instance: SyncInstance | None = None,
    facts: dict[str, Any] | None = None,
    claim: str | None = None,
) -> list[WebhookDelivery]:
    """Queue ``event`` to every enabled webhook of ``sync`` and every global one that
    subscribed to it. Commits (the rows must exist before their jobs run).

    ``claim`` names what this event is the one of (a run's outcome): a webhook gets at
    most one delivery per claim. Two callers that race (two transfers of a run settling
    at the same moment) both insert; the unique ``(webhook_id, claim)`` lets one win and
    the other queues nothing.
    """
    hooks = db.session.scalars(
        select(Webhook)
        .where(
            Webhook.enabled.is_(True),
            or_(Webhook.sync_id == sync.id, Webhook.sync_id.is_(None)),
        )
        .order_by(Webhook.id)
    )
    made = []
    for hook in [h for h in hooks if event.value in (h.events or [])]:
        savepoint = db.session.begin_nested()
        try:
            delivery = _add_delivery(hook, event, sync, instance, facts or {}, claim=claim)
        except IntegrityError:
            savepoint.rollback()  # claimed already: this outcome went (or goes) out once
            continue
        savepoint.commit()
        made.append(delivery)
    db.session.commit()
    for delivery in made:
        dispatch.enqueue_webhook(delivery)
    db.session.commit()
    return made


def _add_delivery(
    webhook: Webhook,
    event: WebhookEvent,
    sync: Sync | None,
    instance: SyncInstance | None,
    facts: dict[str, Any],
    claim: str | None = None,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        claim=claim,
        event=event.value,
        sync_id=sync.id if sync else None,
        instance_id=instance.id if instance else None,
        body="",
        status=DeliveryStatus.PENDING,
        max_attempts=int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 5)),
    )
    db.session.add(delivery)
    db.session.flush()
    delivery.body = json.dumps(
        payload(event, sync, instance, facts, delivery_id=delivery.id, webhook_id=webhook.id),
        sort_keys=True,
        separators=(",", ":"),
    )
    return delivery


def payload(
    event: WebhookEvent,
    sync: Sync | None,
    instance: SyncInstance | None,
    facts: dict[str, Any],
    *,
    delivery_id: int,
    webhook_id: int,
) -> dict[str, Any]:
    """The JSON body (documented field by field in docs/webhooks.md)."""
    from webapp.services.runs import latest_transfers, transfer_summary

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    body: dict[str, Any] = {
        "event": event.value,
        "delivery_id": delivery_id,
        "webhook_id": webhook_id,
        "occurred_at": utcnow().isoformat(),
        "sync": None,
        "run": None,
        "links": {},
        **facts,
    }
    if sync is not None:
        body["sync"] = {
            "id": sync.id,
            "name": sync.name,
            "type": sync.type_key,
            "timezone": sync.timezone,
            "execution_time": sync.execution_time,
            "delivery_deadline": sync.delivery_deadline,
        }
        body["links"]["dashboard"] = f"{base}/syncs/{sync.id}/dashboard"
    if instance is not None:
        transfers = latest_transfers(instance)
        body["run"] = {
            "id": instance.id,
            "trigger": str(instance.trigger),
            "scheduled_for": _iso(instance.scheduled_for),
            "started_at": _iso(instance.run_started_at),
            "creation_status": str(instance.creation_status),
            "creation_finished_at": _iso(instance.creation_finished_at),
            "rows": instance.rows_written,
            "error": instance.error,
            "transfer_status": transfer_summary(instance, transfers),
            "files": [
                {"name": f.name, "size": f.size, "sha256": f.sha256} for f in instance.deliverables
            ],
            "destinations": [
                {
                    "name": t.destination_name,
                    "status": str(t.status),
                    "attempts": len(t.attempts),
                    "finished_at": _iso(t.finished_at),
                    "error": t.error,
                }
                for t in transfers
            ],
        }
        run_base = f"{base}/syncs/{instance.sync_id}/runs/{instance.id}"
        body["links"]["creation"] = f"{run_base}/creation"
        body["links"]["transfers"] = f"{run_base}/transfers"
    return body


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
