"""member_product_purchases — Member Product Purchases Sync.

Documented completely by the product (header, five fields, example rows). Hybrid: the
*members* are incremental (those with a transaction posted since the last created file,
read from the change log), the *data* is cumulative (each such member's whole lifetime of
product purchases, ranked by quantity).

Design decisions the product's page leaves open:

- Quantities come from ``member_product_purchases``, which the transaction services keep
  as each member's net lifetime quantity per product: a cancelled transaction takes its
  quantities back, and a return line (negative quantity) nets against purchases. A
  product whose net quantity is zero or less is not "purchased" and is left out.
- Ties: ``RANK()`` (standard competition ranking: 1, 1, 3). A product's rank is one more
  than the number of products the member bought more of, so rank 3 still means "two
  products were bought more often", whatever the ties. Within a rank, products are in
  SKU order, so the file is the same bytes for the same data.
- First run (no watermark): every member with purchases, so a receiver starts from the
  full picture; later runs only the members the change log names.
- Account Id is the layout's only member key. A member without one (no active account
  id, so no primary) is left out: a row with an empty key cannot be attributed, and its
  ranks would read as another member's. Layouts that also carry the internal member id
  keep such members (the receiver has a key); this is the one that does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

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
from exporters.naming import YMD, YMDHMS, NameRule
from exporters.single_file import export_one_file
from exporters.sql import int_field, text_field
from loyalty.changefeed import Watermark, changes_select, current_watermark
from loyalty.models import (
    ChangeKind,
    ChangeLog,
    Member,
    MemberProductPurchase,
    Product,
    TransactionTrigger,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exporters.base import AnySelect

COLUMNS = (
    Column("Account Id", "Account Id", "String(60)", "the member's primary account id"),
    Column(
        "Product Item Rank",
        "Product Item Rank",
        "Numeric(20)",
        "rank of the product among the member's purchases by quantity, 1 = most; ties "
        "share a rank and the next rank skips (1, 1, 3)",
    ),
    Column(
        "Product Item External Reference",
        "Product Item External Reference",
        "String(20)",
        "the SKU",
    ),
    Column("Product Item Name", "Product Item Name", "String(120)"),
    Column(
        "Qty Purchased",
        "Qty Purchased",
        "Numeric(20)",
        "net lifetime quantity (cancellations and returns taken off)",
    ),
)

NAME = NameRule("SB_MemberProductPurchaseRank_{stamp}.txt", stamp=YMD, repeat_stamp=YMDHMS)

OPTIONS = (
    Option(
        "include_cancellations",
        "Also members with cancelled transactions",
        OptionKind.BOOL,
        default=False,
        help="Also send the members one of whose transactions was cancelled since the last "
        "run (their quantities went down). Off: only members with a transaction posted, as "
        "the product documents.",
        documented=False,
    ),
)


def trigger_codes(include_cancellations: bool) -> list[str]:
    codes = [TransactionTrigger.POSTED.value]
    if include_cancellations:
        codes.append(TransactionTrigger.CANCELLED.value)
    return codes


def query(since: Watermark | None, until: Watermark, dialect: str, codes: list[str]) -> AnySelect:
    """The file's rows: changed members' (all members' on a first run) ranked purchases."""
    mpp = MemberProductPurchase
    rank = func.rank().over(partition_by=mpp.member_id, order_by=mpp.quantity.desc())
    statement = (
        select(
            text_field(Member.primary_account_id),
            int_field(rank),
            text_field(Product.sku),
            text_field(Product.name),
            int_field(mpp.quantity),
        )
        .select_from(mpp)
        .join(Member, Member.id == mpp.member_id)
        .join(Product, Product.id == mpp.product_id)
        .where(
            mpp.quantity > 0,
            Member.deleted_at.is_(None),
            # The only member key: a row without it cannot be attributed (module docstring).
            Member.primary_account_id.is_not(None),
            Member.primary_account_id != "",
        )
        # Rank ascending is quantity descending; ordering by the quantity (not the rank's
        # alias) lets SQLite read the member-ordered primary key and sort each member's
        # few rows, instead of materializing the ranks and sorting them all again.
        .order_by(mpp.member_id, mpp.quantity.desc(), Product.sku)
    )
    if since is None:
        return statement
    changed = (
        changes_select(since, until, dialect, kinds=[ChangeKind.TRANSACTION], codes=codes)
        .with_only_columns(ChangeLog.member_id)
        .order_by(None)
    )
    return statement.where(mpp.member_id.in_(changed))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _query_for(ctx: ExportContext, until: Watermark) -> AnySelect:
    codes = trigger_codes(bool(ctx.options.get("include_cancellations")))
    return query(ctx.watermark, until, _dialect(ctx.session), codes)


def export(ctx: ExportContext) -> ExportResult:
    # Taken inside the run's snapshot, before the rows are read: the window ends here.
    until = current_watermark(ctx.session)
    return export_one_file(
        ctx,
        _query_for(ctx, until),
        name_for=NAME.namer(ctx, numbered=False),
        header=[c.header for c in COLUMNS],
        watermark=until,
    )


SYNC_TYPE = SyncType(
    key="member_product_purchases",
    label="Member Product Purchases Sync",
    description="For every member with a transaction posted since the last run: their "
    "lifetime product purchases, ranked by quantity.",
    semantics=Semantics.HYBRID,
    file_kinds=(
        FileKind(
            key="",
            label="Member product purchase rank file",
            columns=COLUMNS,
            header=True,
            name_pattern="SB_MemberProductPurchaseRank_YYYYMMDD.txt "
            "(a second run on the same day: SB_MemberProductPurchaseRank_YYYYMMDDHHMMSS.txt)",
        ),
    ),
    export=export,
    options=OPTIONS,
    doc_status="documented",
    notes=(
        "Members: those with at least one transaction posted (change log "
        "`transaction`/`POST`) since the last created file, each once however many "
        "transactions they posted; with the option on, also those with a transaction "
        "cancelled (`CNCL`). The first run (no earlier file) writes every member with "
        "purchases, so a receiver starts complete. Deleted members are left out.",
        "Members without an account id: left out. Account Id is the only member key of "
        "this layout, so a row without one could not be attributed and its ranks would run "
        "together with another member's. Such a member (no active account id, hence no "
        "primary account id) is written again once they have one and are among a file's "
        "members (a transaction posted after that). Layouts that "
        "also write the internal member id keep members without an account id (their "
        "Account Id field is empty).",
        "Data: for each of those members, every product with a net lifetime quantity "
        "above zero. Cancelled transactions take their quantities back and return lines "
        "(negative quantities) net against purchases, as the loyalty database keeps them; "
        "a product that nets to zero is not written. A member whose products all net to "
        'zero has no rows (the layout cannot say "nothing any more").',
        "Rank: 1 is the product bought most. Ties share a rank and the next rank skips "
        "(SQL RANK: quantities 5, 5, 2 rank 1, 1, 3). Rows are in member order (internal "
        "id), then rank, then SKU, so equal data gives the same bytes.",
        "File name: the run's date in the sync's timezone. A second run on the same day "
        "adds the time (`SB_MemberProductPurchaseRank_YYYYMMDDHHMMSS.txt`) so that no "
        "earlier file is replaced at a receiver. Not split: the product documents no file "
        "number.",
    ),
    reference_queries=lambda ctx: [_query_for(ctx, current_watermark(ctx.session))],
)
