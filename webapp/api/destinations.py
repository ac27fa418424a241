"""``/syncs/{id}/destinations`` and ``/destinations/{id}``: list, add, edit (``PATCH``
with ``If-Match``), remove, and Test connection (a job; poll its result, then pin the
fingerprint it shows with a PATCH). Secrets go in, never out: a destination says only
whether it has a password or a private key."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, abort, current_app, url_for
from flask_smorest import Blueprint

from loyalty.errors import NotFound
from webapp.api import auth
from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware, Strict
from webapp.api.etags import IF_MATCH_REQUIRED, etag_of, require_if_match
from webapp.api.problem import problem
from webapp.extensions import db, limiter
from webapp.models.syncs import Destination
from webapp.services import connection_test, destinations, syncs
from webapp.services.permissions import SYNC_CONFIGURE

bp = Blueprint("api_destinations", __name__, url_prefix="/api/v1", description="Destinations")

# What a destination's edit keeps from the stored row when the PATCH leaves it out.
# Pinned fingerprints are not among them: the service keeps a pin unless the endpoint
# moves (then the new server must be tested and pinned again).
_KEPT = ("name", "host", "protocol", "directory", "port", "username", "retries")


class DestinationSchema(ma.Schema):
    id = ma.fields.Integer()
    sync_id = ma.fields.Integer()
    position = ma.fields.Integer()
    name = ma.fields.String()
    protocol = ma.fields.Function(lambda d: str(d.protocol))
    host = ma.fields.String()
    port = ma.fields.Integer(allow_none=True)
    effective_port = ma.fields.Integer()
    directory = ma.fields.String()
    username = ma.fields.String()
    retries = ma.fields.Integer()
    has_password = ma.fields.Function(lambda d: bool(d.password_encrypted))
    has_private_key = ma.fields.Function(lambda d: bool(d.private_key_encrypted))
    host_key_fingerprint = ma.fields.String(allow_none=True)
    host_key_type = ma.fields.String(allow_none=True)
    tls_fingerprint = ma.fields.String(allow_none=True)
    tls_not_after = Aware(allow_none=True)
    created_at = Aware()
    updated_at = Aware()


class DestinationList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DestinationSchema))


def _fields(required: bool) -> dict[str, ma.fields.Field]:
    return {
        "name": ma.fields.String(required=required),
        "host": ma.fields.String(required=required),
        "protocol": ma.fields.String(
            required=required, metadata={"description": "sftp, ftps_explicit or ftps_implicit"}
        ),
        "username": ma.fields.String(required=required),
        "directory": ma.fields.String(),
        "port": ma.fields.Integer(allow_none=True),
        "password": ma.fields.String(load_only=True),
        "private_key": ma.fields.String(load_only=True),
        "retries": ma.fields.Integer(),
        "host_key_fingerprint": ma.fields.String(),
        "host_key_type": ma.fields.String(),
        "tls_fingerprint": ma.fields.String(),
        "tls_not_after": ma.fields.String(
            metadata={"description": "The notAfter a connection test reported (ISO 8601)"}
        ),
    }


DestinationCreate = Strict.from_dict(_fields(True), name="DestinationCreate")
DestinationPatch = Strict.from_dict(_fields(False), name="DestinationPatch")
ConnectionTestStart = Strict.from_dict(
    {
        **_fields(False),
        "destination_id": ma.fields.Integer(
            metadata={
                "description": "Test this stored destination (its stored secret when the "
                "server is unchanged); other fields override its values"
            }
        ),
    },
    name="ConnectionTestStart",
)


class ConnectionTestSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, ok or failed"})
    url = ma.fields.String()
    message = ma.fields.String()
    host_key_fingerprint = ma.fields.String(allow_none=True)
    host_key_type = ma.fields.String(allow_none=True)
    tls_fingerprint = ma.fields.String(allow_none=True)
    tls_not_after = Aware(allow_none=True)
    pinned = ma.fields.String(allow_none=True)
    changed = ma.fields.Boolean()


def _raw(body: dict[str, Any], existing: Destination | None = None) -> dict[str, Any]:
    """The service's input (the form's field names) from a request body."""
    raw: dict[str, Any] = {}
    if existing is not None:
        raw.update({k: getattr(existing, k) for k in _KEPT})
        raw["protocol"] = str(existing.protocol)
    raw.update({k: v for k, v in body.items() if k != "destination_id"})
    raw["port"] = "" if raw.get("port") is None else str(raw["port"])
    if raw.get("retries") is not None:
        raw["retries"] = str(raw["retries"])
    raw["password_confirm"] = raw.get("password") or ""
    if body.get("tls_not_after") and body.get("tls_fingerprint"):
        raw["tls_not_after"] = f"{body['tls_fingerprint']}@{body['tls_not_after']}"
    return raw


def _load(destination_id: int, *, for_update: bool = False) -> Destination:
    destination = destinations.get_destination(destination_id)
    syncs.get_sync(destination.sync_id, acting_user())
    if for_update and db.engine.dialect.name == "postgresql":
        db.session.refresh(destination, with_for_update=True)
    return destination


def _etag(destination: Destination) -> str:
    return etag_of(DestinationSchema().dump(destination))


def _answer(destination: Destination, status: int = 200) -> Response:
    response = Response(
        DestinationSchema().dumps(destination), status=status, mimetype="application/json"
    )
    response.set_etag(_etag(destination).strip('"'))
    if status == 201:
        response.headers["Location"] = url_for(
            "api_destinations.get_destination", destination_id=destination.id
        )
    return response


@bp.route("/syncs/<int:sync_id>/destinations")
@api_permission(SYNC_CONFIGURE)
@bp.response(200, DestinationList)
def list_destinations(sync_id: int) -> dict[str, Any]:
    """A sync's destinations (at most 6), in position order."""
    sync = syncs.get_sync(sync_id, acting_user())
    return {"items": list(sync.destinations)}


@bp.route("/syncs/<int:sync_id>/destinations", methods=["POST"])
@api_permission(SYNC_CONFIGURE)
@bp.arguments(DestinationCreate)
@bp.response(201, DestinationSchema)
def add_destination(body: dict[str, Any], sync_id: int) -> Response:
    """Add a destination (a password, or for sFTP a private key, is required)."""
    sync = syncs.get_sync(sync_id, acting_user())
    destination = destinations.add_destination(sync, _raw(body), user=acting_user())
    db.session.commit()
    return _answer(destination, 201)


@bp.route("/destinations/<int:destination_id>")
@api_permission(SYNC_CONFIGURE)
@bp.response(200, DestinationSchema)
def get_destination(destination_id: int) -> Response:
    """One destination, with its ETag."""
    return _answer(_load(destination_id))


@bp.route("/destinations/<int:destination_id>", methods=["PATCH"])
@api_permission(SYNC_CONFIGURE)
@bp.arguments(DestinationPatch)
@bp.response(200, DestinationSchema)
@bp.doc(parameters=[IF_MATCH_REQUIRED])
def update_destination(body: dict[str, Any], destination_id: int) -> Response:
    """Edit; fields left out keep their values, the password too (unless the server,
    port, type or user changes: then the secret must be sent again). Needs If-Match."""
    destination = _load(destination_id, for_update=True)
    require_if_match(_etag(destination))
    destinations.update_destination(destination, _raw(body, destination), user=acting_user())
    db.session.commit()
    return _answer(destination)


@bp.route("/destinations/<int:destination_id>", methods=["DELETE"])
@api_permission(SYNC_CONFIGURE)
@bp.response(204)
def delete_destination(destination_id: int) -> Response:
    """Remove a destination (past transfers keep its name). If-Match is checked when sent."""
    destination = _load(destination_id, for_update=True)
    require_if_match(_etag(destination), required=False)
    destinations.delete_destination(destination, user=acting_user())
    db.session.commit()
    return Response(status=204)


def _test_key() -> str:
    token = auth.resolve()
    owner = getattr(token, "user_id", None)
    return f"api-connection-test-user:{owner}"


def _outcome_body(sync_id: int, test_id: str, outcome: connection_test.Outcome) -> dict[str, Any]:
    return {
        "id": test_id,
        "status": "pending" if outcome.pending else ("ok" if outcome.ok else "failed"),
        "url": url_for("api_destinations.get_connection_test", sync_id=sync_id, test_id=test_id),
        "message": outcome.message,
        "host_key_fingerprint": outcome.host_key_fingerprint,
        "host_key_type": outcome.host_key_type,
        "tls_fingerprint": outcome.tls_fingerprint,
        "tls_not_after": outcome.tls_not_after,
        "pinned": outcome.pinned,
        "changed": outcome.changed,
    }


@bp.route("/syncs/<int:sync_id>/connection-tests", methods=["POST"])
@api_permission(SYNC_CONFIGURE)
@limiter.limit(lambda: current_app.config["CONNECTION_TEST_LIMIT"], key_func=_test_key)
@bp.arguments(ConnectionTestStart)
@bp.response(202, ConnectionTestSchema)
def start_connection_test(body: dict[str, Any], sync_id: int) -> Any:
    """Test connection, as the page's button: connect, log in, write and remove a probe
    file, and report the server's key or certificate fingerprint to pin. Runs in a
    worker; poll the returned url until status is not pending."""
    sync = syncs.get_sync(sync_id, acting_user())
    existing: Destination | None = None
    if body.get("destination_id") is not None:
        existing = destinations.get_destination(body["destination_id"])
        if existing.sync_id != sync.id:
            raise NotFound(f"No destination with id {body['destination_id']} in this sync.")
    raw = _raw(body, existing)
    if existing is not None and not body.get("password"):
        raw["password"] = raw["password_confirm"] = ""
    started = connection_test.start(raw, existing, sync_id=sync.id, user=acting_user())
    if isinstance(started, connection_test.Outcome):
        return problem(422, started.message, kind="validation")
    pending = connection_test.Outcome(ok=False, message="Testing…", pending=True)
    body_out = _outcome_body(sync.id, started, pending)
    return body_out, 202, {"Location": body_out["url"]}


@bp.route("/syncs/<int:sync_id>/connection-tests/<string:test_id>")
@api_permission(SYNC_CONFIGURE)
@bp.response(200, ConnectionTestSchema)
def get_connection_test(sync_id: int, test_id: str) -> Any:
    """A connection test's result (only the user who started it can read it)."""
    syncs.get_sync(sync_id, acting_user())
    if len(test_id) > 64:
        abort(404)
    outcome = connection_test.outcome(test_id, acting_user())
    if outcome is None:
        raise NotFound("No such connection test (they are kept for 5 minutes).")
    return _outcome_body(sync_id, test_id, outcome)
