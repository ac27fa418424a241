"""A small loyalty program (reference data only) for the domain-service tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.models import (
    AccountIdType,
    BusinessUnit,
    Campaign,
    CaseCategory,
    CaseQueue,
    ChangeLog,
    Club,
    Descriptor,
    InteractionType,
    Location,
    Member,
    Product,
    Promotion,
    QuestionSet,
    RankingSet,
    RewardCategory,
    RewardType,
    TransactionType,
)
from loyalty.services import catalog
from webapp.extensions import db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Program:
    session: Session
    card: AccountIdType  # primary rank
    app_id: AccountIdType  # rank 2
    legacy: AccountIdType  # rank 3
    store: Location
    web: Location
    purchase: TransactionType
    products: dict[str, Product]
    vip: Descriptor
    gold_perks: Descriptor
    tier: RankingSet
    choice: RewardType
    forced: RewardType
    club: Club
    campaign: Campaign
    promo: Promotion
    questions: QuestionSet
    email_added: InteractionType
    category: CaseCategory
    other_category: CaseCategory
    queue: CaseQueue
    other_queue: CaseQueue

    def level(self, ext_ref: str) -> Any:
        from loyalty.models import RankingLevel

        return self.session.scalar(
            select(RankingLevel).where(
                RankingLevel.ranking_set_id == self.tier.id, RankingLevel.ext_ref == ext_ref
            )
        )

    def changes(self, **filters: Any) -> list[ChangeLog]:
        statement = select(ChangeLog).order_by(ChangeLog.id)
        for key, value in filters.items():
            statement = statement.where(getattr(ChangeLog, key) == value)
        return list(self.session.scalars(statement))

    def codes(self, member: Member | None = None) -> list[tuple[str, str]]:
        rows = self.changes(member_id=member.id) if member else self.changes()
        return [(str(c.kind), c.code) for c in rows]


@pytest.fixture
def program(app: Any) -> Program:
    s = db.session
    c = catalog.create
    bu = c(s, BusinessUnit, ext_ref="BU1", name="Retail")
    store = catalog.create_location(
        s,
        name="Main Street",
        ext_ref="LOC001",
        business_unit_id=bu.id,
        timezone="America/Toronto",
        city="Toronto",
        country_abbr="CA",
        country_name="Canada",
    )
    web = catalog.create_location(
        s, name="Web shop", ext_ref="WEB", business_unit_id=bu.id, timezone="UTC"
    )
    vip = c(s, Descriptor, ext_ref="VIP", name="VIP", default_expiry_days=90)
    gold_perks = c(s, Descriptor, ext_ref="GOLDPERK", name="Gold perks")
    tier = catalog.create_ranking_set(
        s,
        "RS",
        "Tiers",
        [("REGULAR", "Regular"), ("BRONZE", "Bronze"), ("SILVER", "Silver"), ("GOLD", "Gold")],
        descriptor=vip,
    )
    category = c(s, RewardCategory, name="Default Category")
    program = Program(
        session=s,
        card=c(s, AccountIdType, ext_ref="CARD", name="Loyalty card", display_rank=1),
        app_id=c(s, AccountIdType, ext_ref="APP", name="App id", display_rank=2),
        legacy=c(s, AccountIdType, ext_ref="LEGACY", name="Legacy card", display_rank=3),
        store=store,
        web=web,
        purchase=c(s, TransactionType, ext_ref="PURCHASE", name="Purchase"),
        products={
            "bat": catalog.create_product(
                s, name="BASEBALL BAT 36/34", sku="0000000002", unit_price=Decimal("25.00")
            ),
            "mitt": catalog.create_product(s, name="CATCHERS MITT", sku="0000000003"),
            "bag": catalog.create_product(s, name="BAG", sku="0000000099", zero_points=True),
            "gift": catalog.create_product(s, name="GIFT WRAP", sku="0000000100", zero_retail=True),
            "deposit": catalog.create_product(
                s, name="BOTTLE DEPOSIT", sku="0000000101", drop_from_basket=True
            ),
        },
        vip=vip,
        gold_perks=gold_perks,
        tier=tier,
        choice=c(
            s,
            RewardType,
            name="Unique $20 Dinner Reward",
            ext_ref="20_DINNER_REWARD",
            category_id=category.id,
            master_type="Choice",
            retail_value=Decimal("20.00"),
            point_value=Decimal("200"),
            valid_days=30,
        ),
        forced=c(
            s,
            RewardType,
            name="$10 Forced Reward",
            ext_ref=None,
            category_id=category.id,
            master_type="Forced",
            retail_value=Decimal("10.00"),
            point_value=Decimal("0"),
        ),
        club=c(s, Club, ext_ref="GOLFERS", name="Golfers"),
        campaign=c(s, Campaign, ext_ref="SPRING", name="Spring", starts_on=date(2026, 1, 1)),
        promo=c(
            s,
            Promotion,
            ext_ref="WELCOME",
            name="Welcome code",
            promo_code="WELCOME10",
            bonus_points=Decimal("10"),
            starts_on=date(2026, 1, 1),
        ),
        questions=c(s, QuestionSet, ext_ref="PQ", name="Pizza questions"),
        email_added=c(s, InteractionType, ext_ref="EMAIL_ADD", name="Email Added"),
        category=c(s, CaseCategory, ext_ref="BILL", name="Billing"),
        other_category=c(s, CaseCategory, ext_ref="TECH", name="Technical"),
        queue=c(s, CaseQueue, ext_ref="Q1", name="Front line"),
        other_queue=c(s, CaseQueue, ext_ref="Q2", name="Escalations"),
    )
    gold = program.level("GOLD")
    gold.descriptor_id = gold_perks.id
    s.commit()
    return program


@pytest.fixture
def member(program: Program) -> Member:
    from loyalty.services.members import enrol_member

    m = enrol_member(program.session, first_name="Anna", last_name="Smith", at=T0)
    program.session.commit()
    return m
