"""What the activity simulation works with: the program's reference data (``Catalog``,
loaded once) and the ``Simulator``, its state between changes (session, random stream,
members touched today) with the picking helpers every operation uses and the nightly batch.

The operations themselves are in ``member_operations``, ``commerce_operations`` and
``engagement_operations``; ``operations`` lists them with how often each happens.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.models import (
    AccountIdType,
    Campaign,
    CaseCategory,
    CaseQueue,
    Club,
    CustomFieldDefinition,
    Descriptor,
    InteractionEvent,
    InteractionType,
    Location,
    Member,
    MemberStatus,
    Product,
    Promotion,
    Question,
    QuestionChoice,
    RankingLevel,
    RewardType,
    TransactionType,
)
from loyalty.services import descriptors, points, rewards


class ActivityError(Exception):
    """The database holds no program to simulate (seed one first)."""


@dataclass
class Catalog:
    """The reference data the simulation picks from, loaded once."""

    locations: list[Location]
    products: list[Product]
    id_types: dict[str, AccountIdType]
    descriptors: list[Descriptor]
    levels: list[RankingLevel]
    reward_types: list[RewardType]
    transaction_types: dict[str, TransactionType]
    questions: list[tuple[Question, list[QuestionChoice]]]
    interaction_types: list[InteractionType]
    events: list[InteractionEvent]
    categories: list[CaseCategory]
    queues: list[CaseQueue]
    campaigns: list[Campaign]
    promotions: list[Promotion]
    clubs: list[Club]
    member_fields: list[CustomFieldDefinition]
    transaction_fields: list[CustomFieldDefinition]

    @classmethod
    def load(cls, session: Session) -> Catalog:
        def every(model: Any) -> list[Any]:
            return list(session.scalars(select(model).order_by(model.id)))

        questions = [
            (
                q,
                list(
                    session.scalars(
                        select(QuestionChoice)
                        .where(QuestionChoice.question_id == q.id)
                        .order_by(QuestionChoice.position)
                    )
                ),
            )
            for q in every(Question)
        ]
        fields = every(CustomFieldDefinition)
        catalog = cls(
            locations=[loc for loc in every(Location) if not loc.inactive],
            products=every(Product),
            id_types={t.ext_ref: t for t in every(AccountIdType)},
            descriptors=every(Descriptor),
            levels=every(RankingLevel),
            reward_types=[t for t in every(RewardType) if t.active],
            transaction_types={t.ext_ref: t for t in every(TransactionType)},
            questions=[(q, c) for q, c in questions if c],
            interaction_types=every(InteractionType),
            events=every(InteractionEvent),
            categories=every(CaseCategory),
            queues=every(CaseQueue),
            campaigns=every(Campaign),
            promotions=every(Promotion),
            clubs=every(Club),
            member_fields=[f for f in fields if f.entity == "member"],
            transaction_fields=[f for f in fields if f.entity == "transaction"],
        )
        if not (
            catalog.locations
            and catalog.products
            and catalog.id_types
            and catalog.reward_types
            and catalog.transaction_types
        ):
            raise ActivityError("The program has no reference data; run `flask demo seed` first.")
        return catalog


class Simulator:
    """The activity's state between changes; every operation draws from ``rng`` only."""

    def __init__(self, session: Session, rng: random.Random, catalog: Catalog) -> None:
        self.s = session
        self.rng = rng
        self.c = catalog
        self.max_member = session.scalar(select(func.max(Member.id))) or 0
        self.touched: set[int] = set()

    # -- picking ---------------------------------------------------------------------------

    def pick(self, items: Any) -> Any:
        return items[int(self.rng.random() * len(items))]

    def member(self, at: datetime) -> Member | None:
        """A random member who exists, is not deleted and had enrolled by ``at``."""
        for _ in range(8):
            found = self.s.get(Member, 1 + int(self.rng.random() * self.max_member))
            if (
                found is not None
                and found.status != MemberStatus.DELETED
                and found.enrolled_at <= at
                and found.updated_at <= at
            ):
                return found
        return None

    # -- the nightly batch -----------------------------------------------------------------

    def nightly(self, day: date, at: datetime) -> Counter[str]:
        """The queue jobs of the night: expiries first, as the product's schedule advises."""
        done: Counter[str] = Counter()
        done["descriptors expired"] = descriptors.expire_descriptor_assignments(self.s, day, at=at)
        done["rewards expired"] = rewards.expire_due_rewards(self.s, day, at=at, limit=500)
        for member_id in sorted(self.touched)[:500]:
            member = self.s.get(Member, member_id)
            if (
                member is not None
                and points.expire_due_points(self.s, member, day, at=at) is not None
            ):
                done["points expired"] += 1
        if self.touched:
            points.project_point_expirations(self.s, sorted(self.touched), processed_at=at)
        self.touched.clear()
        self.s.commit()
        return done
