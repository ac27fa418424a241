"""Club memberships: a member joining, leaving and rejoining a club.

A membership row is kept when the member leaves (``left_at``) and reused on rejoining, so
its id stays the one the export reports; each change is a Club (6) record of the member
(change-log kind ``member``, subject = club, subject2 = membership).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.members import Club, ClubMembership, Member
from loyalty.services._common import check_member_writable, log_change, moment, touch


def join_club(
    session: Session, member: Member, club: Club, *, at: datetime | None = None
) -> ClubMembership:
    """Join (or rejoin) a club; writes Club (6)."""
    when = moment(at)
    check_member_writable(member)
    membership = session.scalar(
        select(ClubMembership).where(
            ClubMembership.member_id == member.id, ClubMembership.club_id == club.id
        )
    )
    if membership is not None and membership.left_at is None:
        raise ValidationError({"club": f"Member {member.id} is already in club {club.ext_ref}."})
    if membership is None:
        membership = ClubMembership(member_id=member.id, club_id=club.id, joined_at=when)
        session.add(membership)
    else:
        membership.joined_at = when
        membership.left_at = None
    session.flush()
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CLUB,
        when,
        member_id=member.id,
        subject_id=club.id,
        subject2_id=membership.id,
    )
    session.flush()
    return membership


def leave_club(session: Session, member: Member, club: Club, *, at: datetime | None = None) -> None:
    when = moment(at)
    check_member_writable(member)
    membership = session.scalar(
        select(ClubMembership).where(
            ClubMembership.member_id == member.id,
            ClubMembership.club_id == club.id,
            ClubMembership.left_at.is_(None),
        )
    )
    if membership is None:
        raise ValidationError({"club": f"Member {member.id} is not in club {club.ext_ref}."})
    membership.left_at = when
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.CLUB,
        when,
        member_id=member.id,
        subject_id=club.id,
        subject2_id=membership.id,
        payload={"left": True},
    )
    session.flush()
