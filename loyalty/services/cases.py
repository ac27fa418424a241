"""Customer-service cases: every change is a case event with its action code.

Each event records the user handling the case at that moment (the Case Sync's ``User``)
and writes ``case``/<action code> to the change log (subject = case, subject2 = event);
the Case Sync exports the stream in the order the events happened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.cases import Case, CaseCategory, CaseDescriptor, CaseEvent, CaseQueue
from loyalty.models.change_log import ChangeKind
from loyalty.models.descriptors import Descriptor
from loyalty.models.enums import CaseAction, CaseStatus
from loyalty.models.members import Member
from loyalty.services._common import Checks, log_change, moment

_SETS_CATEGORY = (CaseAction.OPENED, CaseAction.CHANGED_CATEGORY)
_SETS_QUEUE = (CaseAction.OPENED, CaseAction.CHANGED_QUEUE)


def _event(
    session: Session,
    case: Case,
    action: CaseAction,
    when: datetime,
    *,
    note: str | None = None,
    descriptor: Descriptor | None = None,
) -> CaseEvent:
    case.updated_at = when
    event = CaseEvent(
        case_id=case.id,
        action=action,
        occurred_at=when,
        user_name=case.assigned_user,
        descriptor_id=descriptor.id if descriptor else None,
        # The category / queue the event sets: a change sets the new one, and opening
        # sets the first one (so the Case Sync can tell a case's whole path).
        category_id=case.category_id if action in _SETS_CATEGORY else None,
        queue_id=case.queue_id if action in _SETS_QUEUE else None,
        note=note,
    )
    session.add(event)
    session.flush()
    log_change(
        session,
        ChangeKind.CASE,
        action,
        when,
        member_id=case.member_id,
        subject_id=case.id,
        subject2_id=event.id,
    )
    session.flush()
    return event


def _user_and_note(
    user: str | None, note: str | None, *, user_required: bool = True
) -> tuple[str | None, str | None]:
    checks = Checks()
    clean_user = checks.text("user", user, 120, required=user_required)
    clean_note = checks.text("note", note, 500)
    checks.done()
    return clean_user, clean_note


def open_case(
    session: Session,
    subject: str,
    *,
    user: str,
    member: Member | None = None,
    category: CaseCategory | None = None,
    queue: CaseQueue | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> Case:
    """Open a case handled by ``user``; writes ``OPEN``."""
    when = moment(at)
    clean_user, clean_note = _user_and_note(user, note)
    checks = Checks()
    clean_subject = checks.text("subject", subject, 120, required=True)
    checks.done()
    case = Case(
        member_id=member.id if member else None,
        subject=clean_subject,
        category_id=category.id if category else None,
        queue_id=queue.id if queue else None,
        status=CaseStatus.OPEN,
        assigned_user=clean_user,
        opened_at=when,
        updated_at=when,
    )
    session.add(case)
    session.flush()
    _event(session, case, CaseAction.OPENED, when, note=clean_note)
    return case


def _open_only(case: Case, what: str) -> None:
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"case": f"Case {case.id} is closed; {what} needs an open case."})


def close_case(
    session: Session, case: Case, *, user: str, note: str | None = None, at: datetime | None = None
) -> CaseEvent:
    when = moment(at)
    _open_only(case, "closing")
    clean_user, clean_note = _user_and_note(user, note)
    case.assigned_user = clean_user
    case.status = CaseStatus.CLOSED
    case.closed_at = when
    return _event(session, case, CaseAction.CLOSED, when, note=clean_note)


def reopen_case(
    session: Session, case: Case, *, user: str, note: str | None = None, at: datetime | None = None
) -> CaseEvent:
    when = moment(at)
    if case.status != CaseStatus.CLOSED:
        raise ValidationError({"case": f"Case {case.id} is open; only a closed case is reopened."})
    clean_user, clean_note = _user_and_note(user, note)
    case.assigned_user = clean_user
    case.status = CaseStatus.OPEN
    case.closed_at = None
    return _event(session, case, CaseAction.REOPENED, when, note=clean_note)


def touch_case(
    session: Session, case: Case, *, user: str, note: str | None = None, at: datetime | None = None
) -> CaseEvent:
    """Someone worked on the case (a note, a call...); they now handle it. ``TOCH``."""
    when = moment(at)
    _open_only(case, "working on it")
    clean_user, clean_note = _user_and_note(user, note)
    case.assigned_user = clean_user
    return _event(session, case, CaseAction.TOUCHED, when, note=clean_note)


def change_case_category(
    session: Session,
    case: Case,
    category: CaseCategory,
    *,
    note: str | None = None,
    at: datetime | None = None,
) -> CaseEvent | None:
    when = moment(at)
    _open_only(case, "changing its category")
    _, clean_note = _user_and_note(None, note, user_required=False)
    if case.category_id == category.id:
        return None
    case.category_id = category.id
    return _event(session, case, CaseAction.CHANGED_CATEGORY, when, note=clean_note)


def change_case_queue(
    session: Session,
    case: Case,
    queue: CaseQueue,
    *,
    note: str | None = None,
    at: datetime | None = None,
) -> CaseEvent | None:
    when = moment(at)
    _open_only(case, "moving it to another queue")
    _, clean_note = _user_and_note(None, note, user_required=False)
    if case.queue_id == queue.id:
        return None
    case.queue_id = queue.id
    return _event(session, case, CaseAction.CHANGED_QUEUE, when, note=clean_note)


def add_case_descriptor(
    session: Session, case: Case, descriptor: Descriptor, *, at: datetime | None = None
) -> CaseEvent:
    when = moment(at)
    if session.get(CaseDescriptor, (case.id, descriptor.id)) is not None:
        raise ValidationError({"descriptor": f"Case {case.id} already has {descriptor.ext_ref}."})
    session.add(CaseDescriptor(case_id=case.id, descriptor_id=descriptor.id, added_at=when))
    return _event(session, case, CaseAction.ADDED_DESCRIPTOR, when, descriptor=descriptor)


def remove_case_descriptor(
    session: Session, case: Case, descriptor: Descriptor, *, at: datetime | None = None
) -> CaseEvent:
    when = moment(at)
    row = session.get(CaseDescriptor, (case.id, descriptor.id))
    if row is None:
        raise ValidationError({"descriptor": f"Case {case.id} does not have {descriptor.ext_ref}."})
    session.delete(row)
    return _event(session, case, CaseAction.REMOVED_DESCRIPTOR, when, descriptor=descriptor)


def open_cases_of(session: Session, member: Member) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.member_id == member.id, Case.status == CaseStatus.OPEN)
        )
    )
