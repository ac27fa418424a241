"""The export shape most types share: one query streamed into one file kind.

The exporter builds its query (an incremental type over its change window, from the
watermark the last created file stored up to this run's read snapshot) and names its
files; the rows, the header, the split at a maximum number of records and the progress
reports are handled here, the same way for every such type. The watermark returned is
stored by the caller only when it marks the files created. ``write_query`` is the way
every exporter streams a query into a writer, also those that write several kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from exporters.base import ExportContext, ExportResult
from exporters.stream import copy_records, stream
from exporters.writer import DELIMITER, RecordWriter
from loyalty.changefeed import Watermark, current_watermark

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exporters.base import AnySelect


def export_one_file(
    ctx: ExportContext,
    statement: AnySelect,
    *,
    name_for: Callable[[int], str],
    header: Sequence[str] | None,
    max_records: int | None = None,
    watermark: Watermark | None = None,
) -> ExportResult:
    """Write the rows of ``statement`` to the files of one kind (split at ``max_records``)."""
    writer = RecordWriter(
        ctx.out_dir,
        kind="",
        name_for=name_for,
        header=header,
        max_records=max_records,
        progress=ctx.progress,
    )
    write_query(writer, ctx.session, statement)
    return ExportResult(files=writer.close(), watermark=watermark)


def write_query(writer: RecordWriter, session: Session, statement: AnySelect) -> None:
    """Stream the records of ``statement`` into ``writer``: on PostgreSQL as the server's
    own COPY writes them, elsewhere as rows (the same bytes either way)."""
    records = copy_records(session, statement, DELIMITER)
    if records is not None:
        writer.write_encoded_records(records)
    else:
        writer.write_rows(stream(session, statement))


def progress_after(progress: Callable[[int], None], before: int) -> Callable[[int], None]:
    """Progress of one file kind's writer reported as records of the whole run (for the
    types that write several kinds, one writer after the other)."""
    return lambda rows: progress(before + rows)


def window_reference(
    query_for: Callable[[ExportContext, Watermark], AnySelect],
) -> Callable[[ExportContext], list[AnySelect]]:
    """``reference_queries`` of an incremental type: its query over the current window."""

    def reference(ctx: ExportContext) -> list[AnySelect]:
        return [query_for(ctx, current_watermark(ctx.session))]

    return reference
