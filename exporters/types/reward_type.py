"""reward_type — Reward Type Sync.

Documented completely by the product (fields, header line with spaces, example rows):
the current definition of every reward type, on every run (cumulative).

"Every reward type" includes types that can no longer be issued (inactive): the Reward
Sync keeps writing records of rewards issued from them (redemptions, expiries...), and a
receiver needs their definitions to read those records. The layout has no column that
says whether a type is still active, so nothing is added for it.
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
from exporters.single_file import export_one_file
from exporters.sql import int_field, text_field
from loyalty.models import RewardCategory, RewardType

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("Internal Reward Type Id", "Internal Reward Type Id", "Numeric(10)"),
    Column("Reward Type Name", "Reward Type Name", "String(120)"),
    Column(
        "Reward Type External Reference",
        "Reward Type External Reference",
        "String(20)",
        "empty when the type has none",
    ),
    Column("Reward Category Name", "Reward Category Name", "String(120)"),
    Column(
        "Reward Master Type",
        "Reward Master Type",
        "String(10)",
        "one of Choice, Forced, Gift Card, Internal, Recurring, Variable",
    ),
)

MAX_RECORDS_OPTION = max_records_option("_1, _2, ...", documented=True)

# {Database #} and {Sync Id}: the customer database number and this sync's id. The
# source shows a stray space before _{File Number}; it is a typo and is not written.
NAME = NameRule(
    "Standard_Reward_Type_Sync_{db}_{sync}_{stamp}{number}.txt", stamp=YMDHMS, number="_#"
)


def query() -> AnySelect:
    return (
        select(
            int_field(RewardType.id),
            text_field(RewardType.name),
            text_field(RewardType.ext_ref),
            text_field(RewardCategory.name),
            text_field(RewardType.master_type),
        )
        .join(RewardCategory, RewardCategory.id == RewardType.category_id)
        .order_by(RewardType.id)
    )


def export(ctx: ExportContext) -> ExportResult:
    max_records = ctx.options.get(MAX_RECORDS)
    return export_one_file(
        ctx,
        query(),
        name_for=NAME.namer(
            ctx,
            numbered=max_records is not None,
            db=str(ctx.database_number),
            sync=str(ctx.sync_id),
        ),
        header=[c.header for c in COLUMNS],
        max_records=max_records,
    )


SYNC_TYPE = SyncType(
    key="reward_type",
    label="Reward Type Sync",
    description="The current definition of every reward type (cumulative).",
    semantics=Semantics.CUMULATIVE,
    file_kinds=(
        FileKind(
            key="",
            label="Reward type file",
            columns=COLUMNS,
            header=True,
            name_pattern="Standard_Reward_Type_Sync_{Database #}_{Sync Id}_YYYYMMDDHHMMSS.txt; "
            "with max records per file: "
            "Standard_Reward_Type_Sync_{Database #}_{Sync Id}_YYYYMMDDHHMMSS_{File Number}.txt",
        ),
    ),
    export=export,
    options=(MAX_RECORDS_OPTION,),
    doc_status="documented",
    notes=(
        "Every reward type is written on every run, in order of its internal id, including "
        "types that can no longer be issued: Reward Sync records of rewards issued from them "
        "still name them.",
        "`{Database #}` is the customer database number and `{Sync Id}` this sync's id. The "
        "product's page shows a space before `_{File Number}`; it is a typo and no space is "
        "written. Without a maximum the name has no file number.",
    ),
    reference_queries=lambda ctx: [query()],
)
