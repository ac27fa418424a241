"""member_rfm: the spec's example rows byte for byte, the header option, the name token,
splitting, and members without scores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import exporters
from exporters.base import OptionsInvalid
from loyalty.models import Member
from loyalty.services import members, rankings
from tests.fixtures.exports import give_account_id, member_with_id
from tests.integration.exporters.members_b_support import all_bytes, at, check_golden, enrol
from webapp.extensions import db

KEY = "member_rfm"
HEADER = "InternalMemberId|FirstName|MiddleName|LastName|Suffix|MemberAccountId|RecencyNum|FrequencyNum|MonetaryNum|MemberRFM"
EXAMPLE = [
    "61675|Thomas|C|Nestor|Jr.|200501468|4|2|3|423",
    "61676|Rufus||Holmes||200601670|3|4|3|343",
]
STARTED = datetime(2016, 12, 30, 8, 0, tzinfo=UTC)


def spec_data() -> None:
    thomas = member_with_id(
        61675, first_name="Thomas", middle_name="C", last_name="Nestor", suffix="Jr."
    )
    rufus = member_with_id(61676, first_name="Rufus", last_name="Holmes")
    give_account_id(thomas, "200501468")
    give_account_id(rufus, "200601670")
    rankings.set_rfm_scores(db.session(), thomas, 4, 2, 3)
    rankings.set_rfm_scores(db.session(), rufus, 3, 4, 3)
    db.session.commit()


def test_spec_example_rows_byte_for_byte(run_export: Any) -> None:
    spec_data()
    exported = run_export(KEY, started=STARTED)
    # No header by default (the Format block); XXXXX is the database number; _01 always.
    assert exported.names == ["Standard_Member_RFM_Sync_1_12302016080000_01.txt"]
    assert exported.bytes() == ("\r\n".join(EXAMPLE) + "\r\n").encode()


def test_header_option_writes_the_examples_header(run_export: Any) -> None:
    spec_data()
    exported = run_export(KEY, started=STARTED, options={"header": True})
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()


def test_name_token_option(run_export: Any) -> None:
    spec_data()
    exported = run_export(KEY, started=STARTED, options={"name_token": "LOYALTY_2-A"})
    assert exported.names == ["Standard_Member_RFM_Sync_LOYALTY_2-A_12302016080000_01.txt"]


@pytest.mark.parametrize("token", ["a/b", "x.y", "two words", "ü", "*"])
def test_name_token_must_be_file_name_safe(token: str) -> None:
    with pytest.raises(OptionsInvalid) as caught:
        exporters.get(KEY).clean_options({"name_token": token})
    assert "name_token" in caught.value.errors


def test_name_token_is_cleaned_and_limited() -> None:
    sync_type = exporters.get(KEY)
    assert sync_type.clean_options({"name_token": "  RFM  "})["name_token"] == "RFM"
    assert sync_type.clean_options({"name_token": ""})["name_token"] == ""
    with pytest.raises(OptionsInvalid):
        sync_type.clean_options({"name_token": "X" * 21})


def test_unscored_members_have_empty_scores_and_deleted_are_left_out(run_export: Any) -> None:
    scored = enrol("A1", first_name="Ann", last_name="Lee")
    rankings.set_rfm_scores(db.session(), scored, 0, 5, 1, at=at())
    enrol(None, first_name="New", last_name="Comer")
    gone = enrol("G1", first_name="Gone", last_name="Away")
    rankings.set_rfm_scores(db.session(), gone, 1, 1, 1, at=at())
    members.delete_member(db.session(), gone, at=at(1))
    db.session.commit()
    assert run_export(KEY).lines() == [
        "1|Ann||Lee||A1|0|5|1|051",
        "2|New||Comer||||||",
    ]


def test_values_never_shift_columns(run_export: Any) -> None:
    odd = member_with_id(7, first_name="Zoë|Ann", middle_name="Ø", last_name="Ng")
    give_account_id(odd, "A-7")
    db.session.commit()
    # Older data may hold line breaks and tabs the services refuse today.
    db.session.get_one(Member, 7).last_name = "Ng\r\nTran\tVo"
    db.session.commit()
    lines = run_export(KEY).lines()
    assert lines == ["7|Zoë¦Ann|Ø|Ng  Tran Vo||A-7||||"]
    assert lines[0].count("|") == 9


def golden_data() -> None:
    people = [
        ("100001", "Thomas", "C", "Nestor", "Jr.", (4, 2, 3)),
        ("100002", "Rufus", None, "Holmes", None, (3, 4, 3)),
        ("100003", "Émilie", "Anne", "Dubois", None, (5, 5, 5)),
        ("100004", "Kenji", None, "Sato", "III", None),
        ("100005", "Li", None, "Wei", None, (0, 0, 1)),
    ]
    for account, first, middle, last, suffix, scores in people:
        member = enrol(
            account, when=at(), first_name=first, middle_name=middle, last_name=last, suffix=suffix
        )
        if scores is not None:
            rankings.set_rfm_scores(db.session(), member, *scores, at=at(2))
    db.session.commit()


@pytest.mark.parametrize(
    ("case", "options"),
    [
        ("default", {}),
        ("header", {"header": True}),
        ("split_2_with_header", {"header": True, "max_records": 2}),
    ],
)
def test_goldens(run_export: Any, case: str, options: dict[str, Any]) -> None:
    golden_data()
    exported = run_export(KEY, options=options)
    check_golden(all_bytes(exported), KEY, case)


@pytest.mark.parametrize(("count", "files"), [(3, 1), (4, 2)])
def test_splitting_boundary(run_export: Any, count: int, files: int) -> None:
    for n in range(count):
        enrol(f"S{n}", first_name=f"M{n}")
    db.session.commit()
    exported = run_export(KEY, options={"max_records": 3, "header": True})
    stamp = "11232026140509"
    assert exported.names == [
        f"Standard_Member_RFM_Sync_1_{stamp}_{i:02d}.txt" for i in range(1, files + 1)
    ]
    assert [f.rows for f in exported.result.files] == [3, 1][:files]
    for index in range(files):
        assert exported.lines(index)[0] == HEADER


def test_no_members_still_gives_file_one(run_export: Any) -> None:
    exported = run_export(KEY, options={"header": True})
    assert exported.names == ["Standard_Member_RFM_Sync_1_11232026140509_01.txt"]
    assert exported.lines() == [HEADER]
    assert run_export(KEY).bytes() == b""
