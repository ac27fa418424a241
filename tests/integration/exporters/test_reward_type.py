"""reward_type: the spec's header and example rows byte for byte, names, splitting, goldens."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from loyalty.models import RewardCategory, RewardMasterType, RewardType
from loyalty.services import catalog
from tests.integration.exporters.events_support import check_golden
from webapp.extensions import db

HEADER = (
    "Internal Reward Type Id|Reward Type Name|Reward Type External Reference|"
    "Reward Category Name|Reward Master Type"
)
EXAMPLE = [
    "12|$10 Forced Reward||Default Category|Forced",
    "13|Unique $20 Dinner Reward|20_DINNER_REWARD|Default Category|Choice",
    "14|Visa Gift Card|VISA|Default Category|Gift Card",
]
STARTED = datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)


def spec_data() -> None:
    category = catalog.create(db.session(), RewardCategory, name="Default Category")
    # The example names its ids, so these rows are inserted with them.
    for type_id, name, ref, master in (
        (12, "$10 Forced Reward", None, RewardMasterType.FORCED),
        (13, "Unique $20 Dinner Reward", "20_DINNER_REWARD", RewardMasterType.CHOICE),
        (14, "Visa Gift Card", "VISA", RewardMasterType.GIFT_CARD),
    ):
        db.session.add(
            RewardType(
                id=type_id, name=name, ext_ref=ref, category_id=category.id, master_type=master
            )
        )
    db.session.commit()


def test_spec_example_rows_byte_for_byte(run_export: Any) -> None:
    spec_data()
    exported = run_export("reward_type", started=STARTED)
    # {Database #} = 1 (the test app's database number), {Sync Id} = 1 (the fixture's sync).
    assert exported.names == ["Standard_Reward_Type_Sync_1_1_20261123140509.txt"]
    assert exported.bytes() == ("\r\n".join([HEADER, *EXAMPLE]) + "\r\n").encode()


def test_name_carries_the_database_number_and_sync_id_in_the_sync_zone(
    run_export: Any, app: Any
) -> None:
    spec_data()
    app.config["DATABASE_NUMBER"] = 42
    exported = run_export("reward_type", started=STARTED, timezone="Asia/Tokyo")
    assert exported.names == ["Standard_Reward_Type_Sync_42_1_20261123230509.txt"]
    # A second run in the same second never replaces the first run's file.
    again = run_export(
        "reward_type", started=STARTED, taken={"Standard_Reward_Type_Sync_42_1_20261123140509.txt"}
    )
    assert again.names == ["Standard_Reward_Type_Sync_42_1_20261123140510.txt"]


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [
        (3, [EXAMPLE]),  # exactly N records: one numbered file
        (2, [EXAMPLE[:2], EXAMPLE[2:]]),  # N + 1: a second file with the header
        (1, [[row] for row in EXAMPLE]),
    ],
)
def test_max_records_per_file_splits_and_numbers(
    run_export: Any, maximum: int, expected: list[list[str]]
) -> None:
    spec_data()
    exported = run_export("reward_type", started=STARTED, options={"max_records": maximum})
    assert exported.names == [
        f"Standard_Reward_Type_Sync_1_1_20261123140509_{n}.txt" for n in range(1, len(expected) + 1)
    ]
    for index, rows in enumerate(expected):
        assert exported.lines(index) == [HEADER, *rows]
    assert [f.rows for f in exported.result.files] == [len(rows) for rows in expected]


def test_no_reward_types_writes_the_header_only(run_export: Any) -> None:
    exported = run_export("reward_type", started=STARTED)
    assert exported.lines() == [HEADER]


def test_option_is_validated() -> None:
    import exporters
    from exporters.base import OptionsInvalid

    with pytest.raises(OptionsInvalid, match="at least 1"):
        exporters.get("reward_type").clean_options({"max_records": "0"})
    assert exporters.get("reward_type").clean_options({"max_records": ""}) == {"max_records": None}


def golden_data() -> None:
    """All six master types, inactive types, odd characters; built through the catalog."""
    s = db.session()
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    default = catalog.create(s, RewardCategory, name="Default Category")
    partners = catalog.create(s, RewardCategory, name="Partners | Cafés")
    for name, ref, category, master, active in (
        ("$10 Forced Reward", None, default, "Forced", True),
        ("Unique $20 Dinner Reward", "20_DINNER_REWARD", default, "Choice", True),
        ("Visa Gift Card", "VISA", partners, "Gift Card", True),
        ("Birthday Crème Brûlée", "BDAY", default, "Recurring", True),
        ("Staff\nCoffee", "STAFF", default, "Internal", False),
        ("Pay what | you like", "PWYL", partners, "Variable", True),
    ):
        catalog.create(
            s,
            RewardType,
            name=name,
            ext_ref=ref,
            category_id=category.id,
            master_type=master,
            retail_value=Decimal("10.00"),
            active=active,
            at=at,
        )
    db.session.commit()


def test_golden_default(run_export: Any) -> None:
    golden_data()
    exported = run_export("reward_type", started=STARTED)
    assert exported.names == ["Standard_Reward_Type_Sync_1_1_20261123140509.txt"]
    check_golden(exported.bytes(), "reward_type", "default")


def test_golden_max_records_per_file(run_export: Any) -> None:
    golden_data()
    exported = run_export("reward_type", started=STARTED, options={"max_records": 4})
    assert exported.names == [
        "Standard_Reward_Type_Sync_1_1_20261123140509_1.txt",
        "Standard_Reward_Type_Sync_1_1_20261123140509_2.txt",
    ]
    check_golden(exported.bytes(0), "reward_type", "max_records_4_file_1")
    check_golden(exported.bytes(1), "reward_type", "max_records_4_file_2")
