"""member_ranking_extended: the documented header names, the name, which changes bring a
member in, the configured descriptor, goldens, splitting and incremental exactness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loyalty.models import AccountIdType, Descriptor, Member, RankingLevel, RankingSet
from loyalty.services import catalog, contacts, descriptors, members, rankings
from tests.integration.exporters.member_change_support import (
    at,
    check_golden,
    export_around_write,
    reference_lines,
)
from webapp.extensions import db

KEY = "member_ranking_extended"
DOCUMENTED_HEADER = (
    "InternalMemberId|MemberAccountId|MemberFirstName|MemberLastName|MemberAddress|MemberCity"
    "|MemberRegionAbbreviation"
)
HEADER = (
    DOCUMENTED_HEADER + "|MemberPostalCode|MemberCountryAbbreviation|MemberEmail"
    "|MemberMobilePhone|RankingSet|RankingSetLevel|RankingSetLevelJoinDate"
    "|RankingMemberDescriptorExpirationDate"
)
NAME = "SBMemberRankingSync_20261123140509_1.txt"
LEVELS = [("REGULAR", "Regular"), ("BRONZE", "Bronze"), ("SILVER", "Silver"), ("GOLD", "Gold")]


def level(ranking_set: RankingSet, ext_ref: str) -> RankingLevel:
    return (
        db.session.query(RankingLevel)
        .filter_by(ranking_set_id=ranking_set.id, ext_ref=ext_ref)
        .one()
    )


def rows(exported: Any, index: int = 0) -> list[list[str]]:
    lines = exported.lines(index)
    assert lines[0] == HEADER
    return [line.split("|") for line in lines[1:]]


def ids(exported: Any) -> list[int]:
    return [int(r[0]) for r in rows(exported)]


@dataclass
class Program:
    rs: RankingSet
    eng: RankingSet
    vip: Descriptor
    perks: Descriptor
    other: Descriptor
    card: AccountIdType

    @property
    def scope(self) -> dict[str, Any]:
        return {"ranking_set_id": self.rs.id}


def program() -> Program:
    s = db.session()
    vip = catalog.create(s, Descriptor, ext_ref="VIP", name="VIP")
    perks = catalog.create(s, Descriptor, ext_ref="GOLDPERKS", name="Perks", default_expiry_days=30)
    other = catalog.create(s, Descriptor, ext_ref="OTHER", name="Other")
    rs = catalog.create_ranking_set(s, "RS", "Spend tiers", LEVELS, descriptor=vip, at=at())
    catalog.update(s, level(rs, "GOLD"), descriptor_id=perks.id)
    eng = catalog.create_ranking_set(s, "ENG", "Engagement", [("LOW", "Low")], at=at())
    card = catalog.create(s, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
    return Program(rs, eng, vip, perks, other, card)


def first_members(p: Program) -> dict[str, Member]:
    """Ana (everything), Björn (nothing but a level), Chloé (VIP forever), Gus (other set)."""
    s = db.session()
    ana = members.enrol_member(s, first_name="Ana", last_name="Silva", at=at())
    contacts.add_account_id(s, ana, p.card, "CARD-100", at=at(0, 1))
    contacts.add_email(s, ana, "ana@example.com", at=at(0, 2))
    contacts.set_phone(s, ana, "mobile", "+1 (416) 555-0199", at=at(0, 3))
    contacts.set_address(
        s,
        ana,
        line1="1 Main St",
        line2="Apt 4",
        city="Toronto",
        region="ON",
        postal_code="M5V 1A1",
        country="CA",
        at=at(0, 4),
    )
    rankings.set_member_level(s, ana, level(p.rs, "SILVER"), at=at(1))
    rankings.set_member_level(s, ana, level(p.rs, "GOLD"), at=at(2, 30))
    descriptors.assign_descriptor(s, ana, p.vip, expires_on=date(2027, 1, 31), at=at(3))
    bjorn = members.enrol_member(s, first_name="Björn", last_name="Ås", at=at(0, 10))
    rankings.set_member_level(s, bjorn, level(p.rs, "REGULAR"), at=at(1, 10))
    chloe = members.enrol_member(s, first_name="Chloé", last_name="O'Neil", at=at(0, 20))
    contacts.add_account_id(s, chloe, p.card, "CARD-102", at=at(0, 21))
    rankings.set_member_level(s, chloe, level(p.rs, "SILVER"), at=at(1, 20))
    descriptors.assign_descriptor(s, chloe, p.vip, expires_on=None, at=at(3, 20))
    gus = members.enrol_member(s, first_name="Gus", at=at(0, 30))
    rankings.set_member_level(s, gus, level(p.eng, "LOW"), at=at(1, 30))
    db.session.commit()
    return {"ana": ana, "bjorn": bjorn, "chloe": chloe, "gus": gus}


def later_changes(p: Program, m: dict[str, Member]) -> Member:
    """Björn moves up, Chloé's VIP gets an expiry, Dev enters; the rest must not count."""
    s = db.session()
    rankings.set_member_level(s, m["bjorn"], level(p.rs, "BRONZE"), at=at(10))
    descriptors.assign_descriptor(s, m["chloe"], p.vip, expires_on=date(2026, 12, 31), at=at(10, 1))
    dev = members.enrol_member(s, first_name="Dev", last_name="Patel", at=at(10, 2))
    rankings.set_member_level(s, dev, level(p.rs, "REGULAR"), at=at(10, 3))
    # Not triggers of this sync: contact data, another descriptor, another set.
    contacts.change_email(s, m["ana"], "ana.silva@example.com", at=at(10, 4))
    descriptors.assign_descriptor(s, m["ana"], p.other, at=at(10, 5))
    rankings.remove_from_ranking_set(s, m["gus"], p.eng, at=at(10, 6))
    db.session.commit()
    return dev


# -- header, name, first run -------------------------------------------------------------------


def test_header_and_name(run_export: Any) -> None:
    p = program()
    exported = run_export(KEY, scope=p.scope)
    assert exported.names == [NAME]
    assert exported.bytes() == (HEADER + "\r\n").encode()
    assert exported.bytes().startswith((DOCUMENTED_HEADER + "|M").encode())


def test_first_run_golden_holds_the_whole_set(run_export: Any) -> None:
    p = program()
    m = first_members(p)
    exported = run_export(KEY, scope=p.scope)
    assert exported.names == [NAME]
    assert ids(exported) == [m["ana"].id, m["bjorn"].id, m["chloe"].id]
    ana = rows(exported)[0]
    assert ana == [
        str(m["ana"].id),
        "CARD-100",
        "Ana",
        "Silva",
        "1 Main St",
        "Toronto",
        "ON",
        "M5V 1A1",
        "CA",
        "ana@example.com",
        "+1 (416) 555-0199",
        "RS",
        "GOLD",
        "2026-11-03 09:30:00",
        "2027-01-31",
    ]
    check_golden(exported.bytes(), KEY, "first_run")


def test_incremental_golden_holds_the_changed_members(app: Flask, run_export: Any) -> None:
    p = program()
    m = first_members(p)
    first = run_export(KEY, scope=p.scope)
    dev = later_changes(p, m)
    second = run_export(KEY, scope=p.scope, watermark=first.result.watermark)
    watermark = first.result.watermark
    assert reference_lines(app, KEY, scope=p.scope, watermark=watermark) == second.lines()[1:]
    assert second.names == [NAME]
    assert ids(second) == [m["bjorn"].id, m["chloe"].id, dev.id]
    check_golden(second.bytes(), KEY, "incremental")
    third = run_export(KEY, scope=p.scope, watermark=second.result.watermark)
    assert third.bytes() == (HEADER + "\r\n").encode()


def test_golden_with_the_descriptor_option(run_export: Any) -> None:
    p = program()
    first_members(p)
    exported = run_export(KEY, scope=p.scope, options={"descriptor_ext_ref": "GOLDPERKS"})
    # Ana holds GOLDPERKS (given by her level, 30 days from 2026-11-03); nobody else does.
    assert [r[14] for r in rows(exported)] == ["2026-12-03", "", ""]
    check_golden(exported.bytes(), KEY, "descriptor_goldperks")


def test_golden_split(run_export: Any) -> None:
    p = program()
    first_members(p)
    exported = run_export(KEY, scope=p.scope, options={"max_records": 2})
    assert exported.names == [NAME, NAME.replace("_1.txt", "_2.txt")]
    for index in range(2):
        check_golden(exported.bytes(index), KEY, f"max_records_2_file{index + 1}")


@pytest.mark.parametrize(("in_set", "files"), [(2, 1), (3, 2)])
def test_splitting_boundary(run_export: Any, in_set: int, files: int) -> None:
    p = program()
    for _ in range(in_set):
        member = members.enrol_member(db.session(), first_name="M")
        rankings.set_member_level(db.session(), member, level(p.rs, "REGULAR"))
    exported = run_export(KEY, scope=p.scope, options={"max_records": 2})
    assert len(exported.names) == files
    assert [len(rows(exported, i)) for i in range(files)] == [2, in_set - 2][:files]


# -- which changes count -------------------------------------------------------------------------


def test_each_trigger_brings_the_member_in(run_export: Any) -> None:
    p = program()
    m = first_members(p)
    s = db.session()
    ana, bjorn, chloe = m["ana"], m["bjorn"], m["chloe"]
    start = run_export(KEY, scope=p.scope).result.watermark

    def changed_members(change: Any) -> list[int]:
        change()
        db.session.commit()
        return ids(run_export(KEY, scope=p.scope, watermark=start))

    # Expiry changed, removed (by a user), and level changes all count.
    assert changed_members(
        lambda: descriptors.assign_descriptor(s, ana, p.vip, expires_on=date(2027, 2, 1))
    ) == [ana.id]
    assert changed_members(lambda: descriptors.remove_descriptor(s, chloe, p.vip)) == [
        ana.id,
        chloe.id,
    ]
    assert changed_members(lambda: rankings.set_member_level(s, bjorn, level(p.rs, "SILVER"))) == [
        ana.id,
        bjorn.id,
        chloe.id,
    ]


def test_expired_assignment_is_a_trigger_and_shows_empty(run_export: Any) -> None:
    p = program()
    m = first_members(p)
    s = db.session()
    descriptors.assign_descriptor(s, m["bjorn"], p.vip, expires_on=date(2026, 11, 20), at=at(5))
    db.session.commit()
    first = run_export(KEY, scope=p.scope)
    # Past its last day on the run's date, the batch has not removed it yet: not held.
    assert [r[14] for r in rows(first)] == ["2027-01-31", "", ""]
    descriptors.expire_descriptor_assignments(s, date(2026, 11, 23), at=at(22))
    db.session.commit()
    second = run_export(KEY, scope=p.scope, watermark=first.result.watermark)
    assert ids(second) == [m["bjorn"].id]
    assert rows(second)[0][14] == ""


def test_members_who_left_or_were_deleted_are_not_written(run_export: Any) -> None:
    p = program()
    m = first_members(p)
    first = run_export(KEY, scope=p.scope)
    s = db.session()
    rankings.remove_from_ranking_set(s, m["bjorn"], p.rs, at=at(20))
    rankings.set_member_level(s, m["chloe"], level(p.rs, "GOLD"), at=at(20, 1))
    members.delete_member(s, m["chloe"], at=at(20, 2))
    db.session.commit()
    second = run_export(KEY, scope=p.scope, watermark=first.result.watermark)
    assert rows(second) == []
    assert ids(run_export(KEY, scope=p.scope)) == [m["ana"].id]  # a first run: the set now


def test_without_any_descriptor_only_levels_count(run_export: Any) -> None:
    p = program()
    catalog.update(db.session(), p.rs, descriptor_id=None)
    m = first_members(p)
    first = run_export(KEY, scope=p.scope)
    assert [r[14] for r in rows(first)] == ["", "", ""]
    descriptors.assign_descriptor(db.session(), m["bjorn"], p.vip, at=at(20))
    db.session.commit()
    assert rows(run_export(KEY, scope=p.scope, watermark=first.result.watermark)) == []


def test_the_option_replaces_the_sets_descriptor_as_trigger(run_export: Any) -> None:
    p = program()
    m = first_members(p)
    options = {"descriptor_ext_ref": "OTHER"}
    first = run_export(KEY, scope=p.scope, options=options)
    s = db.session()
    descriptors.assign_descriptor(s, m["bjorn"], p.vip, at=at(20))  # the set's: not followed
    descriptors.assign_descriptor(s, m["chloe"], p.other, expires_on=date(2027, 3, 1), at=at(20))
    db.session.commit()
    second = run_export(KEY, scope=p.scope, options=options, watermark=first.result.watermark)
    assert [(int(r[0]), r[14]) for r in rows(second)] == [(m["chloe"].id, "2027-03-01")]


def test_an_unknown_configured_descriptor_fails_clearly(run_export: Any) -> None:
    p = program()
    with pytest.raises(LookupError, match="'NOPE' configured for this sync does not exist"):
        run_export(KEY, scope=p.scope, options={"descriptor_ext_ref": "NOPE"})


def test_values_never_shift_columns(run_export: Any) -> None:
    p = program()
    s = db.session()
    odd = members.enrol_member(s, first_name="Zoë|Ann", last_name="Ng\r\nLi")
    contacts.set_address(s, odd, line1="1 | 2 Main", city="Québec")
    rankings.set_member_level(s, odd, level(p.rs, "BRONZE"), at=at(4))
    db.session.commit()
    (row,) = rows(run_export(KEY, scope=p.scope))
    assert row[2:7] == ["Zoë¦Ann", "Ng  Li", "1 ¦ 2 Main", "Québec", ""]
    assert len(row) == 15


def test_level_join_date_is_in_the_database_timezone(app: Flask, run_export: Any) -> None:
    p = program()
    member = members.enrol_member(db.session(), first_name="Tz")
    rankings.set_member_level(db.session(), member, level(p.rs, "GOLD"), at=at(2))
    db.session.commit()
    app.config["DATABASE_TIMEZONE"] = "Europe/Paris"
    (row,) = rows(run_export(KEY, scope=p.scope))
    assert row[13] == "2026-11-03 10:00:00"


def test_change_committed_during_an_export_comes_in_the_next(
    app: Flask, run_export: Any, tmp_path: Path
) -> None:
    p = program()
    m = first_members(p)
    first = run_export(KEY, scope=p.scope)
    bjorn_id, silver_id = m["bjorn"].id, level(p.rs, "SILVER").id

    def write() -> None:
        session = db.session()
        rankings.set_member_level(
            session, session.get_one(Member, bjorn_id), session.get_one(RankingLevel, silver_id)
        )
        db.session.commit()

    during = export_around_write(
        app, tmp_path / "during", KEY, write, scope=p.scope, watermark=first.result.watermark
    )
    assert rows(during) == []
    after = run_export(KEY, scope=p.scope, watermark=during.result.watermark)
    assert [(int(r[0]), r[12]) for r in rows(after)] == [(bjorn_id, "SILVER")]
    again = run_export(KEY, scope=p.scope, watermark=after.result.watermark)
    assert rows(again) == []
