"""location: the 10 documented fields in order, the Sync Location Details option (the
optional columns are omitted when off), the feedback polarity, the designed detail
columns, custom fields in a stable order, and values that never shift columns."""

from __future__ import annotations

from typing import Any

from loyalty.models import BusinessUnit, PosCategory
from loyalty.services import catalog, custom_fields
from tests.fixtures.golden_files import check_golden
from webapp.extensions import db

NAME = "LocationSync11232026140509.txt"  # run_export's start, month first, no underscore
DOCUMENTED = [
    "LocationId",
    "LocationName",
    "LocationExternalReference",
    "Inactive",
    "LocationIsValidForFeedback",
    "BusinessUnitExternalReference",
    "POSCategoryExternalReference",
    "CountryName",
    "CountryAbbreviation",
    "Address1",
]
DESIGNED = [
    "Address2",
    "Address3",
    "City",
    "RegionName",
    "RegionAbbreviation",
    "PostalCode",
    "PhoneNumber",
    "EmailAddress",
    "TimeZone",
]
SHORT = "LocationId|LocationName|LocationExternalReference|BusinessUnitExternalReference"


def stores() -> None:
    s = db.session()
    retail = catalog.create(s, BusinessUnit, ext_ref="BU1", name="Retail")
    online = catalog.create(s, BusinessUnit, ext_ref="BU|WEB", name="Online")
    mall = catalog.create(s, PosCategory, ext_ref="MALL", name="Mall store")
    main = catalog.create_location(
        s,
        name="Main Street",
        ext_ref="LOC001",
        business_unit_id=retail.id,
        pos_category_id=mall.id,
        country_name="Canada",
        country_abbr="CA",
        address1="1 Main St",
        address2="Unit 4",
        city="Toronto",
        region_name="Ontario",
        region_abbr="ON",
        postal_code="M5V 2T6",
        phone="+1 (416) 555-0100",
        email="main@example.com",
        timezone="America/Toronto",
    )
    catalog.create_location(
        s,
        name="Gare de Montréal",
        ext_ref="LOC002",
        business_unit_id=retail.id,
        inactive=True,
        valid_for_feedback=False,  # the app's "Location is Invalid for Feedback" ticked
        address1="2 Rue|Nord\r\nBureau 5",
        timezone="America/Montreal",
    )
    web = catalog.create_location(s, name="Web shop", ext_ref="WEB", business_unit_id=online.id)
    manager = custom_fields.define_custom_field(s, "location", "MANAGER", "Manager")
    opened = custom_fields.define_custom_field(s, "location", "OPENED", "Opened", "date")
    custom_fields.define_custom_field(s, "product", "COLOUR", "Not a location field")
    custom_fields.set_location_custom_field(s, main, manager, "Zoë Tremblay")
    custom_fields.set_location_custom_field(s, main, opened, "2019-04-01")
    custom_fields.set_location_custom_field(s, web, opened, "2021-01-15")
    s.commit()


def test_default_golden_details_omitted(run_export: Any) -> None:
    stores()
    exported = run_export("location")
    assert exported.names == [NAME]
    assert exported.lines() == [
        SHORT,
        "1|Main Street|LOC001|BU1",
        "2|Gare de Montréal|LOC002|BU1",
        "3|Web shop|WEB|BU¦WEB",
    ]
    check_golden(exported, "location", "default")


def test_details_golden_documented_order_and_polarity(run_export: Any) -> None:
    stores()
    exported = run_export("location", options={"sync_location_details": True})
    lines = exported.lines()
    assert lines[0].split("|") == DOCUMENTED + DESIGNED
    assert lines[1] == (
        "1|Main Street|LOC001|False|True|BU1|MALL|Canada|CA|1 Main St|Unit 4||Toronto|Ontario|ON|"
        "M5V 2T6|+1 (416) 555-0100|main@example.com|America/Toronto"
    )
    # Inactive, and "invalid for feedback" in the app: LocationIsValidForFeedback = False.
    assert lines[2].split("|")[3:5] == ["True", "False"]
    assert lines[2].split("|")[9] == "2 Rue¦Nord  Bureau 5"
    check_golden(exported, "location", "details")


def test_custom_fields_golden_after_the_last_column(run_export: Any) -> None:
    stores()
    short = run_export("location", options={"include_custom_fields": True})
    assert short.lines()[:2] == [
        SHORT + "|MANAGER|OPENED",
        "1|Main Street|LOC001|BU1|Zoë Tremblay|2019-04-01",
    ]
    check_golden(short, "location", "custom_fields")
    full = run_export(
        "location", options={"include_custom_fields": True, "sync_location_details": True}
    )
    assert full.lines()[0].split("|") == DOCUMENTED + DESIGNED + ["MANAGER", "OPENED"]
    assert full.lines()[3].endswith("|UTC||2021-01-15")
    check_golden(full, "location", "details_custom_fields")


def test_values_never_shift_columns(run_export: Any) -> None:
    stores()
    lines = run_export(
        "location", options={"include_custom_fields": True, "sync_location_details": True}
    ).lines()
    assert all(line.count("|") == len(DOCUMENTED + DESIGNED) + 1 for line in lines)
