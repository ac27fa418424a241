"""member_future_point_expiration: dated header, projections placed by their expiry day,
member selection, corporate-zone file name, splitting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from loyalty.models import Member
from loyalty.services import members, points
from tests.integration.exporters.members_b_support import all_bytes, check_golden, enrol
from webapp.extensions import db

KEY = "member_future_point_expiration"
FIXED = "Member Id|Member Account Id|Future Expiration Process Date"
# RUN_START is 2026-11-23: cycle 1 ends 2026-11-30.
HEADER = (
    FIXED + "|Points1Expire20261130|Points2Expire20261231|Points3Expire20270131"
    "|Points4Expire20270228|Points5Expire20270331|Points6Expire20270430"
)
NAME = "Member_Future_Point_Expiration_Sync_20261123140509_01.txt"
PROCESSED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def data() -> list[Member]:
    """Points expire at the end of the month 12 months after they were earned."""
    ann = enrol("A1", when=utc(2025, 1, 5), first_name="Ann")
    points.adjust_points(db.session(), ann, 100, at=utc(2025, 11, 10))  # 2026-11-30
    points.adjust_points(db.session(), ann, 50, at=utc(2026, 1, 15))  # 2027-01-31
    points.adjust_points(db.session(), ann, "25.5", at=utc(2026, 4, 2))  # 2027-04-30
    points.adjust_points(db.session(), ann, 10, at=utc(2026, 6, 1))  # 2027-06-30: beyond
    points.redeem_points(db.session(), ann, 30, at=utc(2026, 6, 2))  # FIFO: from the 100
    bob = enrol("B2", when=utc(2025, 1, 5), first_name="Bob")
    points.adjust_points(db.session(), bob, 40, at=utc(2025, 12, 5))  # 2026-12-31
    cat = enrol("C3", when=utc(2025, 1, 5), first_name="Cat")  # nothing to expire
    gone = enrol("D4", when=utc(2025, 1, 5), first_name="Dan")
    points.adjust_points(db.session(), gone, 5, at=utc(2025, 11, 10))
    everyone = [ann, bob, cat, gone]
    points.project_point_expirations(db.session(), [m.id for m in everyone], processed_at=PROCESSED)
    members.delete_member(db.session(), gone, at=utc(2026, 11, 21))
    db.session.commit()
    return everyone


ANN = "1|A1|2026-11-20 02:00:00|70.00|0.00|50.00|0.00|0.00|25.50"
BOB = "2|B2|2026-11-20 02:00:00|0.00|40.00|0.00|0.00|0.00|0.00"
CAT = "3|C3||0.00|0.00|0.00|0.00|0.00|0.00"


def test_all_members_with_dated_header(run_export: Any) -> None:
    data()
    exported = run_export(KEY)
    assert exported.names == [NAME]
    assert exported.lines() == [HEADER, ANN, BOB, CAT]


def test_only_members_expiring_next_period(run_export: Any) -> None:
    data()
    exported = run_export(KEY, options={"member_selection": "expiring_next"})
    assert exported.lines() == [HEADER, ANN]


def test_goldens(run_export: Any) -> None:
    data()
    check_golden(all_bytes(run_export(KEY)), KEY, "all_members")
    check_golden(
        all_bytes(run_export(KEY, options={"member_selection": "expiring_next"})),
        KEY,
        "expiring_next",
    )
    check_golden(all_bytes(run_export(KEY, options={"max_records": 2})), KEY, "split_2")


def test_an_older_projection_lands_in_the_columns_of_its_dates(run_export: Any) -> None:
    eve = enrol("E5", when=utc(2025, 1, 5), first_name="Eve")
    points.adjust_points(db.session(), eve, 7, at=utc(2025, 10, 3))  # 2026-10-31
    points.adjust_points(db.session(), eve, 9, at=utc(2025, 12, 3))  # 2026-12-31
    # Projected in October: cycle 1 = 2026-10-31, cycle 3 = 2026-12-31.
    points.project_point_expirations(
        db.session(), [eve.id], processed_at=datetime(2026, 10, 15, 1, 0, tzinfo=UTC)
    )
    db.session.commit()
    # In November the October amount is due at the next expiration run (column 1), and
    # the December amount is in the December column (2), not in its old cycle number (3).
    assert run_export(KEY).lines()[1] == "1|E5|2026-10-15 01:00:00|7.00|9.00|0.00|0.00|0.00|0.00"


def test_cycles_and_name_follow_the_corporate_timezone(app: Flask, run_export: Any) -> None:
    data()
    app.config["CORPORATE_TIMEZONE"] = "America/New_York"
    # 03:00 UTC on 1 December is still 30 November, 22:00, in New York.
    exported = run_export(KEY, started=datetime(2026, 12, 1, 3, 0, tzinfo=UTC), timezone="UTC")
    assert exported.names == ["Member_Future_Point_Expiration_Sync_20261130220000_01.txt"]
    assert exported.lines()[0].split("|")[3:5] == ["Points1Expire20261130", "Points2Expire20261231"]
    exported = run_export(KEY, started=datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    assert exported.names == ["Member_Future_Point_Expiration_Sync_20261201010000_01.txt"]
    assert exported.lines()[0].split("|")[3:5] == ["Points1Expire20261231", "Points2Expire20270131"]
    # Ann's November points are now past cycle 1's day: still in cycle 1 (due next run).
    assert exported.lines()[1] == "1|A1|2026-11-20 02:00:00|70.00|50.00|0.00|0.00|25.50|0.00"


def test_values_never_shift_columns(run_export: Any) -> None:
    odd = enrol("Q.1_x", first_name="Zoë")
    db.session.commit()
    # The services allow no delimiter in an account id; older data might hold one.
    odd.primary_account_id = "Q|1\r\nx"
    db.session.commit()
    assert run_export(KEY).lines()[1:] == [f"{odd.id}|Q¦1  x||0.00|0.00|0.00|0.00|0.00|0.00"]


@pytest.mark.parametrize(("count", "files"), [(3, 1), (4, 2)])
def test_splitting_boundary(run_export: Any, count: int, files: int) -> None:
    for n in range(count):
        enrol(f"S{n}")
    db.session.commit()
    exported = run_export(KEY, options={"max_records": 3})
    stamp = "20261123140509"
    assert exported.names == [
        f"Member_Future_Point_Expiration_Sync_{stamp}_{i:02d}.txt" for i in range(1, files + 1)
    ]
    assert [f.rows for f in exported.result.files] == [3, 1][:files]
    assert all(exported.lines(i)[0] == HEADER for i in range(files))


def test_no_members_still_gives_a_header_file(run_export: Any) -> None:
    exported = run_export(KEY, options={"member_selection": "expiring_next"})
    assert exported.names == [NAME]
    assert exported.lines() == [HEADER]
