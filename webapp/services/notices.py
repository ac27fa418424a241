"""What the console shows about deadlines and expiring keys: a sync is "Late" while a
deadline check of it is open (late, not yet recovered), and lists its expiry warnings
until a month after the thing expired. One query each for a whole list page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.notifications import DeadlineCheck, ExpiryWarning
from webapp.models.syncs import Sync


@dataclass
class SyncNotices:
    late: DeadlineCheck | None = None
    expiring: list[ExpiryWarning] = field(default_factory=list)


def for_syncs(items: list[Sync]) -> dict[int, SyncNotices]:
    ids = [s.id for s in items]
    found: dict[int, SyncNotices] = {}
    if not ids:
        return found
    for check in db.session.scalars(
        select(DeadlineCheck)
        .where(
            DeadlineCheck.sync_id.in_(ids),
            DeadlineCheck.late_at.is_not(None),
            DeadlineCheck.recovered_at.is_(None),
        )
        .order_by(DeadlineCheck.slot_at)
    ):
        found.setdefault(check.sync_id, SyncNotices()).late = check
    shown: dict[tuple[int, str], ExpiryWarning] = {}
    for warning in db.session.scalars(
        select(ExpiryWarning)
        .where(
            ExpiryWarning.sync_id.in_(ids),
            ExpiryWarning.expires_at > utcnow() - timedelta(days=30),
        )
        .order_by(ExpiryWarning.warned_at)
    ):
        shown[(warning.sync_id, warning.subject)] = warning  # the latest threshold only
    for (sync_id, _subject), warning in shown.items():
        found.setdefault(sync_id, SyncNotices()).expiring.append(warning)
    return found
