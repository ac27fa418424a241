"""``flask loyalty load / kinds / template``: exit codes, the report file, the JSON
summary, the load record and its audit event; refusals store nothing."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from loyalty.models import Location
from tests.integration.cli_support import cli_events, invoke
from tests.integration.loading.support import csv_bytes
from webapp.extensions import db
from webapp.models.loads import LoadRecord

ROWS = [
    {"ext_ref": "LOC1", "name": "Main Street", "business_unit": "RETAIL"},
    {"ext_ref": "LOC2", "name": "", "business_unit": "RETAIL"},
    {"ext_ref": "LOC3", "name": "Harbour", "business_unit": "RETAIL"},
]


def locations() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Location)) or 0)


def test_load_records_audits_and_reports(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    path.write_bytes(csv_bytes(ROWS))
    report = tmp_path / "report.csv"
    refused = invoke(runner, "loyalty", "load", "locations", str(path), code=2)
    assert "rejected" in refused.stdout and "line 3 name: name is required." in refused.stderr
    assert locations() == 0
    done = invoke(
        runner,
        "loyalty",
        "load",
        "locations",
        str(path),
        "--mode",
        "skip-bad-rows",
        "--report",
        str(report),
        "--json",
        code=1,
    )
    summary = json.loads(done.stdout)
    assert (summary["outcome"], summary["applied"], summary["rejected"]) == ("partial", 2, 1)
    assert "rejected 1" in done.stderr  # the progress line
    assert list(csv.reader(report.read_text().splitlines())) == [
        ["line", "field", "value", "reason"],
        ["3", "name", "", "name is required."],
    ]
    assert locations() == 2
    again = invoke(
        runner,
        "loyalty",
        "load",
        "locations",
        str(path),
        "--mode",
        "skip-bad-rows",
        "--json",
        code=1,
    )
    assert (json.loads(again.stdout)["applied"], json.loads(again.stdout)["unchanged"]) == (0, 2)
    records = list(db.session.scalars(select(LoadRecord).order_by(LoadRecord.id)))
    assert [(r.outcome, r.rows_read, r.rows_applied, r.rows_rejected) for r in records] == [
        ("rejected", 3, 0, 1),
        ("partial", 3, 2, 1),
        ("partial", 3, 0, 1),
    ]
    assert {r.sha256 for r in records} == {hashlib.sha256(path.read_bytes()).hexdigest()}
    events = cli_events("loyalty.load")
    assert sorted(e.detail["outcome"] for e in events) == ["partial", "partial", "rejected"]
    assert {e.object_type for e in events} == {"LoadRecord"}


def test_refusals_are_one_line_exit_2_and_store_nothing(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    path.write_bytes(b"ext_ref,colour\nLOC1,red\n")
    wrong = invoke(runner, "loyalty", "load", "locations", str(path), code=2)
    assert wrong.stderr.startswith("Error: wrong header: unknown column(s)")
    unknown = invoke(runner, "loyalty", "load", "planets", str(path), code=2)
    assert "unknown kind 'planets'" in unknown.stderr
    missing = invoke(runner, "loyalty", "load", "locations", str(tmp_path / "nope.csv"), code=2)
    assert "not a readable file" in missing.stderr
    assert locations() == 0
    outcomes = [r.outcome for r in db.session.scalars(select(LoadRecord))]
    assert outcomes == ["refused", "refused"]


def test_dry_run_stores_nothing_and_exits_0(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    path.write_bytes(csv_bytes([ROWS[0], ROWS[2]]))
    result = invoke(runner, "loyalty", "load", "locations", str(path), "--dry-run", "--json")
    assert json.loads(result.stdout)["changed"] == 2
    assert locations() == 0


def test_kinds_and_a_template_that_loads(runner: Any, tmp_path: Path) -> None:
    listed = invoke(runner, "loyalty", "kinds").stdout
    assert [line.split()[0] for line in listed.splitlines()] == [
        "locations",
        "products",
        "members",
        "transactions",
        "reward_types",
    ]
    target = tmp_path / "locations.csv"
    invoke(runner, "loyalty", "template", "locations", "-o", str(target))
    header = next(csv.reader(target.read_text().splitlines()))
    assert header[:3] == ["ext_ref", "name", "business_unit"]
    invoke(runner, "loyalty", "load", "locations", str(target))
    assert locations() == 1
    invoke(runner, "loyalty", "template", "planets", code=2)
