"""Helpers every domain service uses: input checks, the clock, and writing the change log."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from loyalty.db import utcnow
from loyalty.errors import NotFound, ValidationError
from loyalty.models.change_log import ChangeKind, ChangeLog
from loyalty.models.enums import MemberStatus
from loyalty.models.members import Member

T = TypeVar("T")

# Points and money have two decimals (Numeric(14, 2)); anything finer is refused rather
# than silently rounded.
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Checks:
    """Collects every problem with an input before one ValidationError reports them all."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(
        self, field: str, value: str | None, max_length: int, *, required: bool = False
    ) -> str | None:
        """Stripped text, ``None`` for empty; too long or missing (when required) fails."""
        if value is None:
            cleaned = ""
        elif isinstance(value, str):
            cleaned = value.strip()
        else:
            self.fail(field, f"{field} must be text.")
            return None
        if not cleaned:
            if required:
                self.fail(field, f"{field} is required.")
            return None
        if len(cleaned) > max_length:
            self.fail(field, f"{field} has at most {max_length} characters.")
        if _CONTROL.search(cleaned):
            # Exports turn |, CR, LF and TAB into safe characters; other control characters
            # have no business in a name or an address and would reach receivers as is.
            self.fail(field, f"{field} contains control characters.")
        return cleaned

    def amount(
        self, field: str, value: Any, *, positive: bool = False, allow_zero: bool = True
    ) -> Decimal:
        """A Decimal with at most two places (points or money)."""
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            self.fail(field, f"{field} must be a number.")
            return Decimal(0)
        if not number.is_finite():
            self.fail(field, f"{field} must be a number.")
            return Decimal(0)
        if number != number.quantize(CENT):
            self.fail(field, f"{field} has at most two decimals.")
        if abs(number) > MAX_AMOUNT:
            self.fail(field, f"{field} is too large.")
        if positive and number < 0:
            self.fail(field, f"{field} must not be negative.")
        if not allow_zero and number == 0:
            self.fail(field, f"{field} must not be zero.")
        return number.quantize(CENT)

    def done(self) -> None:
        if self.errors:
            raise ValidationError(dict(self.errors))


def moment(at: datetime | None) -> datetime:
    """The time of a change: ``at`` (timezone-aware) or now."""
    if at is None:
        return utcnow()
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError({"at": "Times must be timezone-aware (e.g. UTC)."})
    return at


def day_of(at: datetime) -> date:
    return at.date()


def require(session: Session, model: type[T], ident: Any, label: str) -> T:
    """Load by primary key or raise NotFound (for callers that pass ids)."""
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{label} {ident} does not exist.")
    return obj


def check_member_writable(member: Member) -> None:
    """Changes to a deleted member are refused: the Delete Trigger was their last record."""
    if member.status == MemberStatus.DELETED:
        raise ValidationError({"member": f"Member {member.id} is deleted."})


def log_change(
    session: Session,
    kind: ChangeKind,
    code: str,
    at: datetime,
    *,
    member_id: int | None,
    subject_id: int | None = None,
    subject2_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> ChangeLog:
    """Add one change-log row to the caller's transaction (``txid`` is set by the database)."""
    entry = ChangeLog(
        kind=kind,
        code=str(code),
        occurred_at=at,
        member_id=member_id,
        subject_id=subject_id,
        subject2_id=subject2_id,
        payload=payload,
    )
    session.add(entry)
    return entry


def touch(member: Member, at: datetime) -> None:
    """Note that a member's exported data changed (``updated_at`` never goes backwards)."""
    if member.updated_at is None or at > member.updated_at:
        member.updated_at = at
