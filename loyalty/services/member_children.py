"""A member's children: adding, editing and removing them.

Children are the member's own data (names, birthdate, gender), not members; each change is
a Member Child (11) record of the parent (change-log kind ``member``, subject = child). A
removed child keeps its row (``removed_at``) so the export can report the removal.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.members import Member, MemberChild
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch
from loyalty.services.member_profile import NAME_LENGTH, clean_gender


def _clean_child(checks: Checks, values: dict[str, Any], today: date) -> dict[str, Any]:
    unknown = set(values) - {"first_name", "last_name", "birth_date", "gender"}
    if unknown:
        raise ValidationError({"fields": f"Unknown child field(s): {', '.join(sorted(unknown))}."})
    cleaned: dict[str, Any] = {}
    for field in ("first_name", "last_name"):
        if field in values:
            cleaned[field] = checks.text(field, values[field], NAME_LENGTH)
    if "birth_date" in values:
        born = values["birth_date"]
        if born is not None and (not isinstance(born, date) or isinstance(born, datetime)):
            checks.fail("birth_date", "birth_date must be a date.")
        elif born is not None and born > today:
            checks.fail("birth_date", "The birthdate is in the future.")
        cleaned["birth_date"] = born
    if "gender" in values:
        cleaned["gender"] = clean_gender(checks, values["gender"])
    return cleaned


def add_child(
    session: Session, member: Member, *, at: datetime | None = None, **fields: Any
) -> MemberChild:
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    cleaned = _clean_child(checks, fields, when.date())
    if not cleaned.get("first_name"):
        checks.fail("first_name", "first_name is required.")
    checks.done()
    child = MemberChild(member_id=member.id, created_at=when, updated_at=when, **cleaned)
    session.add(child)
    session.flush()
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CHILD,
        when,
        member_id=member.id,
        subject_id=child.id,
    )
    session.flush()
    return child


def update_child(
    session: Session, child: MemberChild, *, at: datetime | None = None, **fields: Any
) -> bool:
    when = moment(at)
    member = session.get_one(Member, child.member_id)
    check_member_writable(member)
    if child.removed_at is not None:
        raise ValidationError({"child": f"Child {child.id} was removed."})
    checks = Checks()
    cleaned = _clean_child(checks, fields, when.date())
    checks.done()
    changed = [f for f, v in cleaned.items() if getattr(child, f) != v]
    if not changed:
        return False
    for field in changed:
        setattr(child, field, cleaned[field])
    child.updated_at = when
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CHILD,
        when,
        member_id=member.id,
        subject_id=child.id,
    )
    session.flush()
    return True


def remove_child(session: Session, child: MemberChild, *, at: datetime | None = None) -> None:
    when = moment(at)
    member = session.get_one(Member, child.member_id)
    check_member_writable(member)
    if child.removed_at is not None:
        raise ValidationError({"child": f"Child {child.id} was already removed."})
    child.removed_at = when
    child.updated_at = when
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CHILD,
        when,
        member_id=member.id,
        subject_id=child.id,
        payload={"removed": True},
    )
    session.flush()
