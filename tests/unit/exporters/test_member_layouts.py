"""The declared layouts, names and options of member_extended, member_ranking and
member_ranking_extended: what the spec binds, and the rules the designed parts follow."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import exporters
from exporters.base import ExportContext, OptionsInvalid
from exporters.types import member_ranking, member_ranking_extended
from exporters.types.member_extended import layout as member_extended
from loyalty.models import MemberTrigger
from loyalty.models.enums import AccountIdStatus, AddressType, LedgerKind, MemberStatus

pytestmark = pytest.mark.nodb

START = datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)


def context(taken: set[str] | None = None) -> ExportContext:
    return ExportContext(
        session=None,  # type: ignore[arg-type]
        sync_id=1,
        instance_id=1,
        scope={},
        options={},
        run_started_at=START,
        timezone="UTC",
        out_dir=Path("."),
        watermark=None,
        name_taken=lambda name: name in (taken or set()),
    )


# -- member_extended ---------------------------------------------------------------------------


def test_record_types_are_the_documented_eleven_in_order() -> None:
    records = member_extended.RECORD_TYPES
    assert [r.code for r in records] == [str(n) for n in range(1, 12)]
    assert [r.code for r in records] == [t.value for t in MemberTrigger]
    assert [r.label for r in records] == [
        "Core Trigger",
        "Account Id Trigger",
        "Email Trigger",
        "Phone Trigger",
        "Address Trigger",
        "Club Trigger",
        "Delete Trigger",
        "Point Change Trigger",
        "Head of Household Change Trigger",
        "Member Custom Field Change Trigger",
        "Member Child Trigger",
    ]
    # Only Core is (partly) documented; every record starts with type and member id.
    assert [r.documented for r in records] == [True] + [False] * 10
    for record in records:
        assert [c.header for c in record.columns[:2]] == ["RecordType", "InternalMemberId"]


def test_core_documents_sixteen_fields_and_designs_the_rest() -> None:
    core = member_extended.RECORD_TYPES[0].columns
    assert [c.label for c in core[:16]] == [
        "Record Type",
        "Internal Member Id",
        "Member Prefix",
        "First Name",
        "Middle Name",
        "Last Name",
        "Member Suffic",
        "Birthdate Year",
        "Birthdate Month",
        "Birthdate Day",
        "Gender",
        "Do Not Email",
        "Do Not Text",
        "Do Not Phone",
        "Do Not Mail",
        "Preferred Delivery Method for Offers",
    ]
    assert all(c.documented for c in core[:16])
    assert not any(c.documented for c in core[16:])
    assert len(core) == 27  # 23 written always, 4 more with the Points Setting
    assert core[16].label.startswith("Preferred Delivery Method for")


def test_point_change_records_only_with_the_points_setting() -> None:
    assert MemberTrigger.POINT_CHANGE not in member_extended.codes_for(points=False)
    assert member_extended.codes_for(points=True) == list(MemberTrigger)
    assert len(member_extended.codes_for(points=False)) == 10


@pytest.mark.parametrize(
    ("words", "enum"),
    [
        (member_extended.STATUS_WORDS, MemberStatus),
        (member_extended.ACCOUNT_STATUS_WORDS, AccountIdStatus),
        (member_extended.ADDRESS_WORDS, AddressType),
        (member_extended.LEDGER_WORDS, LedgerKind),
    ],
)
def test_every_stored_code_has_a_word(words: dict[str, str], enum: type) -> None:
    # A new code without a word would be written as an empty field.
    assert set(words) == {member.value for member in enum}
    assert all(word and word[0].isupper() for word in words.values())


def test_member_extended_names() -> None:
    assert member_extended.STANDARD.namer(context(), numbered=False)(1) == (
        "Standard_Member_Sync_20261123140509.txt"
    )
    assert member_extended.WITH_POINTS.namer(context(), numbered=False)(1) == (
        "Standard_Member_With_Points_Sync_20261123140509.txt"
    )
    taken = {"Standard_Member_Sync_20261123140509.txt"}
    assert member_extended.STANDARD.namer(context(taken), numbered=False)(1) == (
        "Standard_Member_Sync_20261123140510.txt"
    )


# -- member_ranking ------------------------------------------------------------------------------


def test_member_ranking_names() -> None:
    rule = member_ranking.NAME
    assert rule.namer(context(), numbered=False, ref="RS")(1) == "RankingSet_RS_11232026140509.txt"
    assert rule.namer(context(), numbered=True, ref="RS")(12) == (
        "RankingSet_RS_11232026140509_0012.txt"
    )


# -- member_ranking_extended ---------------------------------------------------------------------


def test_ranking_extended_header_documented_prefix_and_designed_rest() -> None:
    columns = member_ranking_extended.COLUMNS
    assert len(columns) == 15
    assert "|".join(c.header for c in columns[:7]) == (
        "InternalMemberId|MemberAccountId|MemberFirstName|MemberLastName|MemberAddress"
        "|MemberCity|MemberRegionAbbreviation"
    )
    assert all(c.documented for c in columns[:7])
    assert not any(c.documented for c in columns[7:])


def test_ranking_extended_header_names_follow_the_documented_rule() -> None:
    # The captured names are the field names in CamelCase without the legacy "SB".
    for column in member_ranking_extended.COLUMNS:
        expected = re.sub(r"^SB ", "", column.label).title().replace(" ", "")
        assert column.header == expected, column.label


def test_ranking_extended_name_is_always_numbered() -> None:
    rule = member_ranking_extended.NAME
    assert rule.namer(context(), numbered=False)(1) == "SBMemberRankingSync_20261123140509_1.txt"
    assert rule.namer(context(), numbered=True)(10) == "SBMemberRankingSync_20261123140509_10.txt"


def test_options_are_checked() -> None:
    sync_type = exporters.get("member_ranking_extended")
    assert sync_type.clean_options({"descriptor_ext_ref": " VIP "}) == {
        "descriptor_ext_ref": "VIP",
        "max_records": None,
    }
    with pytest.raises(OptionsInvalid) as too_long:
        sync_type.clean_options({"descriptor_ext_ref": "X" * 21})
    assert "descriptor_ext_ref" in too_long.value.errors
    with pytest.raises(OptionsInvalid):
        exporters.get("member_ranking").clean_options({"max_records": 0})
    assert exporters.get("member_extended").clean_options({"points_setting": "on"}) == {
        "points_setting": True
    }
