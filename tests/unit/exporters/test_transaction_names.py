"""Transaction Sync: how its file kinds are named, and its options' validation."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import pytest

import exporters
from exporters.base import ExportContext, Option, OptionKind, OptionsInvalid
from exporters.types.transaction import layout as txn

pytestmark = pytest.mark.nodb

START = datetime(2026, 3, 8, 23, 4, 5, tzinfo=UTC)


def context(
    options: dict[str, object], taken: Collection[str] = (), zone: str = "UTC"
) -> ExportContext:
    return ExportContext(
        session=None,  # type: ignore[arg-type]
        sync_id=1,
        instance_id=1,
        scope={},
        options=options,
        run_started_at=START,
        timezone=zone,
        out_dir=Path("."),
        watermark=None,
        name_taken=lambda name: name in taken,
    )


def test_the_main_kind_keeps_the_documented_names() -> None:
    for options, numbered, expected in [
        ({}, False, "TransactionSync_20260308.txt"),
        ({}, True, "TransactionSync_20260308_01.txt"),
        ({"filename_time": True}, False, "TransactionSync_20260308230405.txt"),
        ({"filename_time": True}, True, "TransactionSync_20260308230405_01.txt"),
    ]:
        assert txn.namers(context(options), numbered)["issued"](1) == expected


def test_every_other_kind_has_a_distinct_word_after_the_prefix() -> None:
    names = {kind: name_for(12) for kind, name_for in txn.namers(context({}), True).items()}
    assert names["product_level"] == "TransactionSync_ProductLevel_20260308_12.txt"
    assert names["custom_field"] == "TransactionSync_CustomField_20260308_12.txt"
    assert len(set(names.values())) == len(txn.KIND_KEYS)
    # A receiver tells the main file by the digit after "TransactionSync_".
    others = [name for kind, name in names.items() if kind != "issued"]
    assert all(name[len("TransactionSync_")].isalpha() for name in others)
    assert names["issued"][len("TransactionSync_")].isdigit()


def test_stamp_is_the_sync_zone_and_shared_on_repeats() -> None:
    tokyo = txn.namers(context({}, zone="Asia/Tokyo"), False)
    assert tokyo["cancelled"](1) == "TransactionSync_Cancelled_20260309.txt"
    taken = {"TransactionSync_PromoCodeBonus_20260308.txt"}
    repeat = txn.namers(context({}, taken=taken), False)
    assert repeat["issued"](1) == "TransactionSync_20260308230405.txt"
    assert repeat["promo_code_bonus"](1) == "TransactionSync_PromoCodeBonus_20260308230405.txt"


def test_options_validation() -> None:
    sync_type = exporters.get("transaction")
    assert sync_type.default_options()["file_kinds"] == list(txn.KIND_KEYS)
    cleaned = sync_type.clean_options({"file_kinds": "custom_field, issued", "max_records": "500"})
    assert cleaned["file_kinds"] == ["issued", "custom_field"]
    assert cleaned["max_records"] == 500
    for bad in ({"file_kinds": []}, {"file_kinds": ["basket"]}, {"max_records": "0"}):
        with pytest.raises(OptionsInvalid):
            sync_type.clean_options(bad)


def test_multi_minimum_is_a_count_of_choices() -> None:
    option = Option(
        "k", "Kinds", OptionKind.MULTI, ["a"], choices=(("a", "A"), ("b", "B")), minimum=2
    )
    assert option.clean(["b", "a"]) == ["a", "b"]
    with pytest.raises(ValueError, match="choose at least 2"):
        option.clean(["a"])
    unbounded = Option("k", "Kinds", OptionKind.MULTI, [], choices=(("a", "A"),))
    assert unbounded.clean([]) == []
