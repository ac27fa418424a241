"""member_extended: the documented Core fields byte for byte, every record type, goldens with
and without the Points Setting, dedup and order, deletion, and incremental exactness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import exporters
from loyalty.models import (
    AccountId,
    AccountIdType,
    BusinessUnit,
    Club,
    CustomFieldDefinition,
    Location,
    Member,
    MemberChild,
    MemberEmail,
)
from loyalty.services import (
    catalog,
    clubs,
    contacts,
    custom_fields,
    households,
    member_children,
    members,
    points,
)
from tests.integration.exporters.member_change_support import (
    at,
    check_golden,
    export_around_write,
    reference_lines,
)
from webapp.extensions import db

KEY = "member_extended"
POINTS = {"points_setting": True}


def records(exported: Any) -> list[list[str]]:
    return [line.split("|") for line in exported.lines()]


def kinds(exported: Any) -> list[tuple[str, str]]:
    """(record type, member id) of every record, in file order."""
    return [(fields[0], fields[1]) for fields in records(exported)]


@dataclass
class Program:
    card: AccountIdType
    app_id: AccountIdType
    store: Location
    club: Club
    colour: CustomFieldDefinition


def program() -> Program:
    s = db.session()
    unit = catalog.create(s, BusinessUnit, ext_ref="BU1", name="Retail")
    store = catalog.create_location(
        s, name="Main St", ext_ref="STORE1", business_unit_id=unit.id, timezone="UTC"
    )
    return Program(
        card=catalog.create(s, AccountIdType, ext_ref="CARD", name="Card", display_rank=1),
        app_id=catalog.create(s, AccountIdType, ext_ref="APP", name="App id", display_rank=2),
        store=store,
        club=catalog.create(s, Club, ext_ref="RUN", name="Running club"),
        colour=custom_fields.define_custom_field(s, "member", "COLOUR", "Favourite colour"),
    )


def full_profile(p: Program) -> Member:
    return members.enrol_member(
        db.session(),
        location=p.store,
        source="web",
        at=at(),
        prefix="Mr",
        first_name="John",
        middle_name="Q",
        last_name="Public",
        suffix="Jr",
        birth_year=1980,
        birth_month=5,
        birth_day=17,
        gender="Male",
        do_not_email=True,
        do_not_text=False,
        do_not_phone=True,
        do_not_mail=False,
        offer_delivery=2,
        message_delivery=1,
        ext_ref="M-1",
    )


# -- the documented part ----------------------------------------------------------------------


def test_core_record_documented_fields_byte_for_byte(run_export: Any) -> None:
    p = program()
    john = full_profile(p)
    db.session.commit()
    exported = run_export(KEY)
    assert exported.names == ["Standard_Member_Sync_20261123140509.txt"]
    assert (
        exported.bytes()
        == (
            f"1|{john.id}|Mr|John|Q|Public|Jr|1980|5|17|Male|True|False|True|False|2"
            "|1|Active|M-1|2026-11-01 09:00:00|STORE1|web|2026-11-01 09:00:00\r\n"
        ).encode()
    )


def test_core_words_and_empty_values(run_export: Any) -> None:
    s = db.session()
    jane = members.enrol_member(s, first_name="Jane", gender="Female", at=at())
    pat = members.enrol_member(s, at=at(0, 1))
    members.set_member_status(s, pat, "suspended", at=at(0, 2))
    db.session.commit()
    flags = ["False", "False", "False", "False"]
    enrolled = "2026-11-01 09:00:00"
    jane_tail = ["Active", "", enrolled, "", "", enrolled]
    pat_tail = ["Suspended", "", "2026-11-01 09:01:00", "", "", "2026-11-01 09:02:00"]
    assert records(run_export(KEY)) == [
        ["1", str(jane.id), "", "Jane", *[""] * 6, "Female", *flags, "", "", *jane_tail],
        ["1", str(pat.id), *[""] * 8, "Undefined", *flags, "", "", *pat_tail],
    ]


def test_points_setting_names_the_file_and_adds_point_data(run_export: Any) -> None:
    s = db.session()
    ann = members.enrol_member(s, first_name="Ann", at=at())
    points.adjust_points(s, ann, 100, description="Welcome", at=at(0, 1))
    points.redeem_points(s, ann, "30.50", at=at(0, 2))
    db.session.commit()
    without = run_export(KEY)
    assert without.names == ["Standard_Member_Sync_20261123140509.txt"]
    assert kinds(without) == [("1", str(ann.id))]
    assert len(records(without)[0]) == 23
    with_points = run_export(KEY, options=POINTS)
    assert with_points.names == ["Standard_Member_With_Points_Sync_20261123140509.txt"]
    core, first, second = records(with_points)
    assert core[23:] == ["69.50", "100.00", "30.50", "0.00"]
    # One record per movement, in the order they happened, with the balance now.
    assert first[:2] == second[:2] == ["8", str(ann.id)]
    assert first[3:] == [
        "Adjust",
        "100.00",
        "2026-11-01 09:01:00",
        "2027-11-30",
        "",
        "",
        "",
        "Welcome",
        "69.50",
    ]
    assert second[3:] == ["Redeem", "-30.50", "2026-11-01 09:02:00", "", "", "", "", "", "69.50"]
    assert int(first[2]) < int(second[2])


# -- a program exercising every record type (also the goldens) -------------------------------


def everything(p: Program) -> tuple[Member, Member, Member]:
    """Three members whose history fires all eleven triggers, at fixed times."""
    s = db.session()
    john = full_profile(p)
    contacts.add_account_id(s, john, p.card, "CARD-1", at=at(0, 1))
    contacts.add_account_id(s, john, p.app_id, "APP-1", at=at(0, 2))
    contacts.add_email(s, john, "john@example.com", at=at(0, 3))
    contacts.set_phone(s, john, "mobile", "+1 (416) 555-0199", at=at(0, 4))
    contacts.set_phone(s, john, "work", "+1 416 555 0100", at=at(0, 5))
    contacts.set_address(
        s,
        john,
        "home",
        line1="1 Main St",
        line2="Apt 4",
        city="Toronto",
        region="ON",
        postal_code="M5V 1A1",
        country="ca",
        at=at(0, 6),
    )
    clubs.join_club(s, john, p.club, at=at(0, 7))
    points.adjust_points(s, john, 250, description="Welcome bonus", at=at(0, 8))
    household = households.create_household(s, "The Publics", ext_ref="HH-1", at=at())
    households.join_household(s, john, household, head=True, at=at(0, 9))
    custom_fields.set_member_custom_field(s, john, p.colour, "Blue", at=at(0, 10))
    member_children.add_child(
        s, john, first_name="Jill", birth_date=date(2018, 8, 15), at=at(0, 11)
    )

    zoe = members.enrol_member(s, first_name="Zoë|Ann", last_name="Ng\r\nLi", at=at(0, 20))
    contacts.add_account_id(s, zoe, p.card, "CARD-2", at=at(0, 21))
    households.join_household(s, zoe, household, at=at(0, 22))
    members.update_member(s, zoe, middle_name="Mei", at=at(0, 23))
    custom_fields.set_member_custom_field(s, zoe, p.colour, "red|green", at=at(0, 24))
    points.adjust_points(s, zoe, 5, at=at(0, 25))
    points.expire_points(s, zoe, 5, at=at(0, 26))

    gone = members.enrol_member(s, first_name="Gone", at=at(0, 30))
    contacts.add_account_id(s, gone, p.card, "CARD-3", at=at(0, 31))
    members.delete_member(s, gone, at=at(0, 32))
    db.session.commit()
    return john, zoe, gone


def test_golden_without_points(run_export: Any) -> None:
    john, zoe, gone = everything(program())
    exported = run_export(KEY)
    check_golden(exported.bytes(), KEY, "default")
    j, z, g = str(john.id), str(zoe.id), str(gone.id)
    assert kinds(exported) == [
        *[(t, j) for t in ("1", "2", "2", "3", "4", "5", "6", "9", "10", "11")],
        *[(t, z) for t in ("1", "2", "9", "10")],
        ("7", g),
    ]


def test_golden_with_points(app: Flask, run_export: Any) -> None:
    everything(program())
    exported = run_export(KEY, options=POINTS)
    check_golden(exported.bytes(), KEY, "points_setting")
    # The benchmark's reference query yields exactly the file's records.
    assert reference_lines(app, KEY, options=POINTS) == exported.lines()


@pytest.mark.parametrize("options", [{}, POINTS])
def test_every_record_has_its_declared_fields(run_export: Any, options: dict[str, Any]) -> None:
    everything(program())
    declared = {r.code: len(r.columns) for r in exporters.get(KEY).file_kinds[0].record_types}
    core_points = 4  # appended to Core only with the Points Setting
    written = records(run_export(KEY, options=options))
    assert {fields[0] for fields in written} == (
        {str(n) for n in range(1, 12)} if options else {str(n) for n in range(1, 12)} - {"8"}
    )
    for fields in written:
        expected = declared[fields[0]]
        if fields[0] == "1" and not options:
            expected -= core_points
        assert len(fields) == expected, fields


def test_designed_records_carry_current_values(run_export: Any) -> None:
    p = program()
    john, zoe, gone = everything(p)
    by_type = {(f[0], f[1]): f for f in records(run_export(KEY))}
    jid, zid = str(john.id), str(zoe.id)
    assert by_type[("3", jid)] == ["3", jid, "john@example.com"]
    assert by_type[("4", jid)] == ["4", jid, "+1 (416) 555-0199", "", "+1 416 555 0100", ""]
    assert by_type[("5", jid)] == [
        *("5", jid, "Home", "1 Main St", "Apt 4", "", "Toronto", "ON", "M5V 1A1", "CA")
    ]
    assert by_type[("6", jid)] == [
        "6",
        jid,
        "RUN",
        "Running club",
        "2026-11-01 09:07:00",
        "",
        "True",
    ]
    household_id = str(db.session.get(Member, john.id).household_id)
    assert by_type[("9", jid)] == ["9", jid, household_id, "HH-1", "The Publics", "True", jid]
    assert by_type[("9", zid)] == ["9", zid, household_id, "HH-1", "The Publics", "False", jid]
    assert by_type[("10", zid)] == ["10", zid, "COLOUR", "Favourite colour", "red¦green"]
    assert by_type[("7", str(gone.id))] == ["7", str(gone.id), "2026-11-01 09:32:00", "CARD-3"]
    assert by_type[("1", zid)][3:6] == ["Zoë¦Ann", "Mei", "Ng  Li"]


def test_account_id_records_one_per_id(run_export: Any) -> None:
    p = program()
    john, _, _ = everything(p)
    lines = [f for f in records(run_export(KEY)) if f[0] == "2" and f[1] == str(john.id)]
    assert lines == [
        ["2", str(john.id), "CARD-1", "CARD", "Active", "2026-11-01 09:01:00", "True", "CARD-1"],
        ["2", str(john.id), "APP-1", "APP", "Active", "2026-11-01 09:02:00", "False", "CARD-1"],
    ]


# -- dedup, deletion, removals, order ----------------------------------------------------------


def test_repeated_triggers_are_one_record_with_current_values(run_export: Any) -> None:
    p = program()
    s = db.session()
    ann = members.enrol_member(s, first_name="Ann", at=at())
    members.update_member(s, ann, last_name="Lee", at=at(0, 1))
    members.update_member(s, ann, last_name="Li", at=at(0, 2))
    contacts.add_email(s, ann, "a@example.com", at=at(0, 3))
    contacts.change_email(s, ann, "b@example.com", at=at(0, 4))
    card = contacts.add_account_id(s, ann, p.card, "C-1", at=at(0, 5))
    contacts.set_account_id_status(s, card, "inactive", at=at(0, 6))
    contacts.set_phone(s, ann, "home", "555 0101", at=at(0, 7))
    contacts.set_phone(s, ann, "home", "555 0102", at=at(0, 8))
    db.session.commit()
    written = records(run_export(KEY))
    assert [f[0] for f in written] == ["1", "2", "3", "4"]
    assert written[0][5] == "Li"
    assert written[1][2:] == ["C-1", "CARD", "Inactive", "2026-11-01 09:05:00", "False", ""]
    assert written[2] == ["3", str(ann.id), "b@example.com"]
    assert written[3] == ["4", str(ann.id), "", "555 0102", "", ""]


def test_removals_show_what_is_left(run_export: Any) -> None:
    p = program()
    john, _, _ = everything(p)
    first = run_export(KEY)
    s = db.session()
    john = db.session.get(Member, john.id)
    email = db.session.query(MemberEmail).filter_by(member_id=john.id).one()
    contacts.remove_email(s, email, at=at(1))
    contacts.remove_address(s, john, "home", at=at(1, 1))
    clubs.leave_club(s, john, p.club, at=at(1, 2))
    households.leave_household(s, john, at=at(1, 3))
    custom_fields.set_member_custom_field(s, john, p.colour, None, at=at(1, 4))
    child = db.session.query(MemberChild).filter_by(member_id=john.id).one()
    member_children.remove_child(s, child, at=at(1, 5))
    db.session.commit()
    jid = str(john.id)
    assert records(run_export(KEY, watermark=first.result.watermark)) == [
        ["3", jid, ""],
        ["5", jid, "", "", "", "", "", "", "", ""],
        ["6", jid, "RUN", "Running club", "2026-11-01 09:07:00", "2026-11-02 09:02:00", "False"],
        ["9", jid, "", "", "", "False", ""],
        ["10", jid, "COLOUR", "Favourite colour", ""],
        ["11", jid, str(child.id), "Jill", "", "2018-08-15", "Undefined", "True"],
    ]


def test_deleted_member_gets_only_the_delete_record(run_export: Any) -> None:
    p = program()
    s = db.session()
    bob = members.enrol_member(s, first_name="Bob", at=at())
    first = run_export(KEY, options=POINTS)
    assert kinds(first) == [("1", str(bob.id))]
    contacts.add_account_id(s, bob, p.card, "B-1", at=at(0, 1))
    points.adjust_points(s, bob, 10, at=at(0, 2))
    members.update_member(s, bob, last_name="Gone", at=at(0, 3))
    members.delete_member(s, bob, at=at(0, 4))
    db.session.commit()
    second = run_export(KEY, options=POINTS, watermark=first.result.watermark)
    assert records(second) == [["7", str(bob.id), "2026-11-01 09:04:00", "B-1"]]
    third = run_export(KEY, options=POINTS, watermark=second.result.watermark)
    assert third.bytes() == b""


def test_rank_change_moves_the_primary_account_id(run_export: Any) -> None:
    p = program()
    s = db.session()
    ann = members.enrol_member(s, first_name="Ann", at=at())
    contacts.add_account_id(s, ann, p.card, "CARD-9", at=at(0, 1))
    app_id = contacts.add_account_id(s, ann, p.app_id, "APP-9", at=at(0, 2))
    first = run_export(KEY)
    assert [f[2] for f in records(first) if f[0] == "2"] == ["CARD-9", "APP-9"]
    # Both types now rank first: the most recent id (APP-9) becomes the primary one.
    assert contacts.set_account_id_type_rank(s, p.app_id, 1, at=at(1)) == 1
    db.session.commit()
    second = run_export(KEY, watermark=first.result.watermark)
    aid = str(ann.id)
    assert records(second) == [
        ["2", aid, "APP-9", "APP", "Active", "2026-11-01 09:02:00", "True", "APP-9"]
    ]
    # Back again, and two triggers of CARD-9 itself in the same window: one record.
    card_9 = db.session.query(AccountId).filter_by(value="CARD-9").one()
    contacts.set_account_id_type_rank(s, p.app_id, 2, at=at(2))
    contacts.set_account_id_status(s, card_9, "login_inactive", at=at(2, 1))
    contacts.set_account_id_status(s, card_9, "active", at=at(2, 2))
    db.session.commit()
    third = run_export(KEY, watermark=second.result.watermark)
    assert records(third) == [
        ["2", aid, "CARD-9", "CARD", "Active", "2026-11-01 09:01:00", "True", "CARD-9"]
    ]
    assert app_id.value == "APP-9"


def test_order_is_member_then_record_type_then_subject(run_export: Any) -> None:
    p = program()
    s = db.session()
    first = members.enrol_member(s, first_name="First", at=at())
    second = members.enrol_member(s, first_name="Second", at=at())
    # Changes made in reverse order of the file's order.
    member_children.add_child(s, second, first_name="C2", at=at(0, 1))
    member_children.add_child(s, second, first_name="C1", at=at(0, 2))
    custom_fields.set_member_custom_field(s, first, p.colour, "x", at=at(0, 3))
    contacts.add_email(s, first, "f@example.com", at=at(0, 4))
    members.update_member(s, first, last_name="One", at=at(0, 5))
    db.session.commit()
    written = records(run_export(KEY))
    f, sec = str(first.id), str(second.id)
    assert [(r[0], r[1]) for r in written] == [
        ("1", f),
        ("3", f),
        ("10", f),
        ("1", sec),
        ("11", sec),
        ("11", sec),
    ]
    assert [r[3] for r in written[-2:]] == ["C2", "C1"]  # by child id


def test_timestamps_are_in_the_database_timezone(app: Flask, run_export: Any) -> None:
    members.enrol_member(db.session(), first_name="Tz", at=at())
    db.session.commit()
    app.config["DATABASE_TIMEZONE"] = "America/Toronto"
    exported = run_export(KEY, timezone="Asia/Tokyo")
    # The file name is the run's start on the sync's clock; the values on the database's.
    assert exported.names == ["Standard_Member_Sync_20261123230509.txt"]
    assert records(exported)[0][19] == "2026-11-01 04:00:00"


# -- incremental exactness -----------------------------------------------------------------------


def test_incremental_sequence_loses_and_repeats_nothing(run_export: Any) -> None:
    p = program()
    s = db.session()
    ann = members.enrol_member(s, first_name="Ann", at=at())
    points.adjust_points(s, ann, 10, at=at(0, 1))
    first = run_export(KEY, options=POINTS)
    assert first.result.watermark is not None
    assert [k for k, _ in kinds(first)] == ["1", "8"]

    bob = members.enrol_member(s, first_name="Bob", at=at(1))
    points.adjust_points(s, ann, 5, at=at(1, 1))
    contacts.add_account_id(s, ann, p.card, "A-1", at=at(1, 2))
    db.session.commit()
    second = run_export(KEY, options=POINTS, watermark=first.result.watermark)
    assert kinds(second) == [("2", str(ann.id)), ("8", str(ann.id)), ("1", str(bob.id))]
    assert records(second)[1][4] == "5.00"

    third = run_export(KEY, options=POINTS, watermark=second.result.watermark)
    assert third.names == ["Standard_Member_With_Points_Sync_20261123140509.txt"]
    assert third.bytes() == b""


def test_point_changes_of_a_run_without_points_are_not_sent_later(run_export: Any) -> None:
    ann = members.enrol_member(db.session(), first_name="Ann", at=at())
    points.adjust_points(db.session(), ann, 10, at=at(0, 1))
    first = run_export(KEY)
    assert kinds(first) == [("1", str(ann.id))]
    later = run_export(KEY, options=POINTS, watermark=first.result.watermark)
    assert later.bytes() == b""


def test_change_committed_during_an_export_comes_in_the_next(
    app: Flask, run_export: Any, tmp_path: Path
) -> None:
    ann = members.enrol_member(db.session(), first_name="Ann", at=at())
    db.session.commit()
    ann_id = ann.id

    def write() -> None:
        members.update_member(db.session(), db.session.get(Member, ann_id), last_name="Late")
        members.enrol_member(db.session(), first_name="Newcomer", at=at(1))
        db.session.commit()

    during = export_around_write(app, tmp_path / "during", KEY, write)
    assert records(during) == [records(during)[0]]
    assert records(during)[0][3:6] == ["Ann", "", ""]
    after = run_export(KEY, watermark=during.result.watermark)
    newcomer = db.session.query(Member).filter_by(first_name="Newcomer").one()
    assert kinds(after) == [("1", str(ann_id)), ("1", str(newcomer.id))]
    assert records(after)[0][5] == "Late"
