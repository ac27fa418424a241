"""Writing load files and running them in tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from loyalty.loading import LoadResult, get_kind, run_load
from loyalty.models import ChangeLog
from webapp.extensions import db


def csv_bytes(rows: Iterable[Mapping[str, Any]], header: list[str] | None = None) -> bytes:
    rows = list(rows)
    columns = header or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def ndjson_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")


def load(kind: str, data: bytes, name: str = "file.csv", **options: Any) -> LoadResult:
    db.session.commit()
    return run_load(db.session, get_kind(kind), io.BytesIO(data), filename=name, **options)


def change_count() -> int:
    db.session.commit()
    return int(db.session.scalar(select(func.count()).select_from(ChangeLog)) or 0)
