"""The Member Extended Sync's entry point: ``export`` writes a run's one file,
``SYNC_TYPE`` declares the type to the registry, with the notes the layout page and the
docs show.

A run reads the change log's member triggers from the last created file's watermark up
to this run's read snapshot and writes them as one file without a header; the watermark
it returns is stored only when the file is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exporters.base import ExportContext, ExportResult, FileKind, Semantics, SyncType
from exporters.single_file import export_one_file, window_reference
from exporters.types.member_extended.layout import (
    OPTIONS,
    POINTS,
    RECORD_TYPES,
    STANDARD,
    WITH_POINTS,
)
from exporters.types.member_extended.records import query
from loyalty.changefeed import Watermark, current_watermark

if TYPE_CHECKING:
    from exporters.base import AnySelect

NOTES = (
    "Records: the change log's member triggers committed since the last created file "
    "(kind `member`, code = record type). Each record carries the member's values as they "
    "are when the run starts, not as they were when the trigger fired; every record starts "
    "with its record type and the internal member id. No header; the number of fields "
    "depends on the record type (see each record type below).",
    "Repeated triggers in one run: one record per member for Core (1), Email (3), Phone (4), "
    "Address (5), Delete (7) and Head of Household (9), however often they fired; one record "
    "per member and account id (2), club (6), custom field (10) and child (11); and one "
    "record per point movement (8), because each movement is an event of its own, not a "
    "state. An Account Id trigger with no account id (an id type's rank changed and moved "
    "the member's primary id) describes the member's primary account id now, and merges "
    "with a trigger of that same id.",
    "Deleted members: a member deleted when the run starts gets only the Delete record (7), "
    "written when the deletion is in this run's window; their other triggers in the window "
    "are dropped, since the receiver removes the member anyway.",
    "Order: by internal member id, then record type (so a new member's Core record comes "
    "before its other records), then the subject: account id row, club, ledger entry "
    "(chronological), custom field or child, by internal id.",
    "Points Setting: off, the file is `Standard_Member_Sync_YYYYMMDDHHMMSS.txt`, Point "
    "Change triggers are not written and Core has 23 fields. On, the file is "
    "`Standard_Member_With_Points_Sync_YYYYMMDDHHMMSS.txt`, every point movement is a "
    "Point Change record (8) carrying the member's balance when the run starts, and Core has 27 "
    "fields (points balance and lifetime earned / redeemed / expired appended). Point "
    "movements of runs made while the setting was off are not sent later.",
    "First run: a new sync's first file holds every member trigger the change log holds "
    "(the initial load of the captured history); later files hold what changed since the "
    "previous created file. Nothing is lost or repeated between consecutive files, also when "
    "changes commit while a file is being built.",
    "Values: timestamps are in the database timezone, `YYYY-MM-DD HH:MM:SS`; dates "
    "`YYYY-MM-DD`; points with two decimals; phone numbers as displayed in the app; a `|` "
    "in a value is written `¦`, line breaks and tabs as spaces. The file-name timestamp is "
    "the run's start in the sync's timezone. One file per run (the product documents no "
    "splitting); a run without triggers writes an empty file.",
)


def _run_query(ctx: ExportContext, until: Watermark) -> AnySelect:
    dialect = ctx.session.get_bind().dialect.name
    points = bool(ctx.options.get(POINTS))
    return query(ctx.watermark, until, dialect, ctx.database_timezone, points)


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    rule = WITH_POINTS if ctx.options.get(POINTS) else STANDARD
    return export_one_file(
        ctx,
        _run_query(ctx, until),
        name_for=rule.namer(ctx, numbered=False),
        header=None,
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="member_extended",
    label="Member Extended Sync",
    description="Member changes since the last file, one record per trigger (core data, "
    "account ids, email, phones, address, clubs, deletion, point changes, household, "
    "custom fields, children), each with the member's current values.",
    semantics=Semantics.INCREMENTAL,
    file_kinds=(
        FileKind(
            key="",
            label="Member file",
            columns=(),
            header=False,
            name_pattern="Standard_Member_Sync_YYYYMMDDHHMMSS.txt; with Points Setting: "
            "Standard_Member_With_Points_Sync_YYYYMMDDHHMMSS.txt",
            record_types=RECORD_TYPES,
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="partial",
    notes=NOTES,
    reference_queries=window_reference(_run_query),
)
