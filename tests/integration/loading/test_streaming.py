"""Memory stays flat whatever the file's size: the peak of a 10x larger file is within a
small margin of the smaller one's (a memory bound, not a timing assertion)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from loyalty.loading import get_kind, run_load
from loyalty.models import Product
from webapp.extensions import db

# 20k vs 200k as the issue asks takes ~15 min at the rate measured under tracemalloc
# (~240 rows/s on this machine); 1k vs 10k keeps the 10x ratio the bound relies on.
SMALL, LARGE = 1_000, 10_000


def _write(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("sku,name,unit_price,category\n")
        for n in range(rows):
            out.write(f"S{n:09d},Product number {n},{n % 997}.{n % 100:02d},Cat {n % 50}\n")


def _peak(path: Path) -> tuple[int, Any]:
    db.session.commit()
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            result = run_load(
                db.session, get_kind("products"), stream, filename=path.name, mode="skip-bad-rows"
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def test_a_ten_times_larger_file_loads_in_the_same_memory(app: Any, tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write(small, SMALL)
    _write(large, LARGE)
    small_peak, small_result = _peak(small)
    db.session.query(Product).delete()
    db.session.commit()
    large_peak, large_result = _peak(large)
    assert (small_result.changed, large_result.changed) == (SMALL, LARGE)
    assert db.session.scalar(select(func.count()).select_from(Product)) == LARGE
    print(
        f"peak {small_peak / 2**20:.1f} MiB for {SMALL:,} rows, {large_peak / 2**20:.1f} MiB "
        f"for {LARGE:,} ({large_result.rate:,.0f} rows/s under tracemalloc)"
    )
    # Anything that grows with the row count (rows collected in a list, a file read whole)
    # adds ~0.5 MiB per 1,000 rows here (checked: materializing the rows gives 5 MiB at
    # 10,000 against 0.7 MiB at 1,000); a flat loader stays within noise of the small run.
    assert large_peak < small_peak * 1.5 + 2**20
    assert large_peak < 16 * 2**20
