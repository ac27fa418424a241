"""Member descriptor assignments, with expiry "end of day" style.

Change log (kind ``descriptor``, subject = descriptor, subject2 = assignment): ``ASGN``
assigned, ``EXPC`` expiry changed, ``RMVD`` removed (payload ``{"reason": "removed"}`` or
``"expired"`` when the batch removed it after its last day). Member Ranking Extended reads
these for the ranking set's configured descriptor.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, DescriptorTrigger
from loyalty.models.descriptors import Descriptor, DescriptorAssignment
from loyalty.models.members import Member
from loyalty.services._common import check_member_writable, log_change, moment, touch


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_EXPIRY"


# "Use the descriptor's default expiry" (``None`` means "never expires").
DEFAULT_EXPIRY: Final = _Default()
SOURCES = frozenset({"manual", "import", "ranking", "batch", "campaign"})


def default_expiry(descriptor: Descriptor, assigned_on: date) -> date | None:
    """With a 90-day expiry, an assignment made on 2017-02-02 holds until 2017-05-03."""
    if descriptor.default_expiry_days is None:
        return None
    return assigned_on + timedelta(days=descriptor.default_expiry_days)


def assign_descriptor(
    session: Session,
    member: Member,
    descriptor: Descriptor,
    *,
    expires_on: date | _Default | None = DEFAULT_EXPIRY,
    source: str = "manual",
    at: datetime | None = None,
) -> DescriptorAssignment:
    """Assign (or re-assign, which sets the new expiry). Import assignments never expire."""
    when = moment(at)
    check_member_writable(member)
    if source not in SOURCES:
        raise ValidationError({"source": f"Unknown assignment source {source!r}."})
    if isinstance(expires_on, _Default):
        expiry = None if source == "import" else default_expiry(descriptor, when.date())
    else:
        expiry = expires_on
    if expiry is not None:
        if source == "import":
            raise ValidationError({"expires_on": "Import assignments cannot expire."})
        if not isinstance(expiry, date) or isinstance(expiry, datetime):
            raise ValidationError({"expires_on": "expires_on must be a date."})
        if expiry < when.date():
            raise ValidationError({"expires_on": "The expiry date is in the past."})
    assignment = session.scalar(
        select(DescriptorAssignment).where(
            DescriptorAssignment.member_id == member.id,
            DescriptorAssignment.descriptor_id == descriptor.id,
        )
    )
    if assignment is not None:
        if assignment.expires_on == expiry:
            return assignment
        assignment.expires_on = expiry
        assignment.updated_at = when
        trigger = DescriptorTrigger.EXPIRY_CHANGED
    else:
        assignment = DescriptorAssignment(
            member_id=member.id,
            descriptor_id=descriptor.id,
            assigned_at=when,
            expires_on=expiry,
            source=source,
            updated_at=when,
        )
        session.add(assignment)
        session.flush()
        trigger = DescriptorTrigger.ASSIGNED
    touch(member, when)
    log_change(
        session,
        ChangeKind.DESCRIPTOR,
        trigger,
        when,
        member_id=member.id,
        subject_id=descriptor.id,
        subject2_id=assignment.id,
    )
    session.flush()
    return assignment


def remove_descriptor(
    session: Session,
    member: Member,
    descriptor: Descriptor,
    *,
    reason: str = "removed",
    at: datetime | None = None,
) -> None:
    when = moment(at)
    assignment = session.scalar(
        select(DescriptorAssignment).where(
            DescriptorAssignment.member_id == member.id,
            DescriptorAssignment.descriptor_id == descriptor.id,
        )
    )
    if assignment is None:
        raise ValidationError(
            {"descriptor": f"Member {member.id} does not have {descriptor.ext_ref}."}
        )
    _remove(session, member, assignment, reason, when)


def _remove(
    session: Session, member: Member, assignment: DescriptorAssignment, reason: str, when: datetime
) -> None:
    assignment_id, descriptor_id = assignment.id, assignment.descriptor_id
    session.delete(assignment)
    touch(member, when)
    log_change(
        session,
        ChangeKind.DESCRIPTOR,
        DescriptorTrigger.REMOVED,
        when,
        member_id=member.id,
        subject_id=descriptor_id,
        subject2_id=assignment_id,
        payload={"reason": reason},
    )
    session.flush()


def expire_descriptor_assignments(
    session: Session, as_of: date, *, at: datetime | None = None
) -> int:
    """The batch: remove every assignment whose last day is before ``as_of``."""
    when = moment(at)
    due = session.scalars(
        select(DescriptorAssignment)
        .where(DescriptorAssignment.expires_on < as_of)
        .order_by(DescriptorAssignment.id)
    ).all()
    for assignment in due:
        member = session.get_one(Member, assignment.member_id)
        _remove(session, member, assignment, "expired", when)
    return len(due)
