from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from exporters.base import ExportContext
from exporters.naming import MDYHMS, YMD, YMDHMS, NameRule

pytestmark = pytest.mark.nodb


def context(
    started: datetime, zone: str = "UTC", taken: set[str] | None = None, corporate: str = "UTC"
) -> ExportContext:
    return ExportContext(
        session=None,  # type: ignore[arg-type]
        sync_id=1,
        instance_id=1,
        scope={},
        options={},
        run_started_at=started,
        timezone=zone,
        out_dir=Path("."),
        watermark=None,
        corporate_timezone=corporate,
        name_taken=lambda name: name in (taken or set()),
    )


START = datetime(2026, 3, 8, 7, 4, 5, tzinfo=UTC)


def test_month_first_in_the_sync_zone() -> None:
    rule = NameRule("Standard_Member_Descriptor_Sync_{ref}_{stamp}.txt", stamp=MDYHMS)
    name = rule.namer(context(START, "America/New_York"), numbered=False, ref="ABC")(1)
    # 2026-03-08 is the spring-forward day: 07:04 UTC is already 03:04 EDT (UTC-4).
    assert name == "Standard_Member_Descriptor_Sync_ABC_03082026030405.txt"


def test_corporate_zone() -> None:
    rule = NameRule(
        "X_{stamp}{number}.txt",
        stamp=YMDHMS,
        number="_##",
        always_numbered=True,
        corporate_zone=True,
    )
    assert (
        rule.namer(context(START, "UTC", corporate="Asia/Tokyo"), numbered=False)(1)
        == "X_20260308160405_01.txt"
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("_#", "R_20260308070405_12.txt"),
        ("_##", "R_20260308070405_12.txt"),
        ("_####", "R_20260308070405_0012.txt"),
    ],
)
def test_number_formats(number: str, expected: str) -> None:
    rule = NameRule("R_{stamp}{number}.txt", number=number)
    assert rule.namer(context(START), numbered=True)(12) == expected


def test_number_widths_for_small_numbers() -> None:
    assert NameRule("R{number}.txt", number="_##").namer(context(START), True)(3) == "R_03.txt"
    assert NameRule("R{number}.txt", number="_#").namer(context(START), True)(3) == "R_3.txt"


def test_unnumbered_unless_split_or_always() -> None:
    rule = NameRule("I_{stamp}{number}.txt", number="_#")
    assert rule.namer(context(START), numbered=False)(1) == "I_20260308070405.txt"
    always = NameRule("S_{stamp}{number}.txt", number="_#", always_numbered=True)
    assert always.namer(context(START), numbered=False)(1) == "S_20260308070405_1.txt"


def test_date_only_name_repeat_gets_the_time() -> None:
    rule = NameRule(
        "TransactionSync_{stamp}{number}.txt", stamp=YMD, number="_##", repeat_stamp=YMDHMS
    )
    assert rule.namer(context(START), numbered=False)(1) == "TransactionSync_20260308.txt"
    taken = {"TransactionSync_20260308.txt"}
    assert (
        rule.namer(context(START, taken=taken), numbered=False)(1)
        == "TransactionSync_20260308070405.txt"
    )
    taken_split = {"TransactionSync_20260308_01.txt"}
    assert (
        rule.namer(context(START, taken=taken_split), numbered=True)(2)
        == "TransactionSync_20260308070405_02.txt"
    )


def test_same_second_repeat_moves_forward() -> None:
    rule = NameRule("InteractionSync_{stamp}.txt")
    taken = {"InteractionSync_20260308070405.txt", "InteractionSync_20260308070406.txt"}
    assert (
        rule.namer(context(START, taken=taken), numbered=False)(1)
        == "InteractionSync_20260308070407.txt"
    )


def test_unknown_number_format_is_refused() -> None:
    with pytest.raises(ValueError, match="number format"):
        NameRule("x", number="_###")
