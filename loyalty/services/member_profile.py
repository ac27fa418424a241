"""What a valid member profile is: the field names, their checks and their clean values.

No writes here. Enrolment and profile edits (``members``) share these rules so that a
member can never be enrolled with a value an edit would refuse, and the other records
named like a person (household names, children) reuse the name length and gender rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models._types import Name
from loyalty.models.enums import DeliveryMethod, Gender
from loyalty.models.members import Member
from loyalty.services._common import Checks

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


def clean_gender(checks: Checks, value: Any) -> Gender:
    """A Gender, or its name or initial in any case; anything else is a failed check."""
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


def clean_profile(
    session: Session, checks: Checks, values: dict[str, Any], member: Member | None, today: date
) -> dict[str, Any]:
    """The clean values of the profile fields given (``member``: the one being edited, or
    None on enrolment); an unknown field name raises at once, bad values go to ``checks``."""
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
        cleaned["gender"] = clean_gender(checks, values["gender"])
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
