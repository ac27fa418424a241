"""Writes records to delimited files: the one place that owns the file format.

Format rules (docs/file-format.md explains them for receivers):

- Delimiter ``|``; UTF-8 without a byte-order mark; CRLF line endings, as the original
  (Windows/.NET) platform wrote them.
- A value never contains the delimiter or a line break, so a receiver that splits each
  line on ``|`` always reads the right columns: ``|`` inside a value becomes ``¦``
  (U+00A6 BROKEN BAR), CR, LF and TAB become a space, other control characters are
  dropped. No quoting: the layouts are documented without it, and quoting would still
  shift the columns of a receiver that splits naively.
- An empty value is written as nothing between two delimiters.
- A header, where the layout has one, is written at the top of every numbered file.
- With a maximum number of records per file, file 1 holds the first N records, file 2
  the next N, and so on; a file is never empty unless the whole export is (then file 1
  holds the header only, so a receiver still gets its daily file).

Values reach ``write`` as strings already formatted for the layout (see ``exporters.sql``
for the SQL-side formatters that clean text and encode dates and booleans in the
database, which keeps the per-row Python work to a join).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from exporters.base import OriginalFile

DELIMITER = "|"
LINE_END = "\r\n"
ENCODING = "utf-8"
_LINE_END_BYTES = LINE_END.encode(ENCODING)
# How many records go to the file in one write.
BATCH = 5000

_Record = TypeVar("_Record", str, bytes)


def _encode_lines(lines: list[str]) -> bytes:
    return (LINE_END.join(lines) + LINE_END).encode(ENCODING)


def _join_encoded(records: list[bytes]) -> bytes:
    return _LINE_END_BYTES.join(records) + _LINE_END_BYTES


DELIMITER_SUBSTITUTE = "\u00a6"

_UNSAFE = re.compile(r"[|\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REPLACEMENTS = {"|": DELIMITER_SUBSTITUTE, "\r": " ", "\n": " ", "\t": " "}


def clean(value: object) -> str:
    """A value made safe for a field: no delimiter, no line break, None as empty."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: _REPLACEMENTS.get(m.group(0), ""), text)


# How often (in records) the writer reports progress.
PROGRESS_EVERY = 10_000


class RecordWriter:
    """Streams records into one or more files of one kind.

    ``name_for(number)`` names file ``number`` (1-based); the writer asks for a name only
    when it opens the file, so names can depend on how many files there are only through
    ``numbered`` (decided up front: a layout whose pattern always has a number, or any
    layout once a maximum is set).
    """

    def __init__(
        self,
        out_dir: Path,
        kind: str,
        name_for: Callable[[int], str],
        header: Sequence[str] | None,
        max_records: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if max_records is not None and max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.out_dir = out_dir
        self.kind = kind
        self.name_for = name_for
        self.header_line = (DELIMITER.join(header) + LINE_END) if header is not None else None
        self.max_records = max_records
        self.progress = progress
        self.files: list[OriginalFile] = []
        self.total = 0
        self._handle: BinaryIO | None = None
        self._in_file = 0

    def _open_next(self) -> None:
        self._close_current()
        path = self.out_dir / self.name_for(len(self.files) + 1)
        if path.exists():
            raise FileExistsError(f"{path.name} was already written by this run")
        self._handle = path.open("wb", buffering=1 << 20)
        if self.header_line is not None:
            self._handle.write(self.header_line.encode(ENCODING))
        self.files.append(OriginalFile(path=path, kind=self.kind, rows=0))
        self._in_file = 0

    def _close_current(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.files[-1].rows = self._in_file
            self._handle = None

    def write(self, values: Sequence[str]) -> None:
        """Write one record of already-formatted, already-clean values."""
        self.write_line(DELIMITER.join(values))

    def write_line(self, line: str) -> None:
        self._write([line], _encode_lines)

    def write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write many records; the fast path for a stream of formatted rows."""
        join = DELIMITER.join
        batch: list[str] = []
        for row in rows:
            batch.append(join(row))
            if len(batch) >= BATCH:
                self._write(batch, _encode_lines)
                batch = []
        if batch:
            self._write(batch, _encode_lines)

    def write_encoded_records(self, records: Iterable[bytes]) -> None:
        """Write records already joined with the delimiter and encoded (no line end),
        as ``exporters.stream.copy_records`` yields them from the database."""
        batch: list[bytes] = []
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH:
                self._write(batch, _join_encoded)
                batch = []
        if batch:
            self._write(batch, _join_encoded)

    def _write(self, records: list[_Record], encode: Callable[[list[_Record]], bytes]) -> None:
        """Write a batch of records, opening (and at the maximum, rolling over to) the
        next file as needed; a file is opened only for a record that goes into it."""
        start = 0
        while start < len(records):
            if self._handle is None or (
                self.max_records is not None and self._in_file >= self.max_records
            ):
                self._open_next()
            assert self._handle is not None
            room = len(records) - start
            if self.max_records is not None:
                room = min(room, self.max_records - self._in_file)
            self._handle.write(encode(records[start : start + room]))
            start += room
            self._counted(room)

    def _counted(self, records: int) -> None:
        before = self.total
        self._in_file += records
        self.total += records
        if self.progress is not None and before // PROGRESS_EVERY != self.total // PROGRESS_EVERY:
            self.progress(self.total)

    def close(self, write_empty: bool = True) -> list[OriginalFile]:
        """Finish; with ``write_empty``, an export without records still yields file 1."""
        if not self.files and write_empty:
            self._open_next()
        self._close_current()
        if self.progress is not None:
            self.progress(self.total)
        return self.files

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_current()
