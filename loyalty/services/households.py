"""Households: creating one, members joining and leaving it, and its single head.

A household groups members (one head at most, enforced by a partial unique index); every
change of membership or head is a Head of Household (9) record of the member it concerns
(change-log kind ``member``, subject = household). Deleting a member (``members``) takes
them out of their household first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.members import Household, Member
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch
from loyalty.services.member_profile import NAME_LENGTH


def create_household(
    session: Session, name: str, ext_ref: str | None = None, *, at: datetime | None = None
) -> Household:
    when = moment(at)
    checks = Checks()
    clean_name = checks.text("name", name, NAME_LENGTH, required=True)
    clean_ref = checks.text("ext_ref", ext_ref, 20)
    if clean_ref and session.scalar(select(Household.id).where(Household.ext_ref == clean_ref)):
        checks.fail("ext_ref", f"Household {clean_ref!r} exists.")
    checks.done()
    household = Household(name=clean_name, ext_ref=clean_ref, created_at=when)
    session.add(household)
    session.flush()
    return household


def join_household(
    session: Session,
    member: Member,
    household: Household,
    *,
    head: bool = False,
    at: datetime | None = None,
) -> None:
    """Put a member in a household (leaving any other); writes Head of Household (9)."""
    when = moment(at)
    check_member_writable(member)
    if member.household_id not in (None, household.id):
        leave_household(session, member, at=when)
    if member.household_id != household.id:
        member.household_id = household.id
        member.is_household_head = False
        touch(member, when)
        log_change(
            session,
            ChangeKind.MEMBER,
            MemberTrigger.HEAD_OF_HOUSEHOLD,
            when,
            member_id=member.id,
            subject_id=household.id,
            payload={"joined": True},
        )
        session.flush()
    if head:
        set_household_head(session, household, member, at=when)


def leave_household(session: Session, member: Member, *, at: datetime | None = None) -> None:
    when = moment(at)
    if member.household_id is None:
        raise ValidationError({"household": f"Member {member.id} is in no household."})
    household_id = member.household_id
    member.household_id = None
    member.is_household_head = False
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.HEAD_OF_HOUSEHOLD,
        when,
        member_id=member.id,
        subject_id=household_id,
        payload={"left": True},
    )
    session.flush()


def set_household_head(
    session: Session, household: Household, member: Member, *, at: datetime | None = None
) -> None:
    """Make ``member`` the head; the previous head (if any) is told too (both get a 9)."""
    when = moment(at)
    check_member_writable(member)
    if member.household_id != household.id:
        raise ValidationError({"member": f"Member {member.id} is not in household {household.id}."})
    if member.is_household_head:
        return
    previous = session.scalar(
        select(Member).where(
            Member.household_id == household.id, Member.is_household_head.is_(True)
        )
    )
    if previous is not None:
        previous.is_household_head = False
        touch(previous, when)
        log_change(
            session,
            ChangeKind.MEMBER,
            MemberTrigger.HEAD_OF_HOUSEHOLD,
            when,
            member_id=previous.id,
            subject_id=household.id,
        )
        # The partial unique index allows one head: the old one must be gone first.
        session.flush()
    member.is_household_head = True
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.HEAD_OF_HOUSEHOLD,
        when,
        member_id=member.id,
        subject_id=household.id,
    )
    session.flush()
