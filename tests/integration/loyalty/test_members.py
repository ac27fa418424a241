"""Members: enrolment, profile changes, deletion, households, children and clubs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from loyalty.errors import ValidationError
from loyalty.models import (
    ChangeLog,
    Gender,
    Member,
    MemberStatus,
    PointBalance,
)
from loyalty.services import clubs, households, member_children, members
from tests.integration.loyalty.conftest import T0, Program


def test_enrol_writes_member_balance_and_one_core_record(program: Program) -> None:
    s = program.session
    m = members.enrol_member(
        s,
        prefix="Dr.",
        first_name="  José ",
        last_name="O'Brien",
        birth_year=1980,
        birth_month=2,
        birth_day=29,
        gender="F",
        do_not_mail=True,
        offer_delivery=2,
        location=program.store,
        at=T0,
    )
    s.commit()
    assert (m.first_name, m.last_name, m.gender, m.offer_delivery) == (
        "José",
        "O'Brien",
        Gender.FEMALE,
        2,
    )
    assert m.birthdate == date(1980, 2, 29) and m.do_not_mail and not m.do_not_email
    assert s.get(PointBalance, m.id).balance == 0
    assert program.codes(m) == [("member", "1")]
    assert program.changes()[0].occurred_at == T0


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"first_name": "x" * 61}, "first_name"),
        ({"birth_month": 13}, "birth_month"),
        ({"birth_year": 1981, "birth_month": 2, "birth_day": 29}, "birth_day"),
        ({"birth_year": 2999}, "birth_year"),
        ({"gender": "robot"}, "gender"),
        ({"offer_delivery": 3}, "offer_delivery"),
        ({"do_not_email": "yes"}, "do_not_email"),
        ({"shoe_size": 44}, "fields"),
    ],
)
def test_bad_profile_is_refused_and_nothing_is_written(
    program: Program, fields: dict, bad: str
) -> None:
    s = program.session
    with pytest.raises(ValidationError) as caught:
        members.enrol_member(s, at=T0, **fields)
    assert bad in caught.value.errors
    s.rollback()
    assert s.scalar(select(func.count()).select_from(Member)) == 0
    assert s.scalar(select(func.count()).select_from(ChangeLog)) == 0


def test_update_logs_core_only_when_something_changes(program: Program, member: Member) -> None:
    s = program.session
    assert members.update_member(s, member, first_name="Anna", at=T0) == []
    changed = members.update_member(
        s, member, first_name="Annie", do_not_text=True, at=T0 + timedelta(hours=1)
    )
    s.commit()
    assert sorted(changed) == ["do_not_text", "first_name"]
    assert program.codes(member) == [("member", "1"), ("member", "1")]
    assert program.changes()[-1].payload == {"fields": changed}
    assert member.updated_at == T0 + timedelta(hours=1)


def test_ext_ref_is_unique(program: Program, member: Member) -> None:
    s = program.session
    members.update_member(s, member, ext_ref="CRM-1")
    with pytest.raises(ValidationError, match="belongs to member"):
        members.enrol_member(s, first_name="B", ext_ref="CRM-1")


def test_status_and_delete(program: Program, member: Member) -> None:
    s = program.session
    assert members.set_member_status(s, member, "suspended", at=T0)
    assert not members.set_member_status(s, member, MemberStatus.SUSPENDED, at=T0)
    with pytest.raises(ValidationError):
        members.set_member_status(s, member, MemberStatus.DELETED)
    members.delete_member(s, member, at=T0)
    s.commit()
    assert member.status == MemberStatus.DELETED and member.deleted_at == T0
    assert program.codes(member)[-1] == ("member", "7")
    with pytest.raises(ValidationError, match="deleted"):
        members.update_member(s, member, first_name="Ghost")


def test_household_has_one_head_and_both_heads_are_told(program: Program, member: Member) -> None:
    s = program.session
    partner = members.enrol_member(s, first_name="Ben", at=T0)
    home = households.create_household(s, "Smith family", "H1")
    households.join_household(s, member, home, head=True, at=T0)
    households.join_household(s, partner, home, at=T0)
    households.set_household_head(s, home, partner, at=T0)
    s.commit()
    s.expire_all()
    assert (member.is_household_head, partner.is_household_head) == (False, True)
    nines = list(program.changes(code="9"))
    assert [(c.member_id, c.subject_id) for c in nines] == [
        (member.id, home.id),
        (member.id, home.id),
        (partner.id, home.id),
        (member.id, home.id),
        (partner.id, home.id),
    ]
    households.leave_household(s, partner, at=T0)
    s.commit()
    assert partner.household_id is None and not partner.is_household_head
    outsider = members.enrol_member(s, first_name="Cy", at=T0)
    with pytest.raises(ValidationError, match="not in household"):
        households.set_household_head(s, home, outsider)


def test_children(program: Program, member: Member) -> None:
    s = program.session
    child = member_children.add_child(
        s, member, first_name="Léa", birth_date=date(2019, 5, 1), gender="Female", at=T0
    )
    assert member_children.update_child(s, child, first_name="Lea", at=T0)
    assert not member_children.update_child(s, child, first_name="Lea", at=T0)
    member_children.remove_child(s, child, at=T0)
    s.commit()
    elevens = program.changes(code="11")
    assert [c.subject_id for c in elevens] == [child.id] * 3
    assert elevens[-1].payload == {"removed": True}
    with pytest.raises(ValidationError):
        member_children.add_child(
            s, member, first_name="Tom", birth_date=date.today() + timedelta(days=2)
        )
    with pytest.raises(ValidationError):
        member_children.update_child(s, child, first_name="Again")


def test_clubs(program: Program, member: Member) -> None:
    s = program.session
    first = clubs.join_club(s, member, program.club, at=T0)
    with pytest.raises(ValidationError, match="already"):
        clubs.join_club(s, member, program.club)
    clubs.leave_club(s, member, program.club, at=T0)
    again = clubs.join_club(s, member, program.club, at=T0 + timedelta(days=1))
    s.commit()
    assert again.id == first.id and again.left_at is None
    sixes = program.changes(code="6")
    assert [(c.subject_id, c.subject2_id, c.payload) for c in sixes] == [
        (program.club.id, first.id, None),
        (program.club.id, first.id, {"left": True}),
        (program.club.id, first.id, None),
    ]
