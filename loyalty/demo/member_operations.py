"""Activity operations on members themselves: enrolment, profile and status, contacts,
households (with children and clubs), member custom fields, deletion.

Each takes the ``Simulator`` and the moment of the change, makes it through the domain
services and returns a label for the tally, or None when it found nothing to change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from loyalty.demo import names
from loyalty.demo.simulator import Simulator
from loyalty.errors import ValidationError
from loyalty.models import (
    AccountId,
    AccountIdStatus,
    Household,
    MemberChild,
    MemberStatus,
    PhoneType,
)
from loyalty.services import (
    clubs,
    contacts,
    custom_fields,
    engagement,
    households,
    member_children,
    members,
)


def enrol(sim: Simulator, at: datetime) -> str:
    r = sim.rng.random
    female = r() < 0.5
    first = sim.pick(names.FEMALE_FIRST if female else names.MALE_FIRST)
    last = sim.pick(names.LAST)
    location = sim.pick(sim.c.locations)
    member = members.enrol_member(
        sim.s,
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
    sim.max_member = max(sim.max_member, member.id)
    card = sim.c.id_types.get("CARD") or next(iter(sim.c.id_types.values()))
    contacts.add_account_id(sim.s, member, card, f"8{member.id:011d}", at=at)
    plain = "".join(
        ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")
    )
    contacts.add_email(sim.s, member, f"{plain or 'member'}{member.id}@example.com", at=at)
    contacts.set_phone(
        sim.s, member, PhoneType.MOBILE, f"+1 (416) 555-{int(r() * 10000):04d}", at=at
    )
    city = sim.pick(names.CITIES)
    contacts.set_address(
        sim.s,
        member,
        "home",
        line1=f"{1 + int(r() * 999)} {sim.pick(names.STREETS)}",
        city=city[0],
        region=city[1],
        country=city[3],
        postal_code=None,
        at=at,
    )
    enrolled = next((t for t in sim.c.interaction_types if t.ext_ref == "ENROLLED"), None)
    if enrolled is not None:
        engagement.record_interaction(sim.s, member, enrolled, audit_user="System", at=at)
    sim.touched.add(member.id)
    return "enrol"


def profile(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    r = sim.rng.random
    change = sim.pick(
        (
            {"do_not_email": not member.do_not_email},
            {"do_not_text": not member.do_not_text},
            {"offer_delivery": 1 if member.offer_delivery != 1 else 2},
            {"middle_name": sim.pick(("A.", "J.", None, "Marie"))},
            {"prefix": sim.pick(names.PREFIXES)},
            {"last_name": sim.pick(names.LAST)},
        )
    )
    members.update_member(sim.s, member, at=at, **change)
    if r() < 0.2:
        members.set_member_status(
            sim.s, member, sim.pick((MemberStatus.ACTIVE, MemberStatus.INACTIVE)), at=at
        )
    sim.touched.add(member.id)
    return "profile"


def contact(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    roll = sim.rng.random()
    if roll < 0.3:
        app = sim.c.id_types.get("APP") or next(iter(sim.c.id_types.values()))
        contacts.add_account_id(sim.s, member, app, f"APX{member.id}T{int(at.timestamp())}", at=at)
        label = "account id"
    elif roll < 0.4:
        active = sim.s.scalars(
            select(AccountId).where(
                AccountId.member_id == member.id, AccountId.status == AccountIdStatus.ACTIVE
            )
        ).first()
        if active is None:
            return None
        contacts.set_account_id_status(sim.s, active, AccountIdStatus.INACTIVE, at=at)
        card = sim.c.id_types.get("CARD") or next(iter(sim.c.id_types.values()))
        contacts.add_account_id(
            sim.s, member, card, f"9{member.id:09d}{int(at.timestamp()) % 100000:05d}", at=at
        )
        label = "card replaced"
    elif roll < 0.65:
        contacts.change_email(
            sim.s, member, f"member{member.id}.{int(at.timestamp())}@example.org", at=at
        )
        label = "email"
    elif roll < 0.85:
        kind = sim.pick((PhoneType.MOBILE, PhoneType.HOME, PhoneType.WORK))
        contacts.set_phone(
            sim.s, member, kind, f"+1 (647) 555-{int(sim.rng.random() * 10000):04d}", at=at
        )
        label = "phone"
    else:
        city = sim.pick(names.CITIES)
        contacts.set_address(
            sim.s,
            member,
            "home",
            line1=f"{1 + int(sim.rng.random() * 999)} {sim.pick(names.STREETS)}",
            city=city[0],
            region=city[1],
            country=city[3],
            at=at,
        )
        label = "address"
    sim.touched.add(member.id)
    return label


def household(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    roll = sim.rng.random()
    if roll < 0.35:
        member_children.add_child(
            sim.s,
            member,
            first_name=sim.pick(names.FEMALE_FIRST),
            birth_date=date(2015 + int(sim.rng.random() * 8), 6, 1),
            at=at,
        )
        sim.touched.add(member.id)
        return "child added"
    if roll < 0.45:
        child: MemberChild | None = sim.s.scalars(
            select(MemberChild).where(
                MemberChild.member_id == member.id, MemberChild.removed_at.is_(None)
            )
        ).first()
        if child is None:
            return None
        member_children.remove_child(sim.s, child, at=at)
        return "child removed"
    if roll < 0.75 and sim.c.clubs:
        club = sim.pick(sim.c.clubs)
        try:
            clubs.join_club(sim.s, member, club, at=at)
        except ValidationError:
            clubs.leave_club(sim.s, member, club, at=at)
            return "club left"
        return "club joined"
    partner = sim.member(at)
    if partner is None or partner.id == member.id:
        return None
    if member.household_id is None:
        home = households.create_household(
            sim.s, f"{member.last_name or 'Member'} household"[:60], at=at
        )
        households.join_household(sim.s, member, home, head=True, at=at)
    else:
        home = sim.s.get_one(Household, member.household_id)
    households.join_household(sim.s, partner, home, head=sim.rng.random() < 0.3, at=at)
    return "household"


def custom(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.member_fields:
        return None
    definition = sim.pick(sim.c.member_fields)
    value: Any = {
        "boolean": sim.rng.random() < 0.5,
        "date": date(1990 + int(sim.rng.random() * 30), 5, 17),
        "number": int(sim.rng.random() * 100),
    }.get(str(definition.data_type), sim.pick(sim.c.locations).ext_ref)
    custom_fields.set_member_custom_field(sim.s, member, definition, value, at=at)
    return "member custom field"


def delete(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None:
        return None
    members.delete_member(sim.s, member, at=at)
    return "member deleted"
