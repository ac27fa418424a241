"""Per kind: a load creates, the same load again changes nothing and logs nothing, a
changed row writes exactly one change record that the next incremental export holds,
bad rows are reported in both modes, and a dry run stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from loyalty.models import AccountIdType, Location, Member, Product, Transaction, TransactionType
from loyalty.models.enums import TransactionStatus
from loyalty.services import catalog
from tests.integration.loading.support import change_count, csv_bytes, load, ndjson_bytes
from webapp.extensions import db

LOCATIONS = [
    {"ext_ref": "LOC1", "name": "Main Street", "business_unit": "RETAIL", "city": "Toronto"},
    {"ext_ref": "LOC2", "name": "Web shop", "business_unit": "WEB", "business_unit_name": "Online"},
]
MEMBERS = [
    {
        "ext_ref": "M1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "gender": "female",
        "account_id": "C0001",
        "account_id_type": "CARD",
        "email": "ada@example.com",
    },
    {
        "ext_ref": "M2",
        "first_name": "Alan",
        "last_name": "Turing",
        "account_id": "C0002",
        "account_id_type": "CARD",
        "email": "alan@example.com",
        "gender": "m",
    },
]


def records(exported: Any) -> list[str]:
    """Every record of every file of an export, without each file's header line."""
    return [line for i in range(len(exported.names)) for line in exported.lines(i)[1:]]


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def card(app: Any) -> AccountIdType:
    id_type = catalog.create(db.session, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
    db.session.commit()
    return id_type


@pytest.fixture
def shop(card: AccountIdType) -> None:
    """What transactions refer to: members, a type, a location and products."""
    assert load("locations", csv_bytes(LOCATIONS)).stored
    assert load("members", csv_bytes(MEMBERS)).stored
    catalog.create(db.session, TransactionType, ext_ref="PURCHASE", name="Purchase")
    db.session.commit()
    products = [
        {"sku": "SKU1", "name": "Beans", "unit_price": "18.50"},
        {"sku": "SKU2", "name": "Mug", "unit_price": "7.00"},
    ]
    assert load("products", csv_bytes(products)).stored


def test_locations_create_then_reload_is_unchanged_and_a_change_is_exported(
    app: Any, run_export: Any
) -> None:
    first = load("locations", csv_bytes(LOCATIONS))
    assert (first.outcome, first.read, first.changed, first.rejected) == ("applied", 2, 2, 0)
    main = db.session.scalar(select(Location).where(Location.ext_ref == "LOC1"))
    assert main is not None and main.city == "Toronto" and main.timezone == "UTC"
    again = load("locations", csv_bytes(LOCATIONS))
    assert (again.changed, again.unchanged) == (0, 2)
    changed = [dict(LOCATIONS[0], city="Ottawa"), LOCATIONS[1]]
    third = load("locations", csv_bytes(changed))
    assert (third.changed, third.unchanged) == (1, 1)
    exported = run_export("location", options={"sync_location_details": True})
    assert any("Ottawa" in line for line in exported.lines())
    assert change_count() == 0  # reference data is read in full, never change-logged


def test_products_upsert_and_an_empty_cell_clears_an_optional_column(
    app: Any, run_export: Any
) -> None:
    rows = [{"sku": "SKU1", "name": "Beans", "category": "Coffee", "unit_price": "18.50"}]
    assert load("products", csv_bytes(rows)).changed == 1
    assert load("products", csv_bytes(rows)).unchanged == 1
    cleared = load("products", csv_bytes([dict(rows[0], category="")]))
    assert cleared.changed == 1
    product = db.session.scalar(select(Product).where(Product.sku == "SKU1"))
    assert product is not None and product.category is None
    assert "Beans" in run_export("product_item").bytes().decode()


def test_members_twice_then_one_profile_change_is_one_record_in_the_incremental_export(
    card: AccountIdType, run_export: Any
) -> None:
    first = load("members", csv_bytes(MEMBERS))
    assert (first.changed, first.rejected) == (2, 0), first.errors
    ada = db.session.scalar(select(Member).where(Member.ext_ref == "M1"))
    assert ada is not None
    assert (ada.primary_account_id, ada.primary_email) == ("C0001", "ada@example.com")
    baseline = run_export("member_extended")
    logged = change_count()
    again = load("members", csv_bytes(MEMBERS))
    assert (again.changed, again.unchanged) == (0, 2)
    assert change_count() == logged
    assert run_export("member_extended", watermark=baseline.result.watermark).lines() == []
    renamed = [dict(MEMBERS[0], last_name="King"), MEMBERS[1]]
    third = load("members", ndjson_bytes(renamed), name="members.ndjson")
    assert (third.changed, third.unchanged) == (1, 1)
    assert change_count() == logged + 1
    delta = run_export("member_extended", watermark=baseline.result.watermark).lines()
    assert len(delta) == 1 and "King" in delta[0]


def test_transactions_post_once_and_a_cancel_row_cancels(shop: None, run_export: Any) -> None:
    rows = [
        {
            "ext_ref": "T1",
            "member": "M1",
            "type": "PURCHASE",
            "location": "LOC1",
            "occurred_at": "2026-11-20T10:00:00Z",
            "lines": "SKU1:2:18.50;SKU2:1:7.00",
        },
        {"ext_ref": "T2", "member": "M2", "type": "PURCHASE", "occurred_at": "2026-11-21T10:00:00"},
    ]
    rows[1]["amount"] = "12.00"
    data = csv_bytes(
        rows, header=["ext_ref", "member", "type", "location", "occurred_at", "amount", "lines"]
    )
    first = load("transactions", data)
    assert (first.changed, first.rejected) == (2, 0), first.errors
    t1 = db.session.scalar(select(Transaction).where(Transaction.ext_ref == "T1"))
    assert t1 is not None and str(t1.amount) == "44.00"
    baseline = run_export("transaction")
    logged = change_count()
    again = load("transactions", data)
    assert (again.changed, again.unchanged) == (0, 2)
    assert change_count() == logged
    assert records(run_export("transaction", watermark=baseline.result.watermark)) == []
    cancel = [
        {
            "ext_ref": "T1",
            "member": "M1",
            "type": "PURCHASE",
            "occurred_at": "2026-11-20T10:00:00Z",
            "status": "cancelled",
        }
    ]
    third = load("transactions", ndjson_bytes(cancel), name="t.ndjson")
    assert third.changed == 1
    db.session.expire_all()
    t1 = db.session.scalar(select(Transaction).where(Transaction.ext_ref == "T1"))
    assert t1 is not None and t1.status == TransactionStatus.CANCELLED
    delta = records(run_export("transaction", watermark=baseline.result.watermark))
    assert len(delta) == 1 and "T1" in delta[0], "the cancellation is in the next incremental file"
    assert load("transactions", ndjson_bytes(cancel), name="t.ndjson").changed == 0


BAD_MEMBERS = [
    MEMBERS[0],
    {"ext_ref": "M2", "birth_year": "1990", "birth_month": "2", "birth_day": "30"},
    {"ext_ref": "M3", "first_name": "x" * 1_000_000},
    {"ext_ref": "M4", "first_name": "Nul\x00byte"},
    {"ext_ref": "M5", "email": "not-an-address"},
    {"ext_ref": "M6", "first_name": "Grace"},
]


def _reasons(result: Any) -> dict[int, tuple[str, str]]:
    return {e.line: (e.field, e.reason) for e in result.errors}


@pytest.mark.parametrize("mode", ["all-or-nothing", "skip-bad-rows"])
def test_bad_member_rows_are_reported_with_line_field_and_reason(
    card: AccountIdType, mode: str
) -> None:
    header = [
        "ext_ref",
        "first_name",
        "birth_year",
        "birth_month",
        "birth_day",
        "email",
        "account_id",
        "account_id_type",
        "last_name",
        "gender",
    ]
    data = csv_bytes(BAD_MEMBERS, header=header) + b"M7,\xff\xfe broken,,,,,,,,\n"
    result = load("members", data, mode=mode)
    reasons = _reasons(result)
    assert result.read == 7 and result.rejected == 5
    assert reasons[3] == ("birth_day", "That day does not exist in that month.")
    assert reasons[4] == ("first_name", "first_name has at most 60 characters.")
    assert reasons[5] == ("first_name", "first_name contains a NUL byte.")
    assert reasons[6][0] == "email" and "not an email address" in reasons[6][1]
    assert reasons[8] == ("", "the line is not UTF-8 text.")
    assert all("Traceback" not in e.reason and len(e.value) <= 80 for e in result.errors)
    stored = set(db.session.scalars(select(Member.ext_ref)))
    if mode == "all-or-nothing":
        assert result.outcome == "rejected" and result.applied == 0
        assert stored == set() and change_count() == 0
    else:
        assert result.outcome == "partial" and result.applied == 2
        assert stored == {"M1", "M6"}


def test_a_row_failing_halfway_leaves_nothing_of_itself(card: AccountIdType) -> None:
    """The account id is already someone else's: the member the row enrolled goes too."""
    assert load("members", csv_bytes(MEMBERS[:1])).stored
    logged = change_count()
    clash = [
        {"ext_ref": "M9", "first_name": "Eve", "account_id": "C0001", "account_id_type": "CARD"}
    ]
    result = load("members", csv_bytes(clash), mode="skip-bad-rows")
    assert result.rejected == 1 and result.errors[0].field == "value"
    assert "already in use" in result.errors[0].reason
    assert db.session.scalar(select(Member).where(Member.ext_ref == "M9")) is None
    assert change_count() == logged


def test_unknown_references_and_negative_quantities(shop: None) -> None:
    rows = [
        {
            "ext_ref": "T1",
            "member": "NOBODY",
            "type": "PURCHASE",
            "occurred_at": "2026-11-20T10:00:00Z",
            "lines": "",
        },
        {
            "ext_ref": "T2",
            "member": "M1",
            "type": "PURCHASE",
            "occurred_at": "2026-11-20T10:00:00Z",
            "lines": "SKU1:-1:-5",
        },
        {
            "ext_ref": "T3",
            "member": "M1",
            "type": "PURCHASE",
            "occurred_at": "2026-02-30T10:00:00Z",
            "lines": "",
        },
        {
            "ext_ref": "T4",
            "member": "M1",
            "type": "PURCHASE",
            "occurred_at": "2026-11-20T10:00:00Z",
            "lines": "NOSKU:1:5",
        },
    ]
    result = load("transactions", csv_bytes(rows), mode="skip-bad-rows")
    reasons = _reasons(result)
    assert result.rejected == 4 and result.changed == 0
    assert reasons[2] == ("member", "no member with reference 'NOBODY'.")
    assert reasons[3] == ("lines", "lines[1].unit_price must not be negative.")
    assert reasons[4][0] == "occurred_at" and "ISO 8601" in reasons[4][1]
    assert reasons[5] == ("lines", "no lines with reference 'NOSKU'.")
    assert count(Transaction) == 0


def test_dry_run_stores_nothing_but_counts_for_real(card: AccountIdType) -> None:
    for mode in ("all-or-nothing", "skip-bad-rows"):
        result = load("members", csv_bytes(MEMBERS), mode=mode, dry_run=True, batch_size=1)
        assert (result.outcome, result.changed, result.applied) == ("dry-run", 2, 0)
    assert count(Member) == 0 and change_count() == 0


def test_refused_files_store_nothing(card: AccountIdType) -> None:
    from loyalty.loading import LoadRefused

    with pytest.raises(LoadRefused, match="unknown column"):
        load("members", b"ext_ref,nickname\nM1,Ada\n")
    with pytest.raises(LoadRefused, match="required column"):
        load("members", b"first_name\nAda\n")
    with pytest.raises(LoadRefused, match="empty"):
        load("members", b"")
    with pytest.raises(LoadRefused, match="format"):
        load("members", b"ext_ref\nM1\n", name="members.xlsx")
    assert count(Member) == 0


def test_reward_types_upsert_with_their_category(app: Any, run_export: Any) -> None:
    rows = [
        {
            "ext_ref": "RW10",
            "name": "$10 off",
            "category": "Discounts",
            "master_type": "Internal",
            "point_value": "1000",
        },
        {
            "ext_ref": "RW20",
            "name": "Mug",
            "category": "Gifts",
            "master_type": "gift card",
            "point_value": "-5",
        },
    ]
    first = load("reward_types", csv_bytes(rows), mode="skip-bad-rows")
    assert (first.changed, first.rejected) == (1, 1)
    assert _reasons(first)[3] == ("point_value", "point_value must not be negative.")
    assert load("reward_types", csv_bytes(rows[:1])).unchanged == 1
    renamed = load("reward_types", csv_bytes([dict(rows[0], name="$10 off, any order")]))
    assert renamed.changed == 1
    assert "$10 off, any order" in run_export("reward_type").bytes().decode()
    from loyalty.loading import LoadRefused

    with pytest.raises(LoadRefused, match="master_type"):
        load("reward_types", b"ext_ref,name,category\nRW1,x,y\n")


def test_member_phones_and_addresses_upsert_with_one_record_per_change(card: AccountIdType) -> None:
    row = {
        "ext_ref": "M1",
        "first_name": "Ada",
        "phone_mobile": "+1 416 555 0199",
        "address_line1": "1 Main St",
        "address_city": "Toronto",
        "address_country": "ca",
    }
    assert load("members", csv_bytes([row])).changed == 1
    ada = db.session.scalar(select(Member).where(Member.ext_ref == "M1"))
    assert ada is not None and ada.mobile_phone == "+1 416 555 0199"
    logged = change_count()
    assert load("members", csv_bytes([row])).unchanged == 1
    assert change_count() == logged
    moved = load("members", csv_bytes([dict(row, address_city="Ottawa")]))
    assert moved.changed == 1 and change_count() == logged + 1
    bad = load("members", csv_bytes([dict(row, phone_mobile="call me")]), mode="skip-bad-rows")
    assert [(e.field, e.value, e.reason) for e in bad.errors] == [
        ("phone_mobile", "call me", "'call me' is not a phone number.")
    ]
    country = load("members", csv_bytes([dict(row, address_country="C1")]), mode="skip-bad-rows")
    assert [(e.field, e.value) for e in country.errors] == [("address_country", "C1")]


def test_a_file_that_stops_being_readable_keeps_only_the_committed_batches(app: Any) -> None:
    rows = [{"sku": f"S{n}", "name": f"Item {n}"} for n in range(3)]
    data = csv_bytes(rows) + b'S9,"' + b"x" * (5 * 1024 * 1024) + b'"\nS10,After\n'
    result = load("products", data, mode="skip-bad-rows", batch_size=2)
    assert result.outcome == "failed" and result.applied == 2
    assert result.failure is not None and result.failure.startswith("line 5 is not valid CSV")
    assert set(db.session.scalars(select(Product.sku))) == {"S0", "S1"}
