"""The everyday changes the activity simulation makes, each through the domain services:
``Catalog`` (the reference data it picks from) and ``Simulator`` (one method per kind of
change, plus the nightly batch)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.demo import names
from loyalty.errors import ValidationError
from loyalty.models import (
    AccountId,
    AccountIdStatus,
    AccountIdType,
    Campaign,
    Case,
    CaseCategory,
    CaseQueue,
    CaseStatus,
    Club,
    CustomFieldDefinition,
    Descriptor,
    DescriptorAssignment,
    Household,
    InteractionEvent,
    InteractionType,
    Location,
    Member,
    MemberChild,
    MemberStatus,
    PhoneType,
    Product,
    Promotion,
    Question,
    QuestionChoice,
    RankingLevel,
    Reward,
    RewardStatus,
    RewardType,
    Transaction,
    TransactionStatus,
    TransactionType,
)
from loyalty.services import (
    cases,
    clubs,
    contacts,
    custom_fields,
    descriptors,
    engagement,
    households,
    member_children,
    members,
    points,
    rankings,
    rewards,
    transactions,
)
from loyalty.services.transactions import LineInput


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

    # -- operations (each returns a label, or None when it found nothing to do) -------------

    def enrol(self, at: datetime) -> str:
        r = self.rng.random
        female = r() < 0.5
        first = self.pick(names.FEMALE_FIRST if female else names.MALE_FIRST)
        last = self.pick(names.LAST)
        location = self.pick(self.c.locations)
        member = members.enrol_member(
            self.s,
            first_name=first,
            last_name=last,
            gender="Female" if female else "Male",
            birth_year=1950 + int(r() * 55),
            birth_month=1 + int(r() * 12),
            birth_day=1 + int(r() * 28),
            offer_delivery=1,
            location=location,
            source="web" if r() < 0.4 else "pos",
            at=at,
        )
        self.max_member = max(self.max_member, member.id)
        card = self.c.id_types.get("CARD") or next(iter(self.c.id_types.values()))
        contacts.add_account_id(self.s, member, card, f"8{member.id:011d}", at=at)
        plain = "".join(
            ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")
        )
        contacts.add_email(self.s, member, f"{plain or 'member'}{member.id}@example.com", at=at)
        contacts.set_phone(
            self.s, member, PhoneType.MOBILE, f"+1 (416) 555-{int(r() * 10000):04d}", at=at
        )
        city = self.pick(names.CITIES)
        contacts.set_address(
            self.s,
            member,
            "home",
            line1=f"{1 + int(r() * 999)} {self.pick(names.STREETS)}",
            city=city[0],
            region=city[1],
            country=city[3],
            postal_code=None,
            at=at,
        )
        enrolled = next((t for t in self.c.interaction_types if t.ext_ref == "ENROLLED"), None)
        if enrolled is not None:
            engagement.record_interaction(self.s, member, enrolled, audit_user="System", at=at)
        self.touched.add(member.id)
        return "enrol"

    def profile(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        r = self.rng.random
        change = self.pick(
            (
                {"do_not_email": not member.do_not_email},
                {"do_not_text": not member.do_not_text},
                {"offer_delivery": 1 if member.offer_delivery != 1 else 2},
                {"middle_name": self.pick(("A.", "J.", None, "Marie"))},
                {"prefix": self.pick(names.PREFIXES)},
                {"last_name": self.pick(names.LAST)},
            )
        )
        members.update_member(self.s, member, at=at, **change)
        if r() < 0.2:
            members.set_member_status(
                self.s, member, self.pick((MemberStatus.ACTIVE, MemberStatus.INACTIVE)), at=at
            )
        self.touched.add(member.id)
        return "profile"

    def contact(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        roll = self.rng.random()
        if roll < 0.3:
            app = self.c.id_types.get("APP") or next(iter(self.c.id_types.values()))
            contacts.add_account_id(
                self.s, member, app, f"APX{member.id}T{int(at.timestamp())}", at=at
            )
            label = "account id"
        elif roll < 0.4:
            active = self.s.scalars(
                select(AccountId).where(
                    AccountId.member_id == member.id, AccountId.status == AccountIdStatus.ACTIVE
                )
            ).first()
            if active is None:
                return None
            contacts.set_account_id_status(self.s, active, AccountIdStatus.INACTIVE, at=at)
            card = self.c.id_types.get("CARD") or next(iter(self.c.id_types.values()))
            contacts.add_account_id(
                self.s, member, card, f"9{member.id:09d}{int(at.timestamp()) % 100000:05d}", at=at
            )
            label = "card replaced"
        elif roll < 0.65:
            contacts.change_email(
                self.s, member, f"member{member.id}.{int(at.timestamp())}@example.org", at=at
            )
            label = "email"
        elif roll < 0.85:
            kind = self.pick((PhoneType.MOBILE, PhoneType.HOME, PhoneType.WORK))
            contacts.set_phone(
                self.s, member, kind, f"+1 (647) 555-{int(self.rng.random() * 10000):04d}", at=at
            )
            label = "phone"
        else:
            city = self.pick(names.CITIES)
            contacts.set_address(
                self.s,
                member,
                "home",
                line1=f"{1 + int(self.rng.random() * 999)} {self.pick(names.STREETS)}",
                city=city[0],
                region=city[1],
                country=city[3],
                at=at,
            )
            label = "address"
        self.touched.add(member.id)
        return label

    def purchase(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        r = self.rng.random
        online = r() < 0.15
        location = (
            next((loc for loc in self.c.locations if loc.ext_ref == "WEB"), None)
            if online
            else None
        )
        location = location or self.pick(self.c.locations)
        kind = self.c.transaction_types.get("ONLINE" if online else "PURCHASE") or next(
            iter(self.c.transaction_types.values())
        )
        lines = []
        for _ in range(1 + int(r() * r() * 4)):
            product = self.c.products[int(len(self.c.products) * r() * r())]
            lines.append(
                LineInput(
                    product, 1 + int(r() ** 3 * 3), Decimal(str(product.unit_price or "4.99"))
                )
            )
        extra = {}
        if self.c.transaction_fields and r() < 0.25:
            extra[self.c.transaction_fields[0]] = str(1 + int(r() * 12))
        occurred = at - timedelta(seconds=int(r() * 120))
        txn = transactions.post_transaction(
            self.s,
            member,
            kind,
            occurred_at=max(occurred, member.enrolled_at),
            lines=lines,
            location=location,
            ext_ref=f"A{int(at.timestamp())}{member.id % 1000:03d}",
            posted_by="pos",
            custom_fields=extra,
            at=at,
        )
        if txn.points > 0 and r() < 0.08:
            bonus = next((p for p in self.c.promotions if p.promo_code is None), None)
            transactions.award_transactional_bonus(self.s, txn, txn.points, promotion=bonus, at=at)
        if self.c.transaction_fields and r() < 0.03:
            custom_fields.set_transaction_custom_field(
                self.s, txn, self.pick(self.c.transaction_fields), "7", at=at
            )
        self.touched.add(member.id)
        return "transaction"

    def cancel(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        txn = self.s.scalars(
            select(Transaction)
            .where(
                Transaction.member_id == member.id,
                Transaction.status == TransactionStatus.POSTED,
                Transaction.posted_at <= at,
            )
            .order_by(Transaction.occurred_at.desc())
        ).first()
        if txn is None:
            return None
        transactions.cancel_transaction(self.s, txn, reason="Customer return", at=at)
        self.touched.add(member.id)
        return "transaction cancelled"

    def promo(self, at: datetime) -> str | None:
        member = self.member(at)
        codes = [p for p in self.c.promotions if p.promo_code]
        if member is None or not codes:
            return None
        promotion = self.pick(codes)
        assert promotion.promo_code is not None
        transactions.apply_promo_code(self.s, member, promotion.promo_code, at=at)
        engagement.join_promotion(self.s, member, promotion, at=at)
        self.touched.add(member.id)
        return "promo code"

    def adjust(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        points.adjust_points(
            self.s, member, 5 * (1 + int(self.rng.random() * 20)), description="Goodwill", at=at
        )
        self.touched.add(member.id)
        return "points adjusted"

    def reward(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        roll = self.rng.random()
        active = self.s.scalars(
            select(Reward).where(
                Reward.member_id == member.id,
                Reward.status.in_((RewardStatus.ACTIVE, RewardStatus.REDEEMED)),
                Reward.updated_at <= at,
            )
        ).first()
        if roll < 0.45 or active is None:
            affordable = [
                t
                for t in self.c.reward_types
                if t.point_value == 0 or points.balance_of(self.s, member.id) >= t.point_value
            ]
            if not affordable:
                return None
            rewards.issue_reward(
                self.s, member, self.pick(affordable), location=self.pick(self.c.locations), at=at
            )
            label = "reward issued"
        elif active.status == RewardStatus.REDEEMED:
            if roll < 0.8:
                rewards.reverse_redemption(self.s, active, actor=self.pick(names.CSR_USERS), at=at)
                label = "redemption reversed"
            else:
                rewards.cancel_reward(self.s, active, actor=self.pick(names.CSR_USERS), at=at)
                label = "reward cancelled"
        elif roll < 0.8:
            rewards.redeem_reward(self.s, active, location=self.pick(self.c.locations), at=at)
            label = "reward redeemed"
        elif roll < 0.9 and active.expires_on is not None:
            rewards.change_reward_expiration(
                self.s, active, active.expires_on + timedelta(days=30), actor="csr", at=at
            )
            label = "reward expiration changed"
        else:
            rewards.cancel_reward(self.s, active, actor=self.pick(names.CSR_USERS), at=at)
            label = "reward cancelled"
        self.touched.add(member.id)
        return label

    def descriptor(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.descriptors:
            return None
        descriptor = self.pick(self.c.descriptors)
        held = self.s.scalar(
            select(DescriptorAssignment.id).where(
                DescriptorAssignment.member_id == member.id,
                DescriptorAssignment.descriptor_id == descriptor.id,
            )
        )
        if held is not None and self.rng.random() < 0.5:
            descriptors.remove_descriptor(self.s, member, descriptor, at=at)
            label = "descriptor removed"
        else:
            descriptors.assign_descriptor(self.s, member, descriptor, at=at)
            label = "descriptor assigned"
        self.touched.add(member.id)
        return label

    def rerank(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.levels:
            return None
        if not rankings.set_member_level(self.s, member, self.pick(self.c.levels), at=at):
            return None
        if self.rng.random() < 0.5:
            rankings.set_rfm_scores(
                self.s, member, *(int(self.rng.random() * 6) for _ in range(3)), at=at
            )
        self.touched.add(member.id)
        return "re-rank"

    def answer(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.questions:
            return None
        question, choices = self.pick(self.c.questions)
        picked = [self.pick(choices)]
        if question.multiple_answers:
            picked += [c for c in choices if c not in picked and self.rng.random() < 0.3]
        engagement.answer_question(self.s, member, question, choices=picked, at=at)
        return "survey answer"

    def interaction(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.interaction_types:
            return None
        kind = self.pick(self.c.interaction_types)
        event = self.pick(self.c.events) if self.c.events and self.rng.random() < 0.05 else None
        location = self.pick(self.c.locations) if self.rng.random() < 0.3 else None
        user = self.pick((member.first_name or "Member", "System", *names.CSR_USERS))
        engagement.record_interaction(
            self.s, member, kind, audit_user=user, location=location, event=event, at=at
        )
        return "interaction"

    def case(self, at: datetime) -> str | None:
        r = self.rng.random
        user = self.pick(names.CSR_USERS)
        existing = self.s.scalars(
            select(Case).where(Case.updated_at <= at).order_by(Case.id.desc()).limit(50)
        ).all()
        if not existing or r() < 0.35:
            member = self.member(at)
            if member is None:
                return None
            cases.open_case(
                self.s,
                "Missing points" if r() < 0.5 else "Reward question",
                user=user,
                member=member,
                category=self.pick(self.c.categories) if self.c.categories else None,
                queue=self.pick(self.c.queues) if self.c.queues else None,
                note="Member called",
                at=at,
            )
            return "case opened"
        case = self.pick(existing)
        if case.status == CaseStatus.CLOSED:
            cases.reopen_case(self.s, case, user=user, at=at)
            return "case reopened"
        roll = r()
        if roll < 0.3:
            cases.touch_case(self.s, case, user=user, note="Follow-up", at=at)
        elif roll < 0.4 and self.c.categories:
            cases.change_case_category(self.s, case, self.pick(self.c.categories), at=at)
        elif roll < 0.5 and self.c.queues:
            cases.change_case_queue(self.s, case, self.pick(self.c.queues), at=at)
        elif roll < 0.6 and self.c.descriptors:
            cases.add_case_descriptor(self.s, case, self.pick(self.c.descriptors), at=at)
        else:
            cases.close_case(self.s, case, user=user, note="Resolved", at=at)
            return "case closed"
        return "case updated"

    def household(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        roll = self.rng.random()
        if roll < 0.35:
            member_children.add_child(
                self.s,
                member,
                first_name=self.pick(names.FEMALE_FIRST),
                birth_date=date(2015 + int(self.rng.random() * 8), 6, 1),
                at=at,
            )
            self.touched.add(member.id)
            return "child added"
        if roll < 0.45:
            child: MemberChild | None = self.s.scalars(
                select(MemberChild).where(
                    MemberChild.member_id == member.id, MemberChild.removed_at.is_(None)
                )
            ).first()
            if child is None:
                return None
            member_children.remove_child(self.s, child, at=at)
            return "child removed"
        if roll < 0.75 and self.c.clubs:
            club = self.pick(self.c.clubs)
            try:
                clubs.join_club(self.s, member, club, at=at)
            except ValidationError:
                clubs.leave_club(self.s, member, club, at=at)
                return "club left"
            return "club joined"
        partner = self.member(at)
        if partner is None or partner.id == member.id:
            return None
        if member.household_id is None:
            home = households.create_household(
                self.s, f"{member.last_name or 'Member'} household"[:60], at=at
            )
            households.join_household(self.s, member, home, head=True, at=at)
        else:
            home = self.s.get_one(Household, member.household_id)
        households.join_household(self.s, partner, home, head=self.rng.random() < 0.3, at=at)
        return "household"

    def custom(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.member_fields:
            return None
        definition = self.pick(self.c.member_fields)
        value: Any = {
            "boolean": self.rng.random() < 0.5,
            "date": date(1990 + int(self.rng.random() * 30), 5, 17),
            "number": int(self.rng.random() * 100),
        }.get(str(definition.data_type), self.pick(self.c.locations).ext_ref)
        custom_fields.set_member_custom_field(self.s, member, definition, value, at=at)
        return "member custom field"

    def membership(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None or not self.c.campaigns:
            return None
        campaign = self.pick(self.c.campaigns)
        if self.rng.random() < 0.2:
            try:
                engagement.leave_campaign(self.s, member, campaign, at=at)
            except ValidationError:
                return None
            return "campaign left"
        engagement.join_campaign(
            self.s,
            member,
            campaign,
            expires_on=campaign.ends_on
            if campaign.ends_on and campaign.ends_on >= at.date()
            else None,
            at=at,
        )
        return "campaign joined"

    def delete(self, at: datetime) -> str | None:
        member = self.member(at)
        if member is None:
            return None
        members.delete_member(self.s, member, at=at)
        return "member deleted"

    OPERATIONS: tuple[tuple[str, float], ...] = (
        ("enrol", 5),
        ("profile", 8),
        ("contact", 12),
        ("purchase", 30),
        ("cancel", 2),
        ("promo", 1.5),
        ("adjust", 2),
        ("reward", 12),
        ("descriptor", 4),
        ("rerank", 4),
        ("answer", 5),
        ("interaction", 8),
        ("case", 3),
        ("household", 2),
        ("custom", 2),
        ("membership", 2),
        ("delete", 0.2),
    )

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
