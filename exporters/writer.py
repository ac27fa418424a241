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
from typing import IO

from exporters.base import OriginalFile

DELIMITER = "|"
LINE_END = "\r\n"
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
        self._handle: IO[str] | None = None
        self._in_file = 0

    def _open_next(self) -> None:
        self._close_current()
        path = self.out_dir / self.name_for(len(self.files) + 1)
        if path.exists():
            raise FileExistsError(f"{path.name} was already written by this run")
        self._handle = path.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        if self.header_line is not None:
            self._handle.write(self.header_line)
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
        if self._handle is None or (
            self.max_records is not None and self._in_file >= self.max_records
        ):
            self._open_next()
        assert self._handle is not None
        self._handle.write(line)
        self._handle.write(LINE_END)
        self._in_file += 1
        self.total += 1
        if self.progress is not None and self.total % PROGRESS_EVERY == 0:
            self.progress(self.total)

    def write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write many records; the fast path for a stream of formatted rows."""
        join = DELIMITER.join
        if self.max_records is None:
            if self._handle is None:
                self._open_next()
            handle = self._handle
            assert handle is not None
            batch: list[str] = []
            for row in rows:
                batch.append(join(row))
                if len(batch) >= 5000:
                    self._flush_batch(handle, batch)
                    batch = []
            if batch:
                self._flush_batch(handle, batch)
            return
        for row in rows:
            self.write_line(join(row))

    def _flush_batch(self, handle: IO[str], batch: list[str]) -> None:
        handle.write(LINE_END.join(batch))
        handle.write(LINE_END)
        before = self.total
        self._in_file += len(batch)
        self.total += len(batch)
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
