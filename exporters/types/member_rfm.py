"""member_rfm — Member RFM Sync.

Documented completely by the product (ten fields, example rows), with two gaps this module
closes by design:

- The Format block says "no header record" while the example shows one. A per-sync
  option decides; its default follows the Format block (no header), as the spec advises,
  and the example's names are the header when it is switched on.
- The file name carries a token ``XXXXX`` that the product never defines. It is a per-sync
  text option here; left empty it is the database number (the spec's best guess at what
  the token stood for), and whatever is set must be safe in a file name, because a
  receiver's scripts match on the name.

Cumulative: every member who is not deleted, on every run, with their current scores. A
member without scores (new or inactive: the analytics rebuild has not scored them) is
still written, with the four score fields empty, as the product's RFM article describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    Option,
    OptionKind,
    Semantics,
    SyncType,
)
from exporters.naming import MDYHMS, NameRule
from exporters.options import max_records_option
from exporters.single_file import export_one_file
from exporters.sql import int_field, text_field
from loyalty.models import Member, MemberRfm

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("InternalMemberId", "Internal Member Id", "Numeric(10)", "platform-internal member id"),
    Column("FirstName", "First Name", "String(60)"),
    Column("MiddleName", "Middle Name", "String(30)"),
    Column("LastName", "Last Name", "String(60)"),
    Column("Suffix", "Suffix", "String(5)"),
    Column("MemberAccountId", "Member Account Id", "Alphanumeric(60)", "primary account id"),
    Column("RecencyNum", "Recency Number", "Integer", "0-5; empty when the member has no scores"),
    Column(
        "FrequencyNum", "Frequency Number", "Integer", "0-5; empty when the member has no scores"
    ),
    Column("MonetaryNum", "Monetary Number", "Integer", "0-5; empty when the member has no scores"),
    Column(
        "MemberRFM",
        "Member RFM",
        "Integer",
        "the three digits R, F, M concatenated (423); empty when the member has no scores",
    ),
)

NAME = NameRule(
    "Standard_Member_RFM_Sync_{ref}_{stamp}{number}.txt",
    stamp=MDYHMS,
    number="_##",
    always_numbered=True,
)

# Letters, digits, "-" and "_": nothing a receiver's file matching or a shell could read
# differently ("." would look like an extension, "/" a folder).
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
TOKEN_MAX = 20


@dataclass(frozen=True)
class NameTokenOption(Option):
    """A text option that must be usable as it is inside a file name."""

    def clean(self, raw: Any) -> Any:
        text = super().clean(raw)
        if text and _TOKEN.fullmatch(text) is None:
            raise ValueError(
                f"{self.label} may hold only letters, digits, '-' and '_' (it goes into the "
                "file name)."
            )
        return text


OPTIONS = (
    Option(
        "header",
        "Header record",
        OptionKind.BOOL,
        default=False,
        help="Write the header line of the product's example. Off by default, as the "
        "product's Format block says (its example contradicts it).",
        documented=False,
    ),
    NameTokenOption(
        "name_token",
        "File name token (XXXXX)",
        OptionKind.TEXT,
        default="",
        maximum=TOKEN_MAX,
        help="The XXXXX part of the file name: letters, digits, '-' and '_', at most "
        f"{TOKEN_MAX}. Empty: the database number.",
        documented=False,
    ),
    max_records_option("_01, _02, ...", always_numbered=True),
)


def name_token(ctx: ExportContext) -> str:
    """The file name's XXXXX: the option's text, or the database number when it is empty."""
    token = str(ctx.options.get("name_token") or "").strip()
    return token or str(ctx.database_number)


def query() -> AnySelect:
    # Member RFM: '' || '' || '' is '' for a member without scores, so no CASE is needed.
    rfm = int_field(MemberRfm.recency) + int_field(MemberRfm.frequency)
    return (
        select(
            int_field(Member.id),
            text_field(Member.first_name),
            text_field(Member.middle_name),
            text_field(Member.last_name),
            text_field(Member.suffix),
            text_field(Member.primary_account_id),
            int_field(MemberRfm.recency),
            int_field(MemberRfm.frequency),
            int_field(MemberRfm.monetary),
            rfm + int_field(MemberRfm.monetary),
        )
        .outerjoin(MemberRfm, MemberRfm.member_id == Member.id)
        .where(Member.deleted_at.is_(None))
        .order_by(Member.id)
    )


def export(ctx: ExportContext) -> ExportResult:
    max_records = ctx.options.get("max_records")
    return export_one_file(
        ctx,
        query(),
        name_for=NAME.namer(ctx, numbered=True, ref=name_token(ctx)),
        header=[c.header for c in COLUMNS] if ctx.options.get("header") else None,
        max_records=int(max_records) if max_records else None,
    )


SYNC_TYPE = SyncType(
    key="member_rfm",
    label="Member RFM Sync",
    description="RFM (recency, frequency, monetary) scores and basic data of every member.",
    semantics=Semantics.CUMULATIVE,
    file_kinds=(
        FileKind(
            key="",
            label="Member RFM file",
            columns=COLUMNS,
            header=False,
            name_pattern="Standard_Member_RFM_Sync_XXXXX_MMDDYYYYHHMMSS_##.txt "
            "(XXXXX = the File name token option, or the database number)",
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="documented",
    notes=(
        "Every member who is not deleted, on every run, in internal member id order. A "
        "member the analytics rebuild has not scored yet is written with Recency, "
        "Frequency, Monetary and Member RFM empty. Run the sync after the daily rebuild.",
        "Header: the product's Format block says there is none, its example shows "
        "`InternalMemberId|FirstName|MiddleName|LastName|Suffix|MemberAccountId|RecencyNum|"
        "FrequencyNum|MonetaryNum|MemberRFM`. The Header record option writes that line "
        "(at the top of every numbered file); it is off by default, as the Format block says.",
        "File name: the product leaves XXXXX undefined. Here it is the File name token "
        "option (letters, digits, `-`, `_`), or the database number when the option is "
        "empty. The file number `_##` is always present (`_01` for a single file); with "
        "Max records per file set, the records are split into `_01`, `_02`, ... in order.",
        "Middle Name (String(30)) and Suffix (String(5)) are written whole: the database "
        "holds up to 60 characters and a receiver is better served by the full value than "
        "by a silently truncated one.",
    ),
    reference_queries=lambda ctx: [query()],
)
