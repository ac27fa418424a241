"""scripts/audit_deps.py reads pip-audit's JSON report: a vulnerability is a finding, and
packages the service did not know are counted as not audited (review item 15)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.nodb

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The shape pip-audit 2.x writes with --format json.
REPORT = {
    "dependencies": [
        {
            "name": "cryptography",
            "version": "42.0.0",
            "vulns": [
                {
                    "id": "GHSA-6vqw-3v5j-54x4",
                    "fix_versions": ["42.0.4"],
                    "aliases": ["CVE-2024-26130"],
                    "description": "NULL pointer dereference",
                }
            ],
        },
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "rq", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "loyalty-sync", "skip_reason": "Dependency not found on PyPI"},
    ],
    "fixes": [],
}


def test_a_vulnerability_is_reported_with_its_fix() -> None:
    findings, checked, skipped = _script().summarise(REPORT)
    assert findings == ["cryptography 42.0.0: GHSA-6vqw-3v5j-54x4 (fixed in 42.0.4)"]
    assert (checked, skipped) == (2, 1)  # the project itself is not counted as skipped


def test_a_report_that_audited_nothing_says_so() -> None:
    nothing = {"dependencies": [{"name": "rq", "skip_reason": "not found"}], "fixes": []}
    assert _script().summarise(nothing) == ([], 0, 1)
