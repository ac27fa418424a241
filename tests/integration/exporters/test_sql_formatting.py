"""The SQL-side encodings write the same bytes on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, Numeric, String, Table, select

from exporters.sql import (
    bool_field,
    date_field,
    decimal_field,
    int_field,
    text_field,
    timestamp_field,
)
from loyalty.db import UTCDateTime
from webapp.extensions import db

metadata = MetaData()
probe = Table(
    "sql_format_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60)),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", UTCDateTime),
    Column("amount", Numeric(14, 4)),
)


@pytest.fixture
def probe_rows(app: Any) -> Any:
    with db.engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(
            probe.insert(),
            [
                {
                    "id": 1,
                    "name": "Smith|Jones\r\nx\ty",
                    "flag": True,
                    "day": date(2016, 12, 31),
                    "at": datetime(2017, 3, 28, 17, 52, 16, 820_999, tzinfo=UTC),
                    "amount": Decimal("10.005"),
                },
                {"id": 2, "name": None, "flag": False, "day": None, "at": None, "amount": None},
                {
                    "id": 3,
                    "name": "Zoë",
                    "flag": None,
                    "day": date(2020, 1, 5),
                    "at": datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC),
                    "amount": Decimal("-3"),
                },
            ],
        )
    yield
    with db.engine.begin() as conn:
        metadata.drop_all(conn)


def rows(*columns: Any) -> list[tuple[str, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*columns).order_by(probe.c.id))]


def test_text_and_numbers(probe_rows: Any) -> None:
    assert rows(int_field(probe.c.id), text_field(probe.c.name)) == [
        ("1", "Smith\u00a6Jones  x y"),
        ("2", ""),
        ("3", "Zoë"),
    ]


def test_booleans(probe_rows: Any) -> None:
    assert rows(bool_field(probe.c.flag), bool_field(probe.c.flag, "-1", "0")) == [
        ("True", "-1"),
        ("False", "0"),
        ("", ""),
    ]


def test_dates_and_timestamps(probe_rows: Any) -> None:
    assert rows(
        date_field(probe.c.day),
        timestamp_field(probe.c.at),
        timestamp_field(probe.c.at, millis=True),
        timestamp_field(probe.c.at, "America/New_York"),
        date_field(probe.c.at),
    ) == [
        (
            "2016-12-31",
            "2017-03-28 17:52:16",
            "2017-03-28 17:52:16.820",
            "2017-03-28 13:52:16",
            "2017-03-28",
        ),
        ("", "", "", "", ""),
        (
            "2020-01-05",
            "2026-07-01 12:00:00",
            "2026-07-01 12:00:00.000",
            "2026-07-01 08:00:00",
            "2026-07-01",
        ),
    ]


def test_decimals(probe_rows: Any) -> None:
    assert rows(decimal_field(probe.c.amount, 2), decimal_field(probe.c.amount, 0)) == [
        ("10.01", "10"),
        ("", ""),
        ("-3.00", "-3"),
    ]
