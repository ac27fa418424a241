"""The SQL formatters' parameters are part of the statement cache key.

SQLAlchemy caches compiled SQL by a key built from the statement's structure. A
formatter whose zone, milliseconds or decimal places were left out of that key made a
statement in one zone reuse the SQL compiled for another (the Reward Sync writes the same
query in the database zone or, with Include Source Dates, in UTC).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql, sqlite

from exporters.sql import decimal_field, timestamp_field

pytestmark = pytest.mark.nodb


def key(expression: object) -> object:
    return select(expression)._generate_cache_key()  # type: ignore[arg-type]


def test_timestamp_zone_and_millis_are_in_the_cache_key() -> None:
    x = column("x")
    assert key(timestamp_field(x, "UTC")) == key(timestamp_field(x, "UTC"))
    assert key(timestamp_field(x, "UTC")) != key(timestamp_field(x, "America/Toronto"))
    assert key(timestamp_field(x, "UTC")) != key(timestamp_field(x, "UTC", millis=True))


def test_decimal_places_are_in_the_cache_key() -> None:
    x = column("x")
    assert key(decimal_field(x, 2)) == key(decimal_field(x, 2))
    assert key(decimal_field(x, 2)) != key(decimal_field(x, 0))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_compiled_sql_follows_the_zone(dialect: Any) -> None:
    def sql(zone: str) -> str:
        statement = select(timestamp_field(column("x"), zone))
        return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    assert "Asia/Tokyo" in sql("Asia/Tokyo")
    assert "Asia/Tokyo" not in sql("UTC")
