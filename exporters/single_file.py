"""The export shape most types share: one query streamed into one file kind.

The exporter builds its query (an incremental type over its change window, from the
watermark the last created file stored up to this run's read snapshot) and names its
files; the rows, the header, the split at a maximum number of records and the progress
reports are handled here, the same way for every such type. The watermark returned is
stored by the caller only when it marks the files created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from exporters.base import ExportContext, ExportResult
from exporters.stream import stream
from exporters.writer import RecordWriter
from webapp.models.loyalty.changefeed import Watermark, current_watermark

if TYPE_CHECKING:
    from exporters.base import AnySelect


def export_one_file(
    ctx: ExportContext,
    statement: AnySelect,
    *,
    name_for: Callable[[int], str],
    header: Sequence[str] | None,
    max_records: int | None = None,
    watermark: dict[str, Any] | None = None,
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
    writer.write_rows(stream(ctx.session, statement))
    return ExportResult(files=writer.close(), watermark=watermark)


def window_reference(
    query_for: Callable[[ExportContext, Watermark], AnySelect],
) -> Callable[[ExportContext], list[AnySelect]]:
    """``reference_queries`` of an incremental type: its query over the current window."""

    def reference(ctx: ExportContext) -> list[AnySelect]:
        return [query_for(ctx, current_watermark(ctx.session))]

    return reference
