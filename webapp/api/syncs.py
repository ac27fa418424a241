"""``/syncs``: list (filters), get, create and delete (support), settings and options
(``PATCH`` with ``If-Match``), enable and disable; all through ``webapp.services.syncs``."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, url_for
from flask_smorest import Blueprint

from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware, Strict
from webapp.api.etags import IF_MATCH_REQUIRED, etag_of, require_if_match
from webapp.api.pagination import PageArgs, page, page_schema
from webapp.extensions import db
from webapp.models.syncs import Sync
from webapp.services import syncs
from webapp.services.permissions import SYNC_CONFIGURE, SYNC_CREATE, SYNC_MANAGE, SYNC_VIEW

bp = Blueprint("api_syncs", __name__, url_prefix="/api/v1/syncs", description="Syncs")


class SyncSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    type = ma.fields.String(attribute="type_key")
    scope = ma.fields.Dict()
    enabled = ma.fields.Boolean()
    execution_time = ma.fields.String(metadata={"description": "HH:MM in the sync's timezone"})
    timezone = ma.fields.String()
    compression = ma.fields.Function(lambda s: str(s.compression))
    encryption = ma.fields.Function(lambda s: str(s.encryption))
    pgp_armor = ma.fields.Boolean()
    notify_emails = ma.fields.List(ma.fields.String())
    delivery_deadline = ma.fields.String(allow_none=True)
    options = ma.fields.Dict()
    is_demo = ma.fields.Boolean()
    destination_count = ma.fields.Function(lambda s: len(s.destinations))
    created_at = Aware()
    updated_at = Aware()


SyncPage = page_schema(SyncSchema, "SyncPage")


class SyncListArgs(PageArgs):
    type = ma.fields.String(metadata={"description": "Only syncs of this type key"})
    enabled = ma.fields.Boolean(metadata={"description": "Only enabled (true) or disabled"})


class SyncCreate(Strict):
    type = ma.fields.String(required=True, metadata={"description": "A sync type key"})
    name = ma.fields.String(required=True)
    params = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        metadata={"description": 'The type\'s scope, e.g. {"descriptor_id": 7}'},
    )


class SyncPatch(Strict):
    execution_time = ma.fields.String()
    timezone = ma.fields.String()
    compression = ma.fields.String(metadata={"description": "none, gzip or zip"})
    encryption = ma.fields.String(metadata={"description": "none or pgp"})
    pgp_armor = ma.fields.Boolean()
    notify_emails = ma.fields.List(ma.fields.String())
    delivery_deadline = ma.fields.String(allow_none=True)
    options = ma.fields.Dict(keys=ma.fields.String())


def representation(sync: Sync) -> dict[str, Any]:
    data: dict[str, Any] = SyncSchema().dump(sync)
    return data


def etag(sync: Sync) -> str:
    return etag_of(representation(sync))


def load(sync_id: int, *, for_update: bool = False) -> Sync:
    sync = syncs.get_sync(sync_id, acting_user())
    if for_update and db.engine.dialect.name == "postgresql":
        db.session.refresh(sync, with_for_update=True)
    return sync


def answer(sync: Sync, status: int = 200) -> Response:
    data = representation(sync)
    response = Response(
        SyncSchema().dumps(sync), status=status, mimetype="application/json"
    )  # one dump for body and ETag
    response.set_etag(etag_of(data).strip('"'))
    if status == 201:
        response.headers["Location"] = url_for("api_syncs.get_sync", sync_id=sync.id)
    return response


@bp.route("")
@api_permission(SYNC_VIEW)
@bp.arguments(SyncListArgs, location="query")
@bp.response(200, SyncPage)
def list_syncs(args: dict[str, Any]) -> dict[str, Any]:
    """Syncs, oldest first, filtered by type and enabled."""
    items = sorted(syncs.list_syncs(acting_user()), key=lambda s: s.id)
    if args.get("type"):
        items = [s for s in items if s.type_key == args["type"]]
    if "enabled" in args:
        items = [s for s in items if s.enabled == args["enabled"]]
    if args.get("cursor"):
        items = [s for s in items if s.id > args["cursor"]]
    rows, next_url = page(items[: args["limit"] + 1], args["limit"])
    return {"items": rows, "next": next_url}


@bp.route("", methods=["POST"])
@api_permission(SYNC_CREATE)
@bp.arguments(SyncCreate)
@bp.response(201, SyncSchema, headers={"ETag": {"schema": {"type": "string"}}})
def create_sync(body: dict[str, Any]) -> Response:
    """Create a sync (support): it starts disabled, with the type's default options."""
    sync = syncs.create_sync(body["type"], body["name"], body["params"], user=acting_user())
    db.session.commit()
    return answer(sync, 201)


@bp.route("/<int:sync_id>")
@api_permission(SYNC_VIEW)
@bp.response(200, SyncSchema, headers={"ETag": {"schema": {"type": "string"}}})
def get_sync(sync_id: int) -> Response:
    """One sync, with its ETag (send it back in If-Match to change the sync)."""
    return answer(load(sync_id))


@bp.route("/<int:sync_id>", methods=["PATCH"])
@api_permission(SYNC_CONFIGURE)
@bp.arguments(SyncPatch)
@bp.response(200, SyncSchema, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(parameters=[IF_MATCH_REQUIRED])
def update_sync(body: dict[str, Any], sync_id: int) -> Response:
    """Change settings and type options; all or nothing. Needs If-Match."""
    sync = load(sync_id, for_update=True)
    require_if_match(etag(sync))
    syncs.update_settings(sync, body, user=acting_user())
    db.session.commit()
    return answer(sync)


@bp.route("/<int:sync_id>", methods=["DELETE"])
@api_permission(SYNC_CREATE)
@bp.response(204)
def delete_sync(sync_id: int) -> Response:
    """Delete a sync with its destinations and runs (support). If-Match is checked when sent."""
    sync = load(sync_id, for_update=True)
    require_if_match(etag(sync), required=False)
    syncs.delete_sync(sync, user=acting_user())
    db.session.commit()
    return Response(status=204)


def _set_enabled(sync_id: int, enabled: bool) -> Response:
    sync = load(sync_id, for_update=True)
    syncs.set_enabled(sync, enabled, user=acting_user())
    db.session.commit()
    return answer(sync)


@bp.route("/<int:sync_id>/enable", methods=["POST"])
@api_permission(SYNC_MANAGE)
@bp.response(200, SyncSchema)
def enable_sync(sync_id: int) -> Response:
    """Enable: the scheduler runs it from the next execution time on (never past days)."""
    return _set_enabled(sync_id, True)


@bp.route("/<int:sync_id>/disable", methods=["POST"])
@api_permission(SYNC_MANAGE)
@bp.response(200, SyncSchema)
def disable_sync(sync_id: int) -> Response:
    """Disable: no more scheduled runs (a run under way finishes)."""
    return _set_enabled(sync_id, False)
