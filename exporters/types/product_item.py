"""product_item — Product Item Sync.

Documented by the product field by field (7 fields plus optional custom fields); only the
start of its example row was captured. A cumulative snapshot of every product item
(SKU) on every run.

The flags Zero Points, Zero Retail and Drop From Basket are written ``-1`` (enabled) and
``0`` (disabled), the VB/Access convention the layout documents (the import file uses
0/1; the sync must not).

Whether the file has a header is unresolved in the product's docs: the captured example
starts with a data row. The default follows that example (no header); a designed
option adds a header of CamelCase field names for receivers that want one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from exporters import custom_columns
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
from exporters.naming import YMDHMS, NameRule
from exporters.single_file import export_one_file
from exporters.sql import bool_field, int_field, text_field
from loyalty.models import CustomFieldEntity, Product, ProductCustomValue

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("ProductItemId", "Product Item Id", "Numeric(10)", "platform-internal product item id"),
    Column("ProductItemName", "Product Item Name", "String(120)"),
    Column(
        "ProductItemExternalReference", "Product Item External Reference", "String(20)", "the SKU"
    ),
    Column(
        "ProductItemExternalRef",
        "ProductItem External Ref",
        "String(20)",
        "the second, user-maintained product reference; empty when not set",
    ),
    Column(
        "ZeroPoints",
        "Zero Points",
        "Numeric(2)",
        "-1 = enabled (earns no base points), 0 = disabled",
    ),
    Column(
        "ZeroRetail",
        "Zero Retail",
        "Numeric(2)",
        "-1 = enabled (retail value not stored), 0 = disabled",
    ),
    Column(
        "DropFromBasket",
        "Drop From Basket",
        "Numeric(2)",
        "-1 = enabled (dropped from transaction baskets), 0 = disabled",
    ),
)
CUSTOM = custom_columns.column_doc("product item", "Only with Include custom fields", True)

INCLUDE_CUSTOM_FIELDS = "include_custom_fields"
HEADER = "header"

# "ProductSync" + YYYYMMDDHHMMSS, no underscore, no file number (as documented).
NAME = NameRule("ProductSync{stamp}.txt", stamp=YMDHMS)


def query(fields: list[custom_columns.Definition]) -> AnySelect:
    statement = select(
        int_field(Product.id),
        text_field(Product.name),
        text_field(Product.sku),
        text_field(Product.alt_ref),
        bool_field(Product.zero_points, "-1", "0"),
        bool_field(Product.zero_retail, "-1", "0"),
        bool_field(Product.drop_from_basket, "-1", "0"),
    )
    statement = custom_columns.add_columns(
        statement, ProductCustomValue, "product_id", Product.id, fields
    )
    return statement.order_by(Product.id)


def _fields(ctx: ExportContext) -> list[custom_columns.Definition]:
    if not ctx.options.get(INCLUDE_CUSTOM_FIELDS):
        return []
    return custom_columns.definitions(ctx.session, CustomFieldEntity.PRODUCT)


def export(ctx: ExportContext) -> ExportResult:
    fields = _fields(ctx)
    header = [c.header for c in COLUMNS] + custom_columns.headers(fields)
    return export_one_file(
        ctx,
        query(fields),
        name_for=NAME.namer(ctx, numbered=False),
        header=header if ctx.options.get(HEADER) else None,
    )


SYNC_TYPE = SyncType(
    key="product_item",
    label="Product Item Sync",
    description="Every product item (SKU) with its flags, and optionally its custom fields.",
    semantics=Semantics.CUMULATIVE,
    file_kinds=(
        FileKind(
            key="",
            label="Product item file",
            columns=(*COLUMNS, CUSTOM),
            header=False,
            name_pattern="ProductSyncYYYYMMDDHHMMSS.txt",
        ),
    ),
    options=(
        Option(
            INCLUDE_CUSTOM_FIELDS,
            "Include custom fields",
            OptionKind.BOOL,
            False,
            help="Appends one column per product item custom field after Drop From Basket.",
        ),
        Option(
            HEADER,
            "Header line",
            OptionKind.BOOL,
            False,
            help=(
                "Writes a first line of field names (ProductItemId|ProductItemName|...). "
                "Off by default, as the product's example starts with data."
            ),
            documented=False,
        ),
    ),
    export=export,
    doc_status="documented",
    notes=(
        "Every product item on every run, ordered by Product Item Id.",
        "Header: the product's documentation does not say whether the file has one and its "
        "captured example starts with a data row (`324443|ANTIQUE HEADBOARD|0…`), so by "
        "default there is none. The designed option Header line writes one; its names are "
        "the field names in CamelCase, shown in the layout below, followed by the custom "
        "fields' external references.",
        "Flags are `-1` (enabled) and `0` (disabled), never 1/0 or True/False.",
        "Custom fields (option Include custom fields): appended after Drop From Basket, one "
        "column per product item custom field, ordered by definition id so a new field is "
        "always appended and never moves the others (the product fixes an order it does "
        "not document); each holds the stored value, empty when not set.",
    ),
    reference_queries=lambda ctx: [query(_fields(ctx))],
)
