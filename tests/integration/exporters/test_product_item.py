"""product_item: the documented fields and flags, the spec's example fragment, the header
option, custom-field columns in a stable order, and values that never shift columns."""

from __future__ import annotations

from typing import Any

from loyalty.models import Product
from loyalty.services import catalog, custom_fields
from tests.fixtures.golden_files import check_golden
from webapp.extensions import db

NAME = "ProductSync20261123140509.txt"  # run_export's start, year first, no underscore
HEADER = "ProductItemId|ProductItemName|ProductItemExternalReference|ProductItemExternalRef|ZeroPoints|ZeroRetail|DropFromBasket"


def catalogue() -> None:
    """Products through the catalogue service, covering every flag and empty values."""
    s = db.session()
    bat = catalog.create_product(s, name="BASEBALL BAT 36/34", sku="0000000002", alt_ref="BAT-36")
    catalog.create_product(s, name="BAG", sku="0000000099", zero_points=True)
    gift = catalog.create_product(s, name="GIFT WRAP", sku="0000000100", zero_retail=True)
    catalog.create_product(s, name="BOTTLE DEPOSIT", sku="0000000101", drop_from_basket=True)
    cafe = catalog.create_product(
        s,
        name="CAFÉ|AU LAIT",
        sku="0000000200",
        zero_points=True,
        zero_retail=True,
        drop_from_basket=True,
    )
    colour = custom_fields.define_custom_field(s, "product", "COLOUR", "Colour")
    weight = custom_fields.define_custom_field(s, "product", "WEIGHT", "Weight", "number")
    custom_fields.define_custom_field(s, "location", "REGION", "Not a product field")
    custom_fields.set_product_custom_field(s, bat, colour, "Natural ash")
    custom_fields.set_product_custom_field(s, bat, weight, "0.95")
    custom_fields.set_product_custom_field(s, gift, weight, 12)
    custom_fields.set_product_custom_field(s, cafe, colour, "Crème\nbrûlée")
    s.commit()


def test_spec_fragment_starts_the_file_and_the_name(run_export: Any) -> None:
    # The spec's captured fragment: "324443|ANTIQUE HEADBOARD|0..." (ids named by the spec).
    db.session.add(Product(id=324443, name="ANTIQUE HEADBOARD", sku="0324443"))
    db.session.commit()
    exported = run_export("product_item")
    assert exported.names == [NAME]
    assert exported.lines()[0].startswith("324443|ANTIQUE HEADBOARD|0")
    assert exported.lines() == ["324443|ANTIQUE HEADBOARD|0324443||0|0|0"]


def test_default_golden_no_header_and_minus_one_flags(run_export: Any) -> None:
    catalogue()
    exported = run_export("product_item")
    lines = exported.lines()
    assert lines[0] == "1|BASEBALL BAT 36/34|0000000002|BAT-36|0|0|0"
    assert [line.split("|")[4:] for line in lines] == [
        ["0", "0", "0"],
        ["-1", "0", "0"],
        ["0", "-1", "0"],
        ["0", "0", "-1"],
        ["-1", "-1", "-1"],
    ]
    check_golden(exported, "product_item", "default")


def test_header_option_golden(run_export: Any) -> None:
    catalogue()
    exported = run_export("product_item", options={"header": True})
    assert exported.lines()[0] == HEADER
    assert exported.lines()[1:] == run_export("product_item").lines()
    check_golden(exported, "product_item", "header")


def test_custom_fields_golden_in_definition_order(run_export: Any) -> None:
    catalogue()
    exported = run_export("product_item", options={"include_custom_fields": True, "header": True})
    lines = exported.lines()
    assert lines[0] == HEADER + "|COLOUR|WEIGHT"
    assert lines[1] == "1|BASEBALL BAT 36/34|0000000002|BAT-36|0|0|0|Natural ash|0.95"
    assert lines[5] == "5|CAFÉ¦AU LAIT|0000000200||-1|-1|-1|Crème brûlée|"
    check_golden(exported, "product_item", "custom_fields_header")
    no_header = run_export("product_item", options={"include_custom_fields": True})
    check_golden(no_header, "product_item", "custom_fields")
    # A field defined later is appended and never moves the others.
    custom_fields.define_custom_field(db.session(), "product", "AARDVARK", "Defined last")
    db.session.commit()
    later = run_export("product_item", options={"include_custom_fields": True, "header": True})
    assert later.lines()[0] == HEADER + "|COLOUR|WEIGHT|AARDVARK"
    assert later.lines()[1] == lines[1] + "|"


def test_values_never_shift_columns(run_export: Any) -> None:
    catalogue()
    lines = run_export("product_item", options={"include_custom_fields": True}).lines()
    assert all(line.count("|") == 8 for line in lines)
