"""Helpers for the tests of member_extended, member_ranking and member_ranking_extended.

``at`` gives fixed, timezone-aware times for the services' ``at=`` arguments; the shared
helpers (``check_golden``, ``export_around_write``, reference rows) live in ``tests.fixtures``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.fixtures.exports import export_around_write, reference_rows
from tests.fixtures.golden_files import check_golden_bytes as check_golden

__all__ = ["DAY0", "at", "check_golden", "export_around_write", "reference_lines"]

DAY0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def at(days: int = 0, minutes: int = 0) -> datetime:
    """A fixed moment ``days`` and ``minutes`` after 2026-11-01 09:00 UTC."""
    return DAY0 + timedelta(days=days, minutes=minutes)


def reference_lines(app: Flask, key: str, **kwargs: Any) -> list[str]:
    """Every reference query's rows, as one list of lines (what the benchmark runs)."""
    return [line for rows in reference_rows(app, key, **kwargs) for line in rows]
