"""Helpers for the tests of member_future_point_expiration, member_rfm,
member_product_purchases, campaign_member and promotion_member.

``at`` gives fixed, timezone-aware times for the services' ``at=`` arguments; ``enrol`` a
member enrolled through the services with a primary account id; ``all_bytes`` every file
of a split export. The shared helpers live in ``tests.fixtures``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty.models import Member
from loyalty.services import members
from tests.fixtures.exports import Exported, export_around_write, give_account_id
from tests.fixtures.golden_files import check_golden_bytes as check_golden
from webapp.extensions import db

__all__ = ["DAY0", "all_bytes", "at", "check_golden", "enrol", "export_around_write"]

DAY0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def at(days: int = 0, minutes: int = 0) -> datetime:
    """A fixed moment ``days`` and ``minutes`` after 2026-11-01 09:00 UTC."""
    return DAY0 + timedelta(days=days, minutes=minutes)


def enrol(account_id: str | None, when: datetime = DAY0, **profile: Any) -> Member:
    member = members.enrol_member(db.session(), at=when, **profile)
    if account_id is not None:
        give_account_id(member, account_id)
    return member


def all_bytes(exported: Exported) -> bytes:
    """Every file of an export, in order (a split export's goldens hold them all)."""
    parts = []
    for index, name in enumerate(exported.names):
        parts.append(f"== {name}\n".encode() + exported.bytes(index))
    return b"".join(parts)
