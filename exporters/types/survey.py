"""survey — Survey Sync.

Documented completely by the product (fields, header, example row): every answer to a
survey, trivia or poll question registered since the last run (incremental), in up to
three files per run, one per question type, all with the same layout.

Answers come from the change log (kind ``survey``, one ``ANSW`` row per answer row) in
the window between the last created file's watermark and this run's snapshot. A
multi-select question stores one answer row per selected choice, so a member who picks
three toppings gives three rows, each with ``MultipleAnswerType`` ``TRUE``.

A question type with no new answers writes no file (the product's docs imply it: "up to
three files"); a run in which no type has answers has no file at all, and the platform
records it as "no data" (the watermark still moves: nothing was held back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Semantics,
    SyncType,
)
from exporters.naming import YMDHMS, NameRule
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import progress_after, write_query
from exporters.sql import bool_field, int_field, text_field, timestamp_field
from exporters.writer import RecordWriter
from loyalty.changefeed import Watermark, current_watermark, window
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    Member,
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionSet,
)

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("QuestionName", "Question Name", "String(60)"),
    Column("SBInternalMemberId", "Member Id", "Numeric(10)", "internal member id"),
    Column("AccountId", "Account Id", "String(60)", "the member's primary account id (current)"),
    Column("FirstName", "First Name", "String(60)"),
    Column("LastName", "Last Name", "String(60)"),
    Column("QuestionSetExternalReference", "Question Set External Reference", "String(20)"),
    Column(
        "Answer",
        "Answer",
        "String(120)",
        "the answer text (the chosen choice's text at the time, or free text); "
        "one row per selected answer",
    ),
    Column(
        "AnswerTimestamp",
        "Answer Timestamp",
        "Date/Time YYYY-MM-DD HH:MM:SS.nnn",
        "UTC, 24 h, with milliseconds",
    ),
    Column(
        "MultipleAnswerType",
        "Multiple Answer Type",
        "Boolean TRUE/FALSE",
        "whether the question allows several answers to be selected",
    ),
)

MAX_RECORDS_OPTION = max_records_option("_01, _02, ...", always_numbered=True)

# (question kind, file kind label, name rule), in the product's order.
FILES: tuple[tuple[QuestionKind, str, NameRule], ...] = tuple(
    (
        kind,
        label,
        NameRule(
            f"{prefix}_{{stamp}}{{number}}.txt", stamp=YMDHMS, number="_##", always_numbered=True
        ),
    )
    for kind, label, prefix in (
        (QuestionKind.SURVEY, "Survey results file", "SurveyResultsSync"),
        (QuestionKind.TRIVIA, "Trivia results file", "TriviaResultsSync"),
        (QuestionKind.POLL, "Poll results file", "PollResultsSync"),
    )
)


def query(kind: QuestionKind, since: Watermark | None, until: Watermark, dialect: str) -> AnySelect:
    """The answers to questions of ``kind`` logged in ``(since, until]``, oldest first."""
    logged = select(ChangeLog.subject_id).where(
        window(since, until, dialect), ChangeLog.kind == ChangeKind.SURVEY
    )
    return (
        select(
            text_field(Question.name),
            int_field(Member.id),
            text_field(Member.primary_account_id),
            text_field(Member.first_name),
            text_field(Member.last_name),
            text_field(QuestionSet.ext_ref),
            text_field(QuestionAnswer.answer),
            timestamp_field(QuestionAnswer.answered_at, "UTC", millis=True),
            bool_field(Question.multiple_answers, "TRUE", "FALSE"),
        )
        .join(Question, Question.id == QuestionAnswer.question_id)
        .join(QuestionSet, QuestionSet.id == Question.question_set_id)
        .join(Member, Member.id == QuestionAnswer.member_id)
        .where(Question.kind == kind, QuestionAnswer.id.in_(logged))
        .order_by(QuestionAnswer.answered_at, QuestionAnswer.id)
    )


def _queries(ctx: ExportContext, until: Watermark) -> list[tuple[QuestionKind, AnySelect]]:
    dialect = ctx.session.get_bind().dialect.name
    return [(kind, query(kind, ctx.watermark, until, dialect)) for kind, _, _ in FILES]


def export(ctx: ExportContext) -> ExportResult:
    until = current_watermark(ctx.session)
    max_records = ctx.options.get(MAX_RECORDS)
    rules = {kind: rule for kind, _, rule in FILES}
    result = ExportResult(watermark=until)
    written = 0
    for kind, statement in _queries(ctx, until):
        writer = RecordWriter(
            ctx.out_dir,
            kind=kind.value,
            name_for=rules[kind].namer(ctx, numbered=True),
            header=[c.header for c in COLUMNS],
            max_records=max_records,
            progress=progress_after(ctx.progress, written),
        )
        write_query(writer, ctx.session, statement)
        # A question type without answers has no file (the writer opens one only for a
        # record, and is told not to write an empty one).
        result.files += writer.close(write_empty=False)
        written += writer.total
    return result


def _reference(ctx: ExportContext) -> list[AnySelect]:
    return [statement for _, statement in _queries(ctx, current_watermark(ctx.session))]


SYNC_TYPE = SyncType(
    key="survey",
    label="Survey Sync",
    description="Every answer to a survey, trivia or poll question since the last run "
    "(incremental), one file per question type.",
    semantics=Semantics.INCREMENTAL,
    file_kinds=tuple(
        FileKind(
            key=kind.value,
            label=label,
            columns=COLUMNS,
            header=True,
            name_pattern=rule.template.format(stamp="YYYYMMDDHHMMSS", number="_##"),
        )
        for kind, label, rule in FILES
    ),
    export=export,
    options=(MAX_RECORDS_OPTION,),
    doc_status="documented",
    notes=(
        "Each run writes the answers registered since the last created file (the change "
        "log's `survey` entries after the stored watermark, up to the run's read snapshot), "
        "each exactly once, in up to three files: survey, trivia and poll questions. All "
        "three have the same layout and header. A question type with no new answers writes "
        "no file; a run without any answers writes no file at all and is recorded as "
        '"no data". First run: every answer the change log holds.',
        "Multi-select questions: one row per selected answer (the answers of one submission "
        "share the Answer Timestamp); `MultipleAnswerType` is `TRUE` on each.",
        "Rows are in the order the answers were given (Answer Timestamp), then in the order "
        "they were recorded. Account id and names are the member's current values; the "
        "answer text is the text the member chose or typed at the time.",
        "The file number `_##` is always present (`_01` for a single file). Designed here: "
        "the option *Max records per file* splits each question type's file into "
        "`_01`, `_02`, ..., each with the header.",
    ),
    reference_queries=_reference,
)
