"""Reference data: locations, products, reward types, descriptors, ranking sets, id types,
transaction types, clubs, questions, interaction types, case categories and queues,
campaigns and promotions.

These feed cumulative syncs (Location, Product Item, Reward Type...) and are read in full
each run, so they are not change-logged. Their checks come from the model itself: text
columns are held to their declared length, required columns must be given, and unique
columns (external references) must be free; so a new column is checked without new code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.campaigns import Campaign, Promotion
from loyalty.models.cases import CaseCategory, CaseQueue
from loyalty.models.contacts import AccountIdType
from loyalty.models.descriptors import Descriptor
from loyalty.models.interactions import InteractionEvent, InteractionType
from loyalty.models.locations import BusinessUnit, Location, PosCategory
from loyalty.models.members import Club
from loyalty.models.products import Product
from loyalty.models.rankings import RankingLevel, RankingSet
from loyalty.models.rewards import RewardCategory, RewardType
from loyalty.models.surveys import Question, QuestionChoice, QuestionSet
from loyalty.models.transactions import TransactionType
from loyalty.services._common import Checks, moment

M = TypeVar("M")

# Columns set by the service, never by the caller.
_MANAGED = frozenset({"id", "created_at", "updated_at"})


def _clean(
    session: Session, model: type[M], values: dict[str, Any], existing: M | None
) -> dict[str, Any]:
    table = model.__table__  # type: ignore[attr-defined]
    checks = Checks()
    unknown = set(values) - set(table.c.keys()) | (set(values) & _MANAGED)
    if unknown:
        raise ValidationError(
            {"fields": f"Unknown {model.__name__} field(s): {', '.join(sorted(unknown))}."}
        )
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        column = table.c[name]
        if isinstance(column.type, String) and (value is None or isinstance(value, str)):
            value = checks.text(name, value, column.type.length or 10_000)
        cleaned[name] = value
    for column in table.c:
        if column.name in _MANAGED or column.nullable or column.default is not None:
            continue
        current = cleaned.get(
            column.name, getattr(existing, column.name, None) if existing else None
        )
        if current is None:
            checks.fail(column.name, f"{column.name} is required.")
    for column in table.c:
        if column.unique and cleaned.get(column.name) is not None:
            other = session.scalar(select(table.c.id).where(column == cleaned[column.name]))
            if other is not None and (existing is None or other != getattr(existing, "id", None)):
                checks.fail(column.name, f"{column.name} {cleaned[column.name]!r} is already used.")
    if "timezone" in cleaned and cleaned["timezone"] is not None:
        try:
            ZoneInfo(cleaned["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            checks.fail("timezone", f"Unknown timezone {cleaned['timezone']!r}.")
    checks.done()
    return cleaned


def create(session: Session, model: type[M], *, at: datetime | None = None, **values: Any) -> M:
    """Create a reference row of ``model`` after the model-driven checks."""
    when = moment(at)
    cleaned = _clean(session, model, values, None)
    table = model.__table__  # type: ignore[attr-defined]
    stamps = {name: when for name in ("created_at", "updated_at") if name in table.c}
    obj = model(**cleaned, **stamps)
    session.add(obj)
    session.flush()
    return obj


def update(session: Session, obj: M, *, at: datetime | None = None, **values: Any) -> list[str]:
    """Change fields of a reference row; returns the fields that changed."""
    when = moment(at)
    cleaned = _clean(session, type(obj), values, obj)
    changed = [name for name, value in cleaned.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, cleaned[name])
    if changed and hasattr(obj, "updated_at"):
        setattr(obj, "updated_at", when)  # noqa: B010 (obj is any reference model)
    session.flush()
    return changed


def create_location(session: Session, **values: Any) -> Location:
    return create(session, Location, **values)


def create_product(session: Session, **values: Any) -> Product:
    return create(session, Product, **values)


def create_ranking_set(
    session: Session,
    ext_ref: str,
    name: str,
    levels: Sequence[tuple[str, str]],
    *,
    descriptor: Descriptor | None = None,
    at: datetime | None = None,
) -> RankingSet:
    """A ranking set with its levels, lowest first: ``[("REGULAR", "Regular"), ...]``."""
    if not levels:
        raise ValidationError({"levels": "A ranking set has at least one level."})
    refs = [ref for ref, _ in levels]
    if len(set(refs)) != len(refs):
        raise ValidationError({"levels": "Level external references repeat."})
    ranking_set = create(
        session,
        RankingSet,
        ext_ref=ext_ref,
        name=name,
        descriptor_id=descriptor.id if descriptor else None,
        at=at,
    )
    for position, (ref, level_name) in enumerate(levels, start=1):
        create(
            session,
            RankingLevel,
            ranking_set_id=ranking_set.id,
            ext_ref=ref,
            name=level_name,
            position=position,
        )
    return ranking_set


def create_question(
    session: Session,
    question_set: QuestionSet,
    *,
    kind: str,
    name: str,
    choices: Sequence[str | tuple[str, bool]],
    text: str | None = None,
    multiple_answers: bool = False,
    position: int = 1,
) -> Question:
    """A question with its choices (``(text, is_correct)`` pairs for trivia)."""
    question = create(
        session,
        Question,
        question_set_id=question_set.id,
        kind=kind,
        name=name,
        text=text,
        multiple_answers=multiple_answers,
        position=position,
    )
    for number, choice in enumerate(choices, start=1):
        label, correct = (choice, False) if isinstance(choice, str) else choice
        create(
            session,
            QuestionChoice,
            question_id=question.id,
            text=label,
            is_correct=correct,
            position=number,
        )
    return question


__all__ = [
    "AccountIdType",
    "BusinessUnit",
    "Campaign",
    "CaseCategory",
    "CaseQueue",
    "Club",
    "Descriptor",
    "InteractionEvent",
    "InteractionType",
    "PosCategory",
    "Promotion",
    "QuestionSet",
    "RewardCategory",
    "RewardType",
    "TransactionType",
    "create",
    "create_location",
    "create_product",
    "create_question",
    "create_ranking_set",
    "update",
]
