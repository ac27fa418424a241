"""The CLI's output helpers: tables one line per row, sizes in words."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from webapp.cli.common import emit_table, human_bytes

pytestmark = pytest.mark.nodb


def _table(rows: list[dict[str, object]], as_json: bool = False) -> str:
    @click.command()
    def show() -> None:
        emit_table(rows, as_json, [("id", lambda r: r["id"]), ("name", lambda r: r["name"])])

    return CliRunner().invoke(show).output


def test_table_columns_are_as_wide_as_their_widest_cell() -> None:
    assert _table([{"id": 1, "name": "a"}, {"id": 22, "name": "longer"}]).splitlines() == [
        "id  name",
        "1   a",
        "22  longer",
    ]


def test_a_line_break_in_a_cell_does_not_start_a_row() -> None:
    lines = _table([{"id": 1, "name": "evil\n2   forged"}]).splitlines()
    assert lines == ["id  name", "1   evil 2   forged"]


def test_json_keeps_the_values_and_empty_says_none() -> None:
    rows: list[dict[str, object]] = [{"id": 1, "name": "a\nb"}]
    assert json.loads(_table(rows, as_json=True)) == rows
    assert _table([]) == "(none)\n"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1536, "1.5 KiB"),
        (5 * 2**20, "5.0 MiB"),
        (2**50, "1,024.0 TiB"),
    ],
)
def test_human_bytes(size: int, text: str) -> None:
    assert human_bytes(size) == text
