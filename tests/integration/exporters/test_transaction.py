"""transaction: every file kind from one window, the options, names, splitting, and the
incremental contract (nothing lost, nothing repeated, also with a concurrent writer).

Only field 1 of the main file is documented (App Transaction Id); the golden files were
checked by hand against the designed layouts in exporters/types/transaction/columns.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import exporters
from exporters.base import ExportContext, OptionsInvalid
from exporters.types.transaction import layout as txn
from loyalty.engine import read_snapshot
from loyalty.models import (
    BusinessUnit,
    CustomFieldDefinition,
    Location,
    Member,
    Product,
    Promotion,
    Transaction,
    TransactionType,
)
from loyalty.services import catalog, custom_fields, members, points, transactions
from loyalty.services.transactions import LineInput
from tests.fixtures.exports import Exported, give_account_id
from tests.fixtures.golden_files import check_golden_files
from webapp.extensions import db

T0 = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
STARTED = datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)  # the run_export default
DAY = "20261123"
ALL = list(txn.KIND_KEYS)

HEADERS = {
    "issued": "AppTransactionId|TransactionExternalReference|MemberId|MemberAccountId|TransactionTypeId|TransactionTypeExternalReference|LocationId|LocationExternalReference|TransactionTimestamp|SourceDate|PostedTimestamp|TransactionAmount|BasePoints|BasketLineCount|PostedBy|Cancelled",
    "product_level": "AppTransactionId|LineNumber|MemberId|ProductItemId|ProductItemExternalReference|ProductItemName|Quantity|UnitPrice|LineAmount|LinePoints",
    "cancelled": "AppTransactionId|TransactionExternalReference|MemberId|MemberAccountId|TransactionTypeExternalReference|LocationId|LocationExternalReference|TransactionTimestamp|CancelledTimestamp|CancelReason|TransactionAmount|BasePointsReversed|BonusPointsReversed",
    "point_expiration": "PointExpirationId|MemberId|MemberAccountId|ExpiredPoints|ExpirationTimestamp|Description",
    "transactional_bonus": "BonusId|AppTransactionId|MemberId|MemberAccountId|PromotionId|PromotionExternalReference|BonusName|BonusPoints|AwardedTimestamp|Cancelled|CancelledTimestamp",
    "promo_code_bonus": "BonusId|AppTransactionId|MemberId|MemberAccountId|PromoCode|PromotionId|PromotionExternalReference|BonusName|BonusPoints|AwardedTimestamp|Cancelled|CancelledTimestamp",
    "transaction_type": "TransactionTypeId|TransactionTypeExternalReference|TransactionTypeName|TransactionTypeDescription|EarnsPoints|CountsForRfm|TransactionCount|TotalAmount|TotalBasePoints",
    "custom_field": "AppTransactionId|MemberId|CASHIER|LANE",
}
NAMES = {
    "issued": f"TransactionSync_{DAY}.txt",
    "product_level": f"TransactionSync_ProductLevel_{DAY}.txt",
    "cancelled": f"TransactionSync_Cancelled_{DAY}.txt",
    "point_expiration": f"TransactionSync_PointExpiration_{DAY}.txt",
    "transactional_bonus": f"TransactionSync_TransactionalBonus_{DAY}.txt",
    "promo_code_bonus": f"TransactionSync_PromoCodeBonus_{DAY}.txt",
    "transaction_type": f"TransactionSync_TransactionType_{DAY}.txt",
    "custom_field": f"TransactionSync_CustomField_{DAY}.txt",
}


@dataclass
class Shop:
    s: Session
    store: Location
    web: Location
    purchase: TransactionType
    refund: TransactionType
    products: dict[str, Product]
    double: Promotion
    cashier: CustomFieldDefinition
    lane: CustomFieldDefinition
    anna: Member
    bob: Member

    def post(self, member: Member, minutes: int, **kw: Any) -> Transaction:
        at = T0 + timedelta(minutes=minutes)
        kw.setdefault("transaction_type", self.purchase)
        return transactions.post_transaction(
            self.s, member, kw.pop("transaction_type"), occurred_at=at, at=at, **kw
        )


@pytest.fixture
def shop(app: Flask) -> Shop:
    s = db.session()
    c = catalog.create
    bu = c(s, BusinessUnit, ext_ref="BU1", name="Retail")
    store = catalog.create_location(
        s, name="Main Street", ext_ref="LOC001", business_unit_id=bu.id, timezone="America/Toronto"
    )
    web = catalog.create_location(
        s, name="Web shop", ext_ref="WEB", business_unit_id=bu.id, timezone="UTC"
    )
    shop = Shop(
        s=s,
        store=store,
        web=web,
        purchase=c(s, TransactionType, ext_ref="PURCHASE", name="Purchase", description="In store"),
        refund=c(
            s,
            TransactionType,
            ext_ref="RETURN",
            name="Return",
            earns_points=False,
            counts_for_rfm=False,
        ),
        products={
            "bat": catalog.create_product(s, name="BASEBALL BAT 36/34", sku="0000000002"),
            "mitt": catalog.create_product(s, name="CATCHER'S MITT", sku="0000000003"),
            "bag": catalog.create_product(s, name="BAG", sku="0000000099", zero_points=True),
            "gift": catalog.create_product(s, name="GIFT WRAP", sku="0000000100", zero_retail=True),
            "deposit": catalog.create_product(
                s, name="BOTTLE DEPOSIT", sku="0000000101", drop_from_basket=True
            ),
            "cafe": catalog.create_product(s, name="CAFÉ AU LAIT", sku="0000000200"),
        },
        double=c(s, Promotion, ext_ref="DOUBLE", name="Double points week", starts_on=T0.date()),
        cashier=custom_fields.define_custom_field(s, "transaction", "CASHIER", "Cashier"),
        lane=custom_fields.define_custom_field(s, "transaction", "LANE", "Lane", "number"),
        anna=members.enrol_member(s, first_name="Anna", last_name="Smith", at=T0),
        bob=members.enrol_member(s, first_name="Bob", last_name="Jones", at=T0),
    )
    c(
        s,
        Promotion,
        ext_ref="WELCOME",
        name="Welcome code",
        promo_code="WELCOME10",
        bonus_points=Decimal("10"),
        starts_on=T0.date(),
    )
    give_account_id(shop.anna, "1000A")
    give_account_id(shop.bob, "1000B")
    s.commit()
    return shop


def activity(shop: Shop) -> None:
    """A day of the shop: every trigger the Transaction Sync exports, once or more."""
    p, s = shop.products, shop.s
    t1 = shop.post(
        shop.anna,
        0,
        location=shop.store,
        ext_ref="R-0001",
        posted_by="POS 4",
        lines=[
            LineInput(p["bat"], 2, "25.00"),
            LineInput(p["bag"], 1, "1.50"),
            LineInput(p["gift"], 1, "5.00"),
            LineInput(p["deposit"], 1, "0.10"),
            LineInput(p["cafe"], 1, "3.75"),
        ],
        custom_fields={shop.cashier: "Zoë", shop.lane: 4},
    )
    t2 = shop.post(shop.bob, 5, location=shop.web, ext_ref="W|77", amount="80.00")
    t3 = shop.post(shop.anna, 10, amount="12.34")  # no location, cancelled the same day
    shop.post(
        shop.bob,
        20,
        transaction_type=shop.refund,
        location=shop.store,
        lines=[LineInput(p["mitt"], -1, "30.00")],
    )
    transactions.award_transactional_bonus(
        s, t1, 50, promotion=shop.double, at=T0 + timedelta(minutes=1)
    )
    transactions.award_transactional_bonus(
        s, t3, 7, name="Lucky seven", at=T0 + timedelta(minutes=11)
    )
    transactions.apply_promo_code(
        s, shop.bob, "welcome10", transaction=t2, at=T0 + timedelta(minutes=6)
    )
    transactions.apply_promo_code(s, shop.anna, "WELCOME10", at=T0 + timedelta(minutes=30))
    transactions.cancel_transaction(s, t3, reason="Wrong\r\nmember", at=T0 + timedelta(minutes=40))
    points.expire_points(
        s, shop.anna, 5, description="Automatic point expiration", at=T0 + timedelta(minutes=50)
    )
    custom_fields.set_transaction_custom_field(s, t2, shop.lane, 7, at=T0 + timedelta(minutes=55))
    s.commit()


def by_kind(exported: Exported) -> dict[str, list[str]]:
    """Each kind's records (header included), files of one kind joined in order."""
    found: dict[str, list[str]] = {}
    for index, file in enumerate(exported.result.files):
        lines = exported.lines(index)
        if file.kind in found:
            lines = lines[1:]  # every numbered file repeats the header
        found.setdefault(file.kind, []).extend(lines)
    return found


def test_every_kind_golden_with_field_one_documented(shop: Shop, run_export: Any) -> None:
    activity(shop)
    exported = run_export("transaction")
    assert exported.names == [NAMES[k] for k in ALL]
    assert [f.kind for f in exported.result.files] == ALL
    files = by_kind(exported)
    for kind in ALL:
        assert files[kind][0] == HEADERS[kind]
    # Field 1 of the main file is the documented App Transaction Id (Numeric(10)).
    assert [line.split("|")[0] for line in files["issued"][1:]] == ["1", "2", "3", "4"]
    check_golden_files(exported, "transaction", "all_kinds")


def test_exclude_issued_and_cancelled_golden(shop: Shop, run_export: Any) -> None:
    activity(shop)
    exported = run_export("transaction", options={"include_issued_and_cancelled": False})
    files = by_kind(exported)
    # t3 was posted and cancelled in the window: gone from the Issued files, the type
    # totals and the custom field file, but its cancellation (and bonus) is still written.
    assert [line.split("|")[0] for line in files["issued"][1:]] == ["1", "2", "4"]
    assert [line.split("|")[0] for line in files["cancelled"][1:]] == ["3"]
    assert [line.split("|")[0] for line in files["custom_field"][1:]] == ["1", "2", "4"]
    check_golden_files(exported, "transaction", "exclude_issued_and_cancelled")


def test_splitting_and_filename_time_in_one_run_golden(shop: Shop, run_export: Any) -> None:
    activity(shop)
    exported = run_export("transaction", options={"max_records": 2, "filename_time": True})
    stamp = "20261123140509"
    assert exported.names == [
        f"TransactionSync_{stamp}_01.txt",
        f"TransactionSync_{stamp}_02.txt",
        f"TransactionSync_ProductLevel_{stamp}_01.txt",
        f"TransactionSync_ProductLevel_{stamp}_02.txt",
        f"TransactionSync_ProductLevel_{stamp}_03.txt",
        f"TransactionSync_Cancelled_{stamp}_01.txt",
        f"TransactionSync_PointExpiration_{stamp}_01.txt",
        f"TransactionSync_TransactionalBonus_{stamp}_01.txt",
        f"TransactionSync_PromoCodeBonus_{stamp}_01.txt",
        f"TransactionSync_TransactionType_{stamp}_01.txt",
        f"TransactionSync_CustomField_{stamp}_01.txt",
        f"TransactionSync_CustomField_{stamp}_02.txt",
    ]
    assert [f.rows for f in exported.result.files] == [2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2]
    # The split files hold the same records as one unsplit run.
    whole = by_kind(run_export("transaction"))
    assert by_kind(exported) == whole
    check_golden_files(exported, "transaction", "split_2_filename_time")


def test_filename_time_and_repeats_share_one_stamp(shop: Shop, run_export: Any) -> None:
    options = {"file_kinds": ["issued", "cancelled"]}
    timed = run_export("transaction", options={**options, "filename_time": True})
    assert timed.names == [
        "TransactionSync_20261123140509.txt",
        "TransactionSync_Cancelled_20261123140509.txt",
    ]
    # An earlier run today wrote only a Cancelled file: the whole run moves to the timed
    # name, so a run's files keep one stamp and nothing is replaced.
    repeat = run_export(
        "transaction", options=options, taken={f"TransactionSync_Cancelled_{DAY}.txt"}
    )
    assert repeat.names == timed.names
    taken = {"TransactionSync_20261123140509.txt", f"TransactionSync_{DAY}.txt"}
    again = run_export("transaction", options=options, taken=taken)
    assert again.names == [
        "TransactionSync_20261123140510.txt",
        "TransactionSync_Cancelled_20261123140510.txt",
    ]


def test_chosen_kinds_only_and_at_least_one(shop: Shop, run_export: Any) -> None:
    activity(shop)
    exported = run_export("transaction", options={"file_kinds": ["custom_field", "cancelled"]})
    assert exported.names == [NAMES["cancelled"], NAMES["custom_field"]]  # declaration order
    sync_type = exporters.get("transaction")
    with pytest.raises(OptionsInvalid, match="choose at least 1"):
        sync_type.clean_options({"file_kinds": []})
    with pytest.raises(ValueError, match="no file kind"):
        run_export("transaction", options={"file_kinds": []})


def test_empty_window_writes_every_chosen_kind_with_header_only(
    shop: Shop, run_export: Any
) -> None:
    exported = run_export("transaction")
    assert exported.names == [NAMES[k] for k in ALL]
    for index, kind in enumerate(ALL):
        assert exported.lines(index) == [HEADERS[kind]]
    split = run_export("transaction", options={"max_records": 5, "file_kinds": ["issued"]})
    assert split.names == [f"TransactionSync_{DAY}_01.txt"]
    assert split.lines() == [HEADERS["issued"]]


@pytest.mark.parametrize("count", [3, 4])
def test_splitting_boundary(shop: Shop, run_export: Any, count: int) -> None:
    for minute in range(count):
        shop.post(shop.anna, minute, amount="1.00")
    shop.s.commit()
    exported = run_export("transaction", options={"max_records": 3, "file_kinds": ["issued"]})
    expected = [3] if count == 3 else [3, 1]
    assert [f.rows for f in exported.result.files] == expected
    assert exported.names == [
        f"TransactionSync_{DAY}_{n:02d}.txt" for n in range(1, len(expected) + 1)
    ]
    for index in range(len(expected)):
        assert exported.lines(index)[0] == HEADERS["issued"]


def test_values_never_shift_columns(shop: Shop, run_export: Any) -> None:
    activity(shop)
    files = by_kind(run_export("transaction"))
    for kind in ALL:
        width = HEADERS[kind].count("|")
        assert all(line.count("|") == width for line in files[kind]), kind
    issued = {line.split("|")[0]: line for line in files["issued"][1:]}
    assert issued["2"].split("|")[1] == "W¦77"
    cancelled = files["cancelled"][1].split("|")
    assert cancelled[9] == "Wrong  member"  # CR LF: one space each
    assert files["product_level"][4].split("|")[5] == "CAFÉ AU LAIT"
    assert files["custom_field"][1].split("|")[2] == "Zoë"


def test_values_in_the_database_timezone(shop: Shop, run_export: Any, app: Flask) -> None:
    activity(shop)
    app.config["DATABASE_TIMEZONE"] = "America/Toronto"
    files = by_kind(run_export("transaction", options={"file_kinds": ["issued", "cancelled"]}))
    first = files["issued"][1].split("|")
    # 09:15 UTC is 04:15 in Toronto (EST); the source date is the location's local date.
    assert first[8:11] == ["2026-11-20 04:15:00", "2026-11-20", "2026-11-20 04:15:00"]
    assert files["cancelled"][1].split("|")[7:9] == ["2026-11-20 04:25:00", "2026-11-20 04:55:00"]


def test_incremental_sequence_loses_and_repeats_nothing(shop: Shop, run_export: Any) -> None:
    activity(shop)
    first = run_export("transaction")
    assert first.result.watermark is not None
    s, p = shop.s, shop.products
    t2 = s.get_one(Transaction, 2)
    t5 = shop.post(shop.bob, 60, location=shop.store, lines=[LineInput(p["bat"], 1, "25.00")])
    transactions.award_transactional_bonus(s, t5, 3, at=T0 + timedelta(minutes=61))
    transactions.cancel_transaction(s, t2, at=T0 + timedelta(minutes=62))  # issued in run 1
    custom_fields.set_transaction_custom_field(
        s, s.get_one(Transaction, 1), shop.cashier, None, at=T0 + timedelta(minutes=63)
    )
    custom_fields.set_transaction_custom_field(
        s, t5, shop.cashier, "Ann|Marie", at=T0 + timedelta(minutes=64)
    )
    custom_fields.set_transaction_custom_field(s, t5, shop.lane, 2, at=T0 + timedelta(minutes=65))
    points.expire_points(s, shop.bob, 1, at=T0 + timedelta(minutes=66))
    s.commit()
    second = run_export("transaction", watermark=first.result.watermark, taken=set(first.names))
    assert second.names[0] == "TransactionSync_20261123140509.txt"  # same day: time added
    files = by_kind(second)
    ids = {kind: [line.split("|")[0] for line in files[kind][1:]] for kind in ALL}
    assert ids == {
        "issued": ["5"],
        "product_level": ["5"],
        "cancelled": ["2"],
        "point_expiration": ["15"],
        "transactional_bonus": ["5"],
        "promo_code_bonus": [],
        "transaction_type": ["1"],
        "custom_field": ["1", "5"],  # 1: a field cleared; 5: posted (two field changes, one row)
    }
    assert files["custom_field"][1:] == ["1|1||4", "5|2|Ann¦Marie|2"]
    # The bonus on the cancelled t2 is now cancelled: its cancellation shows in run 2's
    # Cancelled file (bonus points reversed), the bonus itself was exported in run 1.
    assert files["cancelled"][1].split("|")[11:] == ["80.00", "10.00"]
    third = run_export("transaction", watermark=second.result.watermark)
    assert all(len(lines) == 1 for lines in by_kind(third).values())


def test_change_committed_during_an_export_comes_in_the_next(
    shop: Shop, app: Flask, tmp_path: Path, run_export: Any
) -> None:
    activity(shop)
    sync_type = exporters.get("transaction")
    options = {**sync_type.default_options(), "file_kinds": ["issued"]}
    out = tmp_path / "during"
    out.mkdir()
    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        session.execute(select(Transaction.id)).all()  # the snapshot is taken here
        with Session(bind=db.engine) as writer:  # another connection commits meanwhile
            late = transactions.post_transaction(
                writer,
                writer.get_one(Member, shop.bob.id),
                writer.get_one(TransactionType, shop.purchase.id),
                occurred_at=T0 + timedelta(hours=2),
                amount="9.99",
                at=T0 + timedelta(hours=2),
            )
            writer.commit()
            late_id = late.id
        ctx = ExportContext(
            session=session,
            sync_id=1,
            instance_id=1,
            scope={},
            options=options,
            run_started_at=STARTED,
            timezone="UTC",
            out_dir=out,
            watermark=None,
        )
        result = sync_type.export(ctx)
        session.close()
    rows = result.files[0].path.read_bytes().decode("utf-8").split("\r\n")[1:-1]
    assert [r.split("|")[0] for r in rows] == ["1", "2", "3", "4"]
    following = run_export(
        "transaction", options={"file_kinds": ["issued"]}, watermark=result.watermark
    )
    assert [line.split("|")[0] for line in following.lines()[1:]] == [str(late_id)]


def test_custom_field_columns_keep_their_order(shop: Shop, run_export: Any) -> None:
    activity(shop)
    # A field defined later is appended; the existing ones never move.
    custom_fields.define_custom_field(shop.s, "transaction", "AARDVARK", "Sorted first by name")
    shop.s.commit()
    files = by_kind(run_export("transaction", options={"file_kinds": ["custom_field"]}))
    assert files["custom_field"][0] == "AppTransactionId|MemberId|CASHIER|LANE|AARDVARK"
    assert files["custom_field"][1] == "1|1|Zoë|4|"


def test_reference_queries_return_the_files_rows(shop: Shop, run_export: Any, app: Flask) -> None:
    activity(shop)
    exported = run_export("transaction")
    files = by_kind(exported)
    sync_type = exporters.get("transaction")
    with read_snapshot(db.engine) as connection:
        session = Session(bind=connection)
        ctx = ExportContext(
            session=session,
            sync_id=1,
            instance_id=None,
            scope={},
            options=sync_type.default_options(),
            run_started_at=STARTED,
            timezone="UTC",
            out_dir=Path("."),
            watermark=None,
            database_timezone=app.config["DATABASE_TIMEZONE"],
        )
        assert sync_type.reference_queries is not None
        queries = sync_type.reference_queries(ctx)
        for kind, query in zip(ALL, queries, strict=True):
            rows = ["|".join(row) for row in session.execute(query)]
            assert rows == files[kind][1:], kind
        session.close()
