"""The cell conversions of the declarations (pure logic: no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.loading import get_kind
from loyalty.loading.declarations import Field, LineValue, RowInvalid


def test_booleans_times_and_numbers() -> None:
    flag = Field("inactive", "bool")
    assert [flag.convert(v) for v in ("Yes", "0", True, "", None)] == [
        True,
        False,
        True,
        None,
        None,
    ]
    with pytest.raises(ValueError, match="true or false"):
        flag.convert("maybe")
    when = Field("at", "datetime")
    assert when.convert("2026-11-23T14:05:09") == datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)
    assert when.convert("2026-11-23T09:05:09-05:00") == datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        when.convert("2026-02-30")
    with pytest.raises(ValueError, match="whole number"):
        Field("n", "int").convert("\uff11\uff12")  # full-width digits are not digits here
    with pytest.raises(ValueError, match="must be a number"):
        Field("p", "decimal").convert("NaN")
    with pytest.raises(ValueError, match="must be whole number"):
        Field("n", "int").convert(True)


def test_lines_from_csv_text_and_from_json() -> None:
    lines = Field("lines", "lines")
    expected = [
        LineValue("A", 2, Decimal("1.50"), None),
        LineValue(None, 1, Decimal("3"), Decimal("5")),
    ]
    assert lines.convert("A:2:1.50;:1:3:5") == expected
    assert (
        lines.convert(
            [
                {"sku": "A", "quantity": 2, "unit_price": "1.50"},
                {"quantity": "1", "unit_price": 3, "points": 5},
            ]
        )
        == expected
    )
    for bad, reason in (
        ("A:0:1", "must not be zero"),
        ("A:1", "SKU:quantity"),
        ("A:1:-2", "negative"),
    ):
        with pytest.raises(ValueError, match=reason):
            lines.convert(bad)


def test_a_row_reports_every_bad_cell_and_text_rules() -> None:
    members = get_kind("members")
    with pytest.raises(RowInvalid) as caught:
        members.convert({"first_name": "x" * 61, "gender": "other", "birth_year": "19x0"})
    fields = [name for name, _, _ in caught.value.problems]
    assert fields == ["first_name", "gender", "birth_year", "ext_ref"]
    assert members.convert({"ext_ref": " M1 ", "gender": "Female"}) == {
        "ext_ref": "M1",
        "gender": "female",
    }
    assert (
        members.check_header(["ext_ref", "ext_ref"])
        == "column 'ext_ref' appears twice in the header."
    )
