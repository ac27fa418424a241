"""location — Location Sync.

Partly documented by the product: the stored copies of its page stop after the 10th field
(Address1). Those 10 fields are binding in their order; the remaining detail columns
(address lines 2 and 3, city, region, postal code, phone, email, timezone) are designed
here from the Location admin page and the Location Import file, in the same style
(CamelCase header names, ``True``/``False`` booleans). A cumulative snapshot of every
location on every run.

Sync Location Details: the product says the extra columns "can be included or omitted",
so when the option is off the optional columns are left out of the file (not written
empty); the columns that are always there keep their relative order.

LocationIsValidForFeedback has the sync column's polarity; the app's checkbox is
"Location is Invalid for Feedback". The model already stores the sync's polarity
(``Location.valid_for_feedback``), so the value is written as stored.
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
from exporters.naming import MDYHMS, NameRule
from exporters.single_file import export_one_file
from exporters.sql import Expr, bool_field, int_field, text_field
from loyalty.models import (
    BusinessUnit,
    CustomFieldEntity,
    Location,
    LocationCustomValue,
    PosCategory,
)

if TYPE_CHECKING:
    from exporters.base import AnySelect

DETAIL = "Only with Sync Location Details (omitted otherwise)"


def _detail(
    header: str, label: str, type_: str, notes: str = "", documented: bool = True
) -> Column:
    return Column(header, label, type_, f"{DETAIL}. {notes}".strip(), documented=documented)


# (column, value expression, optional?) in file order.
FIELDS: tuple[tuple[Column, Expr, bool], ...] = (
    (
        Column("LocationId", "LocationId", "Integer", "platform-internal location id"),
        int_field(Location.id),
        False,
    ),
    (Column("LocationName", "LocationName", "String(120)"), text_field(Location.name), False),
    (
        Column("LocationExternalReference", "LocationExternalReference", "String(20)"),
        text_field(Location.ext_ref),
        False,
    ),
    (
        _detail("Inactive", "Inactive", "Boolean", "True / False"),
        bool_field(Location.inactive),
        True,
    ),
    (
        _detail(
            "LocationIsValidForFeedback",
            "LocationIsValidForFeedback",
            "Boolean",
            "True / False; the negation of the app's 'Location is Invalid for Feedback'",
        ),
        bool_field(Location.valid_for_feedback),
        True,
    ),
    (
        Column("BusinessUnitExternalReference", "BusinessUnitExternalReference", "String(20)"),
        text_field(BusinessUnit.ext_ref),
        False,
    ),
    (
        _detail(
            "POSCategoryExternalReference",
            "POSCategoryExternalReference",
            "String(20)",
            "empty when the location has no POS category",
        ),
        text_field(PosCategory.ext_ref),
        True,
    ),
    (_detail("CountryName", "CountryName", "String(120)"), text_field(Location.country_name), True),
    (
        _detail("CountryAbbreviation", "CountryAbbreviation", "String(2)"),
        text_field(Location.country_abbr),
        True,
    ),
    (_detail("Address1", "Address1", "String(120)"), text_field(Location.address1), True),
    (
        _detail("Address2", "Address2", "String(120)", documented=False),
        text_field(Location.address2),
        True,
    ),
    (
        _detail("Address3", "Address3", "String(120)", documented=False),
        text_field(Location.address3),
        True,
    ),
    (_detail("City", "City", "String(120)", documented=False), text_field(Location.city), True),
    (
        _detail("RegionName", "RegionName", "String(120)", "state or province", documented=False),
        text_field(Location.region_name),
        True,
    ),
    (
        _detail(
            "RegionAbbreviation",
            "RegionAbbreviation",
            "String(8)",
            "e.g. ON, NY",
            documented=False,
        ),
        text_field(Location.region_abbr),
        True,
    ),
    (
        _detail("PostalCode", "PostalCode", "String(14)", documented=False),
        text_field(Location.postal_code),
        True,
    ),
    (
        _detail(
            "PhoneNumber", "PhoneNumber", "String(30)", "as displayed in the app", documented=False
        ),
        text_field(Location.phone),
        True,
    ),
    (
        _detail("EmailAddress", "EmailAddress", "String(254)", documented=False),
        text_field(Location.email),
        True,
    ),
    (
        _detail(
            "TimeZone",
            "TimeZone",
            "String(64)",
            "IANA zone name (e.g. America/Toronto); the location's source dates are local to it",
            documented=False,
        ),
        text_field(Location.timezone),
        True,
    ),
)
COLUMNS = tuple(column for column, _, _ in FIELDS)
CUSTOM = custom_columns.column_doc(
    "location", "Only with Include custom fields; after the last column written", False
)

SYNC_DETAILS = "sync_location_details"
INCLUDE_CUSTOM_FIELDS = "include_custom_fields"

# "LocationSync" + MMDDYYYYHHMMSS: no underscore, month first (as documented).
NAME = NameRule("LocationSync{stamp}.txt", stamp=MDYHMS)


def _chosen(details: bool) -> list[tuple[Column, Expr, bool]]:
    return [field for field in FIELDS if details or not field[2]]


def query(details: bool, fields: list[custom_columns.Definition]) -> AnySelect:
    statement = (
        select(*(value for _, value, _ in _chosen(details)))
        .select_from(Location)
        .join(BusinessUnit, BusinessUnit.id == Location.business_unit_id)
        .outerjoin(PosCategory, PosCategory.id == Location.pos_category_id)
    )
    statement = custom_columns.add_columns(
        statement, LocationCustomValue, "location_id", Location.id, fields
    )
    return statement.order_by(Location.id)


def _fields(ctx: ExportContext) -> list[custom_columns.Definition]:
    if not ctx.options.get(INCLUDE_CUSTOM_FIELDS):
        return []
    return custom_columns.definitions(ctx.session, CustomFieldEntity.LOCATION)


def _query(ctx: ExportContext) -> AnySelect:
    return query(bool(ctx.options.get(SYNC_DETAILS)), _fields(ctx))


def export(ctx: ExportContext) -> ExportResult:
    details = bool(ctx.options.get(SYNC_DETAILS))
    fields = _fields(ctx)
    header = [column.header for column, _, _ in _chosen(details)] + custom_columns.headers(fields)
    return export_one_file(
        ctx,
        query(details, fields),
        name_for=NAME.namer(ctx, numbered=False),
        header=header,
    )


SYNC_TYPE = SyncType(
    key="location",
    label="Location Sync",
    description="Every location with its business unit, and optionally its details and custom fields.",
    semantics=Semantics.CUMULATIVE,
    file_kinds=(
        FileKind(
            key="",
            label="Location file",
            columns=(*COLUMNS, CUSTOM),
            header=True,
            name_pattern="LocationSyncMMDDYYYYHHMMSS.txt",
        ),
    ),
    options=(
        Option(
            SYNC_DETAILS,
            "Sync Location Details",
            OptionKind.BOOL,
            False,
            help=(
                "Adds the location detail columns (Inactive, LocationIsValidForFeedback, "
                "POSCategoryExternalReference, country, address, city, region, postal code, "
                "phone, email, time zone); when off they are left out of the file."
            ),
        ),
        Option(
            INCLUDE_CUSTOM_FIELDS,
            "Include custom fields",
            OptionKind.BOOL,
            False,
            help="Appends one column per location custom field after the last column.",
        ),
    ),
    export=export,
    doc_status="partial",
    notes=(
        "Every location on every run, inactive ones included (the Inactive column, written "
        "with Sync Location Details, tells them apart), ordered by Location Id.",
        "Header: the product's page names the fields in CamelCase and its example was not "
        "captured; the file starts with a header line of those names, as the other "
        "CamelCase layouts (Interaction, Survey) do.",
        "Sync Location Details off: the optional columns (4, 5, 7-10 and the designed 11-19) "
        "are omitted, not written empty, so the file has LocationId, LocationName, "
        "LocationExternalReference and BusinessUnitExternalReference, in that order.",
        "Fields 11-19 are designed here (the product's page was captured only up to "
        "Address1) after the Location admin page and the Location Import file.",
        "Custom fields (option Include custom fields): appended after the last column "
        "written, one column per location custom field, ordered by definition id so a new "
        "field is always appended and never moves the others; each headed by the field's "
        "external reference and holding the stored value, empty when not set.",
    ),
    reference_queries=lambda ctx: [_query(ctx)],
)
