"""The member record itself: enrolment, profile edits, status, deletion.

These are the changes to the member row that the Member Extended export reports as Core
(1) and Delete (7) records (change-log kind ``member``). What a valid profile is lives in
``member_profile``; the records that hang off a member and have their own record types
live in ``households`` (9), ``member_children`` (11) and ``clubs`` (6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.enums import Gender, MemberStatus
from loyalty.models.locations import Location
from loyalty.models.members import Member
from loyalty.models.points import PointBalance
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch
from loyalty.services.households import leave_household
from loyalty.services.member_profile import FLAG_FIELDS, clean_profile


def enrol_member(
    session: Session,
    *,
    location: Location | None = None,
    source: str | None = None,
    at: datetime | None = None,
    **profile: Any,
) -> Member:
    """Enrol a member (profile fields as keywords, see PROFILE_FIELDS); writes Core (1)."""
    when = moment(at)
    checks = Checks()
    cleaned = clean_profile(session, checks, profile, None, when.date())
    source = checks.text("source", source, 20)
    checks.done()
    member = Member(
        **{"gender": Gender.UNDEFINED, **dict.fromkeys(FLAG_FIELDS, False), **cleaned},
        status=MemberStatus.ACTIVE,
        enrolled_at=when,
        enrolment_location_id=location.id if location else None,
        enrolment_source=source,
        updated_at=when,
    )
    session.add(member)
    session.flush()
    session.add(PointBalance(member_id=member.id, updated_at=when))
    log_change(session, ChangeKind.MEMBER, MemberTrigger.CORE, when, member_id=member.id)
    session.flush()
    return member


def update_member(
    session: Session, member: Member, *, at: datetime | None = None, **changes: Any
) -> list[str]:
    """Change profile fields; returns the names of the fields that really changed.

    Writes one Core (1) record when anything changed, none otherwise.
    """
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    cleaned = clean_profile(session, checks, changes, member, when.date())
    checks.done()
    changed = [field for field, value in cleaned.items() if getattr(member, field) != value]
    if not changed:
        return []
    for field in changed:
        setattr(member, field, cleaned[field])
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CORE,
        when,
        member_id=member.id,
        payload={"fields": changed},
    )
    session.flush()
    return changed


def set_member_status(
    session: Session, member: Member, status: MemberStatus | str, *, at: datetime | None = None
) -> bool:
    """Active / inactive / suspended (deletion is ``delete_member``); writes Core (1)."""
    when = moment(at)
    check_member_writable(member)
    try:
        new = MemberStatus(status)
    except ValueError:
        raise ValidationError({"status": f"Unknown member status {status!r}."}) from None
    if new == MemberStatus.DELETED:
        raise ValidationError({"status": "Use delete_member to delete a member."})
    if member.status == new:
        return False
    member.status = new
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CORE,
        when,
        member_id=member.id,
        payload={"fields": ["status"]},
    )
    session.flush()
    return True


def delete_member(session: Session, member: Member, *, at: datetime | None = None) -> None:
    """Mark a member deleted (the row stays: history refers to it); writes Delete (7)."""
    when = moment(at)
    check_member_writable(member)
    if member.household_id is not None:
        leave_household(session, member, at=when)
    member.status = MemberStatus.DELETED
    member.deleted_at = when
    touch(member, when)
    log_change(session, ChangeKind.MEMBER, MemberTrigger.DELETE, when, member_id=member.id)
    session.flush()
