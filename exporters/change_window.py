"""The shape shared by the single-file incremental and event-stream exports.

Such a run reads one change window, from the watermark the last created file stored up
to this run's read snapshot, through one query, into one file kind. The watermark it
returns is the window's end; the caller stores it only when it marks the files created.
The bench and the tests run the same query through the database's own export tool
(``reference_queries``), so both come from here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from exporters.base import ExportContext, ExportResult
from exporters.stream import stream
from exporters.writer import RecordWriter
from webapp.models.loyalty.changefeed import Watermark, current_watermark

if TYPE_CHECKING:
    from exporters.base import AnySelect

QueryFor = Callable[[ExportContext, Watermark], "AnySelect"]


def export_window(
    ctx: ExportContext,
    query_for: QueryFor,
    *,
    name_for: Callable[[int], str],
    header: Sequence[str] | None,
    max_records: int | None = None,
) -> ExportResult:
    """Write the rows of ``query_for`` over this run's change window to one file kind."""
    until = current_watermark(ctx.session)
    writer = RecordWriter(
        ctx.out_dir,
        kind="",
        name_for=name_for,
        header=header,
        max_records=max_records,
        progress=ctx.progress,
    )
    writer.write_rows(stream(ctx.session, query_for(ctx, until)))
    return ExportResult(files=writer.close(), watermark=until)


def window_reference(query_for: QueryFor) -> Callable[[ExportContext], list[AnySelect]]:
    """The ``reference_queries`` of such a type: its query over the same window."""

    def reference(ctx: ExportContext) -> list[AnySelect]:
        return [query_for(ctx, current_watermark(ctx.session))]

    return reference
