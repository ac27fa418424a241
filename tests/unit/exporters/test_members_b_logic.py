"""Pure logic of member_future_point_expiration, member_rfm and member_product_purchases:
cycle dates and dated header names, the RFM file-name token, the trigger codes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from exporters.base import ExportContext
from exporters.types import member_future_point_expiration as fpe
from exporters.types import member_product_purchases as mpp
from exporters.types import member_rfm

pytestmark = pytest.mark.nodb


def context(options: dict[str, object], database_number: int = 1) -> ExportContext:
    return ExportContext(
        session=None,  # type: ignore[arg-type]
        sync_id=1,
        instance_id=1,
        scope={},
        options=options,
        run_started_at=datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC),
        timezone="UTC",
        out_dir=Path("."),
        watermark=None,
        database_number=database_number,
        corporate_timezone="Asia/Tokyo",
    )


def test_cycle_dates_are_month_ends_from_the_runs_month() -> None:
    assert fpe.cycle_dates(date(2026, 11, 23)) == [
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_cycle_dates_cross_a_leap_february_and_start_on_the_last_day() -> None:
    assert fpe.cycle_dates(date(2027, 12, 31), 3) == [
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
    ]
    assert fpe.cycle_dates(date(2028, 1, 1), 1) == [date(2028, 1, 31)]


def test_header_names_carry_each_cycles_date_without_a_star() -> None:
    names = fpe.header(fpe.cycle_dates(date(2020, 1, 5)))
    assert names[:3] == ["Member Id", "Member Account Id", "Future Expiration Process Date"]
    assert names[3:] == [
        "Points1Expire20200131",
        "Points2Expire20200229",
        "Points3Expire20200331",
        "Points4Expire20200430",
        "Points5Expire20200531",
        "Points6Expire20200630",
    ]


def test_cycles_are_anchored_on_the_corporate_calendar() -> None:
    # 2026-11-30 20:00 UTC is already 1 December in Tokyo.
    ctx = context({})
    ctx.run_started_at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert fpe.corporate_date(ctx) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("option", "database_number", "token"),
    [("", 1, "1"), ("", 7, "7"), ("RFM", 7, "RFM"), ("  ", 3, "3")],
)
def test_rfm_name_token(option: str, database_number: int, token: str) -> None:
    assert member_rfm.name_token(context({"name_token": option}, database_number)) == token


@pytest.mark.parametrize("value", ["RFM", "db-2", "A_1", "x" * 20])
def test_rfm_name_token_option_accepts_safe_text(value: str) -> None:
    assert member_rfm.SYNC_TYPE.option("name_token").clean(value) == value


@pytest.mark.parametrize("value", ["a.b", "a/b", "a b", "é", "x" * 21, "a|b"])
def test_rfm_name_token_option_refuses_unsafe_text(value: str) -> None:
    with pytest.raises(ValueError, match="File name token"):
        member_rfm.SYNC_TYPE.option("name_token").clean(value)


def test_product_purchase_triggers() -> None:
    assert mpp.trigger_codes(False) == ["POST"]
    assert mpp.trigger_codes(True) == ["POST", "CNCL"]
