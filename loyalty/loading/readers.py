"""Streaming readers: one row at a time, whatever the file's size.

CSV (a header row, comma separated, RFC 4180 quoting) and NDJSON (one JSON object per
line). Both yield ``(line_number, row)`` where the line number is the file's physical
line on which the row starts, as the error report names it. Bytes are decoded line by
line, so a non-UTF-8 line rejects only the row it belongs to (``BadRow``), and nothing
but the current row is ever held in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

# A cell may be longer than csv's 128 KB default: the declared length refuses it with a
# clear reason rather than the csv module stopping the whole file.
csv.field_size_limit(4 * 1024 * 1024)

FORMATS = ("csv", "ndjson")


class FileRefused(Exception):
    """The file as a whole cannot be loaded (wrong header, not a CSV...)."""


@dataclass(frozen=True)
class BadRow:
    """A row that could not even be read (not UTF-8, not JSON): its reason."""

    field: str
    value: str
    reason: str


def format_of(filename: str, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise FileRefused(f"unknown format {explicit!r} (csv or ndjson).")
        return explicit
    lower = filename.lower()
    if lower.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if lower.endswith(".csv"):
        return "csv"
    raise FileRefused(f"cannot tell the format of {filename!r}: name it .csv or .ndjson.")


class _Lines:
    """Decodes a binary stream line by line, noting the lines that are not UTF-8."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.number = 0
        self.bad: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.number += 1
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a BOM, as spreadsheet programs write it
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.add(self.number)
                yield raw.decode("utf-8", errors="replace")


RowOrBad = tuple[int, dict[str, Any] | BadRow]


def read_csv(stream: IO[bytes]) -> tuple[list[str], Iterator[RowOrBad]]:
    lines = _Lines(stream)
    reader = csv.reader(iter(lines))
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused("the file is empty (a CSV starts with a header row).") from None
    except csv.Error as exc:
        raise FileRefused(f"the header row is not valid CSV: {exc}.") from None
    if 1 in lines.bad:
        raise FileRefused("the header row is not UTF-8.")
    columns = [c.strip() for c in header]

    def rows() -> Iterator[RowOrBad]:
        previous = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileRefused(f"line {previous + 1} is not valid CSV: {exc}.") from None
            start, end = previous + 1, reader.line_num
            previous = end
            if not cells or cells == [""]:
                continue  # a blank line
            if any(n in lines.bad for n in range(start, end + 1)):
                yield start, BadRow("", "", "the line is not UTF-8 text.")
                lines.bad.difference_update(range(start, end + 1))
                continue
            if len(cells) != len(columns):
                yield (
                    start,
                    BadRow("", "", f"the row has {len(cells)} cells, the header {len(columns)}."),
                )
                continue
            yield start, dict(zip(columns, cells, strict=True))

    return columns, rows()


def read_ndjson(stream: IO[bytes]) -> Iterator[RowOrBad]:
    lines = _Lines(stream)
    for text in lines:
        number = lines.number
        if not text.strip():
            continue
        if number in lines.bad:
            lines.bad.discard(number)
            yield number, BadRow("", "", "the line is not UTF-8 text.")
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield number, BadRow("", "", f"the line is not JSON ({exc.args[0].split(':')[0]}).")
            continue
        if not isinstance(value, dict):
            yield number, BadRow("", "", "each line is one JSON object.")
            continue
        yield number, value


def header_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Every column name the rows use, in first-seen order (for templates)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)
