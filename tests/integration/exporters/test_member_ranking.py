"""member_ranking: the spec's header and example rows byte for byte, goldens, and the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from loyalty.models import AccountIdType, Member, RankingLevel, RankingSet
from loyalty.services import catalog, contacts, members, rankings
from tests.fixtures.exports import give_account_id, member_with_id
from tests.integration.exporters.member_change_support import at, check_golden, reference_lines
from webapp.extensions import db

KEY = "member_ranking"
HEADER = "RankingSetExternalReference|RankingLevelExternalReference|SBInternalMemberId|MemberAccountId|MemberFirstName|MemberLastName"
EXAMPLE = [
    "RS|SILVER|56075|600010023|John|Smith",
    "RS|BRONZE|54075|600010044|Jim|Rogers",
    "RS|REGULAR|66075|600010054|Brian|Jackson",
]
LEVELS = [("REGULAR", "Regular"), ("BRONZE", "Bronze"), ("SILVER", "Silver"), ("GOLD", "Gold")]


def level(ranking_set: RankingSet, ext_ref: str) -> RankingLevel:
    return (
        db.session.query(RankingLevel)
        .filter_by(ranking_set_id=ranking_set.id, ext_ref=ext_ref)
        .one()
    )


def spec_data() -> RankingSet:
    rs = catalog.create_ranking_set(db.session(), "RS", "Spend tiers", LEVELS)
    for member_id, first, last, card, tier in (
        (56075, "John", "Smith", "600010023", "SILVER"),
        (54075, "Jim", "Rogers", "600010044", "BRONZE"),
        (66075, "Brian", "Jackson", "600010054", "REGULAR"),
    ):
        member = member_with_id(member_id, first_name=first, last_name=last)
        give_account_id(member, card)
        rankings.set_member_level(db.session(), member, level(rs, tier))
    db.session.commit()
    return rs


def test_spec_example_rows_byte_for_byte(run_export: Any) -> None:
    rs = spec_data()
    started = datetime(2016, 12, 30, 8, 0, 5, tzinfo=UTC)
    exported = run_export(KEY, scope={"ranking_set_id": rs.id}, started=started)
    assert exported.names == ["RankingSet_RS_12302016080005.txt"]
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()


def test_spec_example_split_into_numbered_files(run_export: Any) -> None:
    rs = spec_data()
    started = datetime(2016, 12, 30, 8, 0, 5, tzinfo=UTC)
    exported = run_export(
        KEY, scope={"ranking_set_id": rs.id}, options={"max_records": 2}, started=started
    )
    assert exported.names == [
        "RankingSet_RS_12302016080005_0001.txt",
        "RankingSet_RS_12302016080005_0002.txt",
    ]
    assert exported.lines(0) == [HEADER, *EXAMPLE[:2]]
    assert exported.lines(1) == [HEADER, EXAMPLE[2]]


def golden_data() -> RankingSet:
    """Two sets; members enrolled, carded and ranked through the services at fixed times."""
    session = db.session()
    card = catalog.create(session, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
    rs = catalog.create_ranking_set(session, "RS", "Spend tiers", LEVELS, at=at())
    other = catalog.create_ranking_set(session, "ENG", "Engagement", [("LOW", "Low")], at=at())
    people = [
        ("Ana", "Silva", "CARD-100", "GOLD"),
        ("Björn", "Ås", "CARD-101", "REGULAR"),
        ("Chloé", "O'Neil", "CARD-102", "SILVER"),
        ("Dev", "Patel", None, "GOLD"),
        ("Eve", None, "CARD-104", "BRONZE"),
        ("Finn", "Deleted", "CARD-105", "SILVER"),
        ("Gus", "Elsewhere", "CARD-106", None),
    ]
    for index, (first, last, account, tier) in enumerate(people):
        member = members.enrol_member(session, first_name=first, last_name=last, at=at(0, index))
        if account:
            contacts.add_account_id(session, member, card, account, at=at(1, index))
        if tier:
            rankings.set_member_level(session, member, level(rs, tier), at=at(2, index))
        else:
            rankings.set_member_level(session, member, level(other, "LOW"), at=at(2, index))
    finn = session.query(Member).filter_by(first_name="Finn").one()
    members.delete_member(session, finn, at=at(3))
    db.session.commit()
    return rs


def test_golden(app: Flask, run_export: Any) -> None:
    rs = golden_data()
    exported = run_export(KEY, scope={"ranking_set_id": rs.id})
    assert reference_lines(app, KEY, scope={"ranking_set_id": rs.id}) == exported.lines()[1:]
    assert exported.names == ["RankingSet_RS_11232026140509.txt"]
    # GOLD (Ana 1, Dev 4), SILVER (Chloé 3; Finn is deleted), BRONZE (Eve 5), REGULAR (Björn 2).
    assert [line.split("|")[2] for line in exported.lines()[1:]] == ["1", "4", "3", "5", "2"]
    check_golden(exported.bytes(), KEY, "default")


def test_golden_split(run_export: Any) -> None:
    rs = golden_data()
    exported = run_export(KEY, scope={"ranking_set_id": rs.id}, options={"max_records": 2})
    assert exported.names == [
        "RankingSet_RS_11232026140509_0001.txt",
        "RankingSet_RS_11232026140509_0002.txt",
        "RankingSet_RS_11232026140509_0003.txt",
    ]
    for index in range(3):
        check_golden(exported.bytes(index), KEY, f"max_records_2_file{index + 1}")


@pytest.mark.parametrize(("members_in_set", "files"), [(3, 1), (4, 2)])
def test_splitting_boundary(run_export: Any, members_in_set: int, files: int) -> None:
    rs = catalog.create_ranking_set(db.session(), "B", "Boundary", [("L1", "One")])
    for _ in range(members_in_set):
        member = members.enrol_member(db.session(), first_name="M")
        rankings.set_member_level(db.session(), member, level(rs, "L1"))
    exported = run_export(KEY, scope={"ranking_set_id": rs.id}, options={"max_records": 3})
    assert len(exported.names) == files
    assert [len(exported.lines(i)) - 1 for i in range(files)] == [3, members_in_set - 3][:files]
    assert all(exported.lines(i)[0] == HEADER for i in range(files))


def test_values_never_shift_columns(run_export: Any) -> None:
    rs = catalog.create_ranking_set(db.session(), "P/Q 1", "odd", [("L|1", "One")])
    odd = members.enrol_member(db.session(), first_name="Zoë|Ann", last_name="Line\r\nBreak")
    empty = members.enrol_member(db.session())
    for member in (odd, empty):
        rankings.set_member_level(db.session(), member, level(rs, "L|1"))
    exported = run_export(KEY, scope={"ranking_set_id": rs.id})
    assert exported.names[0].startswith("RankingSet_P_Q_1_")
    assert exported.lines()[1:] == [
        f"P/Q 1|L¦1|{odd.id}||Zoë¦Ann|Line  Break",
        f"P/Q 1|L¦1|{empty.id}|||",
    ]


def test_empty_set_writes_the_header_only(run_export: Any) -> None:
    rs = catalog.create_ranking_set(db.session(), "NONE", "Nobody", [("L1", "One")])
    exported = run_export(KEY, scope={"ranking_set_id": rs.id})
    assert exported.bytes() == (HEADER + "\r\n").encode()


def test_level_changes_show_the_current_level(run_export: Any) -> None:
    rs = spec_data()
    john = db.session.get(Member, 56075)
    rankings.set_member_level(db.session(), john, level(rs, "GOLD"))
    rankings.remove_from_ranking_set(db.session(), db.session.get(Member, 54075), rs)
    db.session.commit()
    exported = run_export(KEY, scope={"ranking_set_id": rs.id})
    assert exported.lines()[1:] == [
        "RS|GOLD|56075|600010023|John|Smith",
        "RS|REGULAR|66075|600010054|Brian|Jackson",
    ]


def test_a_ranking_set_that_is_gone_fails_clearly(run_export: Any) -> None:
    with pytest.raises(LookupError, match=r"ranking set .*no longer exists"):
        run_export(KEY, scope={"ranking_set_id": 999})
