"""Reading the audit log: filters, changes in words ("field: before → after"), CSV.

The log stores what each action did as JSON; people read it as a list of changed fields.
Every writer in the services uses one of a few shapes (``{"field": {"from": a, "to": b}}``
for edits, ``{"from": a, "to": b}`` for one value such as a role, plain values for what a
creation or deletion named); :func:`changes` turns each into rows, and anything else is
shown as plain values, never dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select

from webapp.extensions import db
from webapp.models.audit import AuditEvent

MAX_ACTOR_FILTER = 254
CSV_COLUMNS = ("id", "at_utc", "actor", "action", "object", "sync_id", "from_address", "changes")
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets
# (OWASP "CSV injection"); such a cell gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any = None
    after: Any = None
    value: Any = None
    is_change: bool = False


@dataclass(frozen=True)
class Filters:
    sync_id: int | None = None
    user_id: int | None = None
    actor: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the CSV link of the same view)."""
        values = {
            "sync": self.sync_id,
            "user": self.user_id,
            "actor": self.actor,
            "action": self.action,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_date(raw: str | None, name: str) -> date | None:
    """``YYYY-MM-DD`` or empty; ValueError naming the argument otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, e.g. 2026-12-01.") from None


def query(filters: Filters) -> Select[AuditEvent]:
    """Newest first, narrowed by every filter given."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.sync_id:
        statement = statement.where(AuditEvent.sync_id == filters.sync_id)
    if filters.user_id:
        statement = statement.where(AuditEvent.user_id == filters.user_id)
    if filters.actor:
        # Also the non-human actors (cli:root, scheduler) that have no user id.
        statement = statement.where(AuditEvent.actor.contains(filters.actor, autoescape=True))
    if filters.action:
        # "sync" matches every sync.* action; "sync.enable" matches exactly that one.
        action = filters.action
        statement = statement.where(
            (AuditEvent.action == action) | AuditEvent.action.startswith(action.rstrip(".") + ".")
        )
    if filters.since:
        statement = statement.where(AuditEvent.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        statement = statement.where(AuditEvent.at < end)
    return statement


def _is_change(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"from", "to"}


def changes(detail: dict[str, Any] | None) -> list[Change]:
    """The rows a person reads for one event's detail."""
    if not detail:
        return []
    if _is_change(detail):
        return [Change("value", before=detail["from"], after=detail["to"], is_change=True)]
    rows: list[Change] = []
    for key, value in detail.items():
        if _is_change(value):
            if isinstance(value["from"], dict) and isinstance(value["to"], dict):
                # Nested options: one row per option that changed.
                for sub in sorted(set(value["from"]) | set(value["to"])):
                    before, after = value["from"].get(sub), value["to"].get(sub)
                    if before != after:
                        rows.append(Change(f"{key}.{sub}", before, after, is_change=True))
                continue
            rows.append(Change(key, before=value["from"], after=value["to"], is_change=True))
        else:
            rows.append(Change(key, value=value))
    return rows


def shown(value: Any) -> str:
    """One value as text: empty for None, JSON for lists and dicts."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes_text(detail: dict[str, Any] | None) -> str:
    parts = []
    for row in changes(detail):
        if row.is_change:
            parts.append(f"{row.field}: {shown(row.before)} → {shown(row.after)}")
        else:
            parts.append(f"{row.field}: {shown(row.value)}")
    return "; ".join(parts)


def safe_cell(value: Any) -> str:
    """A CSV cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_lines(filters: Filters, batch: int = 500) -> Iterator[str]:
    """The filtered log as CSV, header first, streamed in batches of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    events = db.session.scalars(query(filters).execution_options(yield_per=batch))
    for count, event in enumerate(events, start=1):
        writer.writerow(
            [
                safe_cell(event.id),
                safe_cell(event.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),
                safe_cell(event.actor),
                safe_cell(event.action),
                safe_cell(f"{event.object_type} #{event.object_id}" if event.object_type else ""),
                safe_cell(event.sync_id),
                safe_cell(event.remote_addr),
                safe_cell(changes_text(event.detail)),
            ]
        )
        if count % batch == 0:
            yield flush()
    yield flush()
