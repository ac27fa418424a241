"""The primary account id rule (sync-platform.md section 9), emails and phones, and the
maintained member columns that bulk exports read instead of evaluating the rule."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty.errors import ValidationError
from loyalty.models import AccountIdStatus, Member, PhoneType
from loyalty.primary import (
    mobile_phone_of,
    primary_account_id_of,
    primary_email_of,
    refresh_contact_columns,
)
from loyalty.services import contacts
from loyalty.services.members import enrol_member
from tests.integration.loyalty.conftest import T0, Program


def _at(hours: int):
    return T0 + timedelta(hours=hours)


def test_primary_rank_beats_a_newer_id_of_a_lower_rank(program: Program, member: Member) -> None:
    s = program.session
    contacts.add_account_id(s, member, program.card, "600010023", at=_at(1))
    contacts.add_account_id(s, member, program.app_id, "APP-1", at=_at(2))
    assert member.primary_account_id == "600010023"


def test_most_recent_active_id_of_the_primary_rank_wins(program: Program, member: Member) -> None:
    s = program.session
    old = contacts.add_account_id(s, member, program.card, "1000", at=_at(1))
    new = contacts.add_account_id(s, member, program.card, "1001", at=_at(2))
    assert member.primary_account_id == "1001"
    contacts.set_account_id_status(s, new, AccountIdStatus.INACTIVE, at=_at(3))
    assert member.primary_account_id == "1000"
    # "Inactive for logins only" is not active for the rule either.
    contacts.set_account_id_status(s, old, AccountIdStatus.LOGIN_INACTIVE, at=_at(4))
    assert member.primary_account_id is None


def test_without_a_primary_ranked_id_the_most_recent_active_id_of_any_rank_wins(
    program: Program, member: Member
) -> None:
    s = program.session
    contacts.add_account_id(s, member, program.app_id, "APP-1", at=_at(1))  # rank 2
    contacts.add_account_id(s, member, program.legacy, "LEG-1", at=_at(2))  # rank 3, newer
    assert member.primary_account_id == "LEG-1"
    card = contacts.add_account_id(s, member, program.card, "CARD-1", at=_at(3))
    assert member.primary_account_id == "CARD-1"
    contacts.set_account_id_status(s, card, "inactive", at=_at(4))
    assert member.primary_account_id == "LEG-1"


def test_rank_change_moves_primaries_and_logs_only_the_members_it_moves(program: Program) -> None:
    s = program.session
    a = enrol_member(s, first_name="A", at=T0)
    b = enrol_member(s, first_name="B", at=T0)
    contacts.add_account_id(s, a, program.card, "A-CARD", at=_at(1))
    contacts.add_account_id(s, a, program.app_id, "A-APP", at=_at(2))
    contacts.add_account_id(s, b, program.app_id, "B-APP", at=_at(1))
    s.commit()
    before = len(program.changes())
    moved = contacts.set_account_id_type_rank(s, program.app_id, 1, at=_at(5))
    s.commit()
    s.expire_all()
    # A now has two primary-ranked ids: the newer (APP) wins. B's only id stays primary.
    assert (a.primary_account_id, b.primary_account_id, moved) == ("A-APP", "B-APP", 1)
    assert [(c.member_id, c.code) for c in program.changes()[before:]] == [(a.id, "2")]


def test_account_ids_are_unique_and_checked(program: Program, member: Member) -> None:
    s = program.session
    contacts.add_account_id(s, member, program.card, "X1")
    other = enrol_member(s, first_name="O")
    with pytest.raises(ValidationError, match="already in use"):
        contacts.add_account_id(s, other, program.card, "X1")
    with pytest.raises(ValidationError):
        contacts.add_account_id(s, other, program.card, "bad id|pipe")
    with pytest.raises(ValidationError):
        contacts.add_account_id(s, other, program.card, "9" * 61)


def test_email_phone_address_changes_and_their_records(program: Program, member: Member) -> None:
    s = program.session
    first = contacts.add_email(s, member, "anna@example.com", at=_at(1))
    second = contacts.add_email(s, member, "anna@work.example", at=_at(2))
    assert member.primary_email == "anna@work.example"
    contacts.change_email(s, member, "anna@new.example", at=_at(3))
    assert member.primary_email == "anna@new.example" and second.address == "anna@new.example"
    contacts.remove_email(s, second, at=_at(4))
    assert member.primary_email is None
    with pytest.raises(ValidationError):
        contacts.add_email(s, member, "not-an-email")
    contacts.set_phone(s, member, PhoneType.HOME, "+1 (416) 555-0100", at=_at(5))
    assert member.mobile_phone is None
    contacts.set_phone(s, member, "mobile", "+54 (0341) 123-4567", at=_at(6))
    assert member.mobile_phone == "+54 (0341) 123-4567"
    with pytest.raises(ValidationError):
        contacts.set_phone(s, member, "mobile", "call me maybe")
    contacts.remove_phone(s, member, PhoneType.MOBILE, at=_at(7))
    assert member.mobile_phone is None
    home = contacts.set_address(
        s,
        member,
        "home",
        line1="1 King St W",
        city="Toronto",
        region="ON",
        postal_code="M5H 1A1",
        country="ca",
        at=_at(8),
    )
    work = contacts.set_address(
        s, member, "work", line1="2 Bay St", city="Toronto", country="CA", at=_at(9)
    )
    s.commit()
    s.expire_all()
    assert (home.is_primary, work.is_primary, home.country) == (False, True, "CA")
    records = [(c.code, c.subject_id, c.payload) for c in program.changes(member_id=member.id)[1:]]
    assert records == [
        ("3", first.id, None),
        ("3", second.id, None),
        ("3", second.id, None),
        ("3", second.id, {"removed": True}),
        ("4", records[4][1], None),
        ("4", records[5][1], None),
        ("4", records[5][1], {"removed": True}),
        ("5", home.id, None),
        ("5", work.id, None),
    ]


def test_maintained_columns_match_the_sql_rules_after_random_changes(program: Program) -> None:
    s = program.session
    rng = random.Random(7)
    people = [enrol_member(s, first_name=f"P{i}", at=T0) for i in range(25)]
    types = [program.card, program.app_id, program.legacy]
    ids = []
    for step in range(160):
        person = rng.choice(people)
        roll = rng.random()
        when = _at(step)
        if roll < 0.4:
            ids.append(contacts.add_account_id(s, person, rng.choice(types), f"ID{step}", at=when))
        elif roll < 0.55 and ids:
            contacts.set_account_id_status(
                s, rng.choice(ids), rng.choice(list(AccountIdStatus)), at=when
            )
        elif roll < 0.7:
            contacts.change_email(s, person, f"p{step}@example.com", at=when)
        elif roll < 0.8:
            contacts.set_phone(
                s, person, rng.choice(list(PhoneType)), f"+1 416 555 {step:04d}", at=when
            )
        elif roll < 0.85:
            contacts.set_account_id_type_rank(s, rng.choice(types), rng.randint(1, 3), at=when)
        else:
            contacts.add_email(
                s, person, f"x{step}@example.com", primary=rng.random() < 0.5, at=when
            )
    s.commit()
    rule = select(
        Member.id,
        Member.primary_account_id,
        Member.primary_email,
        Member.mobile_phone,
        primary_account_id_of(Member.id),
        primary_email_of(Member.id),
        mobile_phone_of(Member.id),
    )
    rows = s.execute(rule).all()
    assert all(r[1:4] == r[4:7] for r in rows), [r for r in rows if r[1:4] != r[4:7]]
    assert sum(1 for r in rows if r[1]) > 10
    # The bulk refresh computes the same values.
    assert refresh_contact_columns(s) == len(people)
    assert s.execute(rule).all() == rows
