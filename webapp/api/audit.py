"""``/audit-events``: the audit log, newest first, filtered like the Audit log page, as
JSON pages or a CSV export (streamed, every matching event)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Response, stream_with_context
from flask_smorest import Blueprint
from sqlalchemy import Select, select

from webapp.api.auth import api_permission
from webapp.api.common import Aware
from webapp.api.pagination import PageArgs, StrictQuery, page, page_schema
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.services.permissions import AUDIT_VIEW

bp = Blueprint("api_audit", __name__, url_prefix="/api/v1", description="Audit log")
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "user_id",
    "action",
    "object_type",
    "object_id",
    "sync_id",
    "remote_addr",
    "detail",
)


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = Aware()
    actor = ma.fields.String()
    user_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    object_type = ma.fields.String(allow_none=True)
    object_id = ma.fields.Integer(allow_none=True)
    sync_id = ma.fields.Integer(allow_none=True)
    remote_addr = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()


AuditPage = page_schema(AuditEventSchema, "AuditPage")


class AuditFilter(StrictQuery):
    sync = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    user = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    action = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": '"sync" matches every sync.* action; "sync.enable" one'},
    )
    since = Aware()
    until = Aware()


class AuditListArgs(PageArgs, AuditFilter):
    pass


def _query(args: dict[str, Any]) -> Select[Any]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("sync"):
        query = query.where(AuditEvent.sync_id == args["sync"])
    if args.get("user"):
        query = query.where(AuditEvent.user_id == args["user"])
    action = (args.get("action") or "").strip()
    if action:
        query = query.where(
            (AuditEvent.action == action) | AuditEvent.action.startswith(action.rstrip(".") + ".")
        )
    if args.get("since"):
        query = query.where(AuditEvent.at >= args["since"])
    if args.get("until"):
        query = query.where(AuditEvent.at < args["until"])
    return query


@bp.route("/audit-events")
@api_permission(AUDIT_VIEW)
@bp.arguments(AuditListArgs, location="query")
@bp.response(200, AuditPage)
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """Audit events, newest first."""
    query = _query(args).limit(args["limit"] + 1)
    if args.get("cursor"):
        query = query.where(AuditEvent.id < args["cursor"])
    rows, next_url = page(db.session.scalars(query).all(), args["limit"])
    return {"items": rows, "next": next_url}


def _csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ gets a quote first."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.route("/audit-events.csv")
@api_permission(AUDIT_VIEW)
@bp.arguments(AuditFilter, location="query")
@bp.response(200, {"type": "string"}, content_type="text/csv")
def export_events(args: dict[str, Any]) -> Response:
    """Every matching event as CSV (UTF-8, a header row), streamed in batches."""
    query = _query(args).execution_options(yield_per=500)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        event: AuditEvent
        for event in db.session.scalars(query):
            writer.writerow(
                [
                    _csv_cell(v)
                    for v in (
                        event.id,
                        event.at.isoformat(),
                        event.actor,
                        event.user_id,
                        event.action,
                        event.object_type,
                        event.object_id,
                        event.sync_id,
                        event.remote_addr,
                        json.dumps(event.detail or {}, sort_keys=True),
                    )
                ]
            )
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response
