"""Expiry warnings: 30 and 7 days before a recipient PGP key, the sync's PGP signing key
or a destination's pinned FTPS certificate expires, the sync's notice addresses, its
webhooks (``expiring``) and the console (``ExpiryWarning`` rows, shown on the sync list
and dashboard) are told.

The tick calls :func:`check_expiries`; each (sync, thing, expiry, threshold) row is
unique, so each threshold warns once, however often the check runs. Only the smallest
threshold reached is sent (a key added 5 days before it expires gets the 7-day warning,
never a late 30-day one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jobs.notify import send_mail
from webapp.extensions import db
from webapp.models.notifications import ExpiryWarning, WebhookEvent
from webapp.models.syncs import Destination, Protocol, RecipientKey, Sync
from webapp.services import audit, webhooks

THRESHOLDS_DAYS = (30, 7)


@dataclass(frozen=True)
class Expiring:
    sync: Sync
    subject: str  # stable name of the thing, e.g. "recipient_key:<fingerprint>"
    label: str  # what people read
    expires_at: datetime


def recipient_key_expiries(horizon: datetime) -> list[Expiring]:
    rows = db.session.scalars(
        select(RecipientKey).where(
            RecipientKey.expires_at.is_not(None), RecipientKey.expires_at <= horizon
        )
    )
    return [
        Expiring(
            k.sync,
            f"recipient_key:{k.fingerprint}",
            f"PGP recipient key {k.fingerprint[-16:]} ({k.user_ids or 'no user id'})",
            k.expires_at,
        )
        for k in rows
        if k.expires_at is not None
    ]


def certificate_expiries(horizon: datetime) -> list[Expiring]:
    rows = db.session.scalars(
        select(Destination).where(
            Destination.protocol.in_([Protocol.FTPS_EXPLICIT, Protocol.FTPS_IMPLICIT]),
            Destination.tls_fingerprint.is_not(None),
            Destination.tls_not_after.is_not(None),
            Destination.tls_not_after <= horizon,
        )
    )
    return [
        Expiring(
            d.sync,
            f"ftps_certificate:{d.id}:{d.tls_fingerprint}",
            f"pinned FTPS certificate of destination {d.name} ({d.host})",
            d.tls_not_after,
        )
        for d in rows
        if d.tls_not_after is not None
    ]


def signing_key_expiries(horizon: datetime) -> list[Expiring]:
    """One ``Expiring`` per sync whose signing key expires by ``horizon``. A signing key
    that expired makes every encrypted run fail (gpg refuses to sign), so it warns too."""
    rows = db.session.scalars(
        select(Sync).where(
            Sync.signing_fingerprint.is_not(None),
            Sync.signing_expires_at.is_not(None),
            Sync.signing_expires_at <= horizon,
        )
    )
    return [
        Expiring(
            s,
            f"signing_key:{s.signing_fingerprint}",
            f"PGP signing key {(s.signing_fingerprint or '')[-16:]} "
            f"({s.signing_user_ids or 'no user id'})",
            s.signing_expires_at,
        )
        for s in rows
        if s.signing_expires_at is not None
    ]


def check_expiries(now: datetime) -> int:
    """Warn about everything expiring within the largest threshold; returns warnings sent."""
    horizon = now + timedelta(days=max(THRESHOLDS_DAYS))
    found = [
        *recipient_key_expiries(horizon),
        *certificate_expiries(horizon),
        *signing_key_expiries(horizon),
    ]
    return sum(_warn(item, now) for item in found)


def _warn(item: Expiring, now: datetime) -> int:
    left = item.expires_at - now
    reached = [t for t in THRESHOLDS_DAYS if left <= timedelta(days=t)]
    if not reached:
        return 0
    threshold = min(reached)
    already = db.session.scalar(
        select(ExpiryWarning.id).where(
            ExpiryWarning.sync_id == item.sync.id,
            ExpiryWarning.subject == item.subject,
            ExpiryWarning.expires_at == item.expires_at,
            ExpiryWarning.threshold_days <= threshold,
        )
    )
    if already is not None:
        return 0
    warning = ExpiryWarning(
        sync_id=item.sync.id,
        subject=item.subject,
        label=item.label[:500],
        expires_at=item.expires_at,
        threshold_days=threshold,
        warned_at=now,
    )
    savepoint = db.session.begin_nested()
    try:
        db.session.add(warning)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()  # another scheduler warned first
        return 0
    savepoint.commit()
    sync = item.sync
    days = max(0, math.ceil(left.total_seconds() / 86400))
    when = f"{item.expires_at:%Y-%m-%d %H:%M} UTC"
    state = "has expired" if left <= timedelta(0) else f"expires in {days} day(s)"
    subject = f"[Loyalty Sync] {sync.name}: {item.label} {state}"
    lines = [
        f"Sync: {sync.name} (#{sync.id}, {sync.type_key})",
        f"The {item.label} {state} ({when}).",
        "Replace it before then, or deliveries to this sync's receivers will fail.",
    ]
    sent = send_mail(
        list(sync.notify_emails or []), subject, lines, what=f"expiry warning for sync {sync.id}"
    )
    audit.record(
        "notify.expiring",
        obj=warning,
        sync_id=sync.id,
        detail={"subject": item.subject, "threshold_days": threshold, "sent": sent},
        actor="scheduler",
    )
    db.session.commit()
    webhooks.emit(
        WebhookEvent.EXPIRING,
        sync,
        facts={
            "expiring": {
                "what": item.label,
                "subject": item.subject,
                "expires_at": item.expires_at.isoformat(),
                "threshold_days": threshold,
            }
        },
    )
    return 1
