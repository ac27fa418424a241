"""``/sync-types``: the registered sync types, their options and scope (read-only)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

import exporters
from loyalty.errors import NotFound
from webapp.api.auth import api_permission
from webapp.services.permissions import SYNC_VIEW

bp = Blueprint(
    "api_sync_types", __name__, url_prefix="/api/v1/sync-types", description="Sync types"
)


class OptionSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    kind = ma.fields.Function(lambda o: str(o.kind.value))
    default = ma.fields.Raw(allow_none=True)
    help = ma.fields.String()
    choices = ma.fields.Function(lambda o: [value for value, _label in o.choices])
    minimum = ma.fields.Integer(allow_none=True)
    maximum = ma.fields.Integer(allow_none=True)


class SyncTypeSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    description = ma.fields.String()
    semantics = ma.fields.Function(lambda t: str(getattr(t.semantics, "value", t.semantics)))
    scope = ma.fields.Function(
        lambda t: {"key": t.scope.key, "label": t.scope.label} if t.scope else None,
        metadata={"description": "The object a sync of this type is bound to (params key)"},
    )
    options = ma.fields.List(ma.fields.Nested(OptionSchema))
    file_kinds = ma.fields.Function(lambda t: [k.key for k in t.file_kinds])


class SyncTypeList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SyncTypeSchema))


@bp.route("")
@api_permission(SYNC_VIEW)
@bp.response(200, SyncTypeList)
def list_types() -> dict[str, Any]:
    """Every registered sync type."""
    return {"items": exporters.all_types()}


@bp.route("/<string:key>")
@api_permission(SYNC_VIEW)
@bp.response(200, SyncTypeSchema)
def get_type(key: str) -> Any:
    """One sync type, by key."""
    sync_type = exporters.registry().get(key)
    if sync_type is None:
        raise NotFound(f"No sync type {key!r}.")
    return sync_type
