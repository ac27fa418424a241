"""Members: enrolment, profile changes, status and deletion, households, children, clubs.

Change log (kind ``member``, code = Member Extended record type): enrolment and profile
edits write Core (1); deletion Delete (7); household membership and head changes Head of
Household (9, subject = household); children Member Child (11, subject = child); clubs
Club (6, subject = club, subject2 = membership).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models._types import Name
from loyalty.models.change_log import ChangeKind, MemberTrigger
from loyalty.models.enums import DeliveryMethod, Gender, MemberStatus
from loyalty.models.locations import Location
from loyalty.models.members import Club, ClubMembership, Household, Member, MemberChild
from loyalty.models.points import PointBalance
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch

NAME_LENGTH = Name.length or 60
TEXT_FIELDS = ("prefix", "first_name", "middle_name", "last_name", "suffix")
FLAG_FIELDS = ("do_not_email", "do_not_text", "do_not_phone", "do_not_mail")
PROFILE_FIELDS = frozenset(
    (
        *TEXT_FIELDS,
        *FLAG_FIELDS,
        "birth_year",
        "birth_month",
        "birth_day",
        "gender",
        "offer_delivery",
        "message_delivery",
        "ext_ref",
    )
)


def _gender(checks: Checks, value: Any) -> Gender:
    if isinstance(value, Gender):
        return value
    text = str(value or "").strip().lower()
    for gender in Gender:
        if text in (gender.value.lower(), gender.value[0].lower()):
            return gender
    checks.fail("gender", "Gender is Male, Female or Undefined.")
    return Gender.UNDEFINED


def _delivery(checks: Checks, field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(DeliveryMethod(int(value)))
    except (TypeError, ValueError):
        checks.fail(field, f"{field} is 1 (Email) or 2 (Text).")
        return None


def _birth(checks: Checks, year: Any, month: Any, day: Any, today: date) -> tuple[Any, Any, Any]:
    """Year, month and day may each be unknown; the known parts must make sense together."""
    parts: dict[str, int | None] = {}
    for field, value, low, high in (
        ("birth_year", year, 1880, today.year),
        ("birth_month", month, 1, 12),
        ("birth_day", day, 1, 31),
    ):
        if value is None or value == "":
            parts[field] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            checks.fail(field, f"{field} must be a whole number.")
            parts[field] = None
            continue
        if not low <= number <= high:
            checks.fail(field, f"{field} must be between {low} and {high}.")
        parts[field] = number
    y, m, d = parts["birth_year"], parts["birth_month"], parts["birth_day"]
    if m and d and not checks.errors:
        try:
            # A leap year stands in for an unknown year, so 29 February is accepted.
            born = date(y or 2000, m, d)
        except ValueError:
            checks.fail("birth_day", "That day does not exist in that month.")
        else:
            if born > today:
                checks.fail("birth_year", "The birthdate is in the future.")
    return y, m, d


def _clean_profile(
    session: Session, checks: Checks, values: dict[str, Any], member: Member | None, today: date
) -> dict[str, Any]:
    unknown = set(values) - PROFILE_FIELDS
    if unknown:
        raise ValidationError({"fields": f"Unknown member field(s): {', '.join(sorted(unknown))}."})
    cleaned: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        if field in values:
            cleaned[field] = checks.text(field, values[field], NAME_LENGTH)
    for field in FLAG_FIELDS:
        if field in values:
            if not isinstance(values[field], bool):
                checks.fail(field, f"{field} is true or false.")
            cleaned[field] = bool(values[field])
    if "gender" in values:
        cleaned["gender"] = _gender(checks, values["gender"])
    for field in ("offer_delivery", "message_delivery"):
        if field in values:
            cleaned[field] = _delivery(checks, field, values[field])
    if {"birth_year", "birth_month", "birth_day"} & set(values):
        current = member or Member()
        y, m, d = _birth(
            checks,
            values.get("birth_year", current.birth_year),
            values.get("birth_month", current.birth_month),
            values.get("birth_day", current.birth_day),
            today,
        )
        cleaned.update(birth_year=y, birth_month=m, birth_day=d)
    if "ext_ref" in values:
        ext_ref = checks.text("ext_ref", values["ext_ref"], 20)
        if ext_ref is not None:
            other = session.scalar(select(Member.id).where(Member.ext_ref == ext_ref))
            if other is not None and (member is None or other != member.id):
                checks.fail("ext_ref", f"External reference {ext_ref!r} belongs to member {other}.")
        cleaned["ext_ref"] = ext_ref
    return cleaned


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
    cleaned = _clean_profile(session, checks, profile, None, when.date())
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
    cleaned = _clean_profile(session, checks, changes, member, when.date())
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


# -- households -----------------------------------------------------------------------------


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


# -- children -------------------------------------------------------------------------------


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
        cleaned["gender"] = _gender(checks, values["gender"])
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


# -- clubs ----------------------------------------------------------------------------------


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
