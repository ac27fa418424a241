"""``/tokens``: the calling token's owner's own tokens (never anyone else's), and
revoking one of them. Creating tokens is for a person (the API tokens page) or the
server's operator (``flask tokens create``), not for a token."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint

from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware
from webapp.extensions import db
from webapp.services import tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens")


class TokenSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(attribute="display_prefix")
    scopes = ma.fields.List(ma.fields.String())
    state = ma.fields.Function(lambda t: tokens.state(t))
    created_at = Aware()
    expires_at = Aware()
    last_used_at = Aware(allow_none=True)
    last_used_addr = ma.fields.String(allow_none=True)
    revoked_at = Aware(allow_none=True)


class TokenList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TokenSchema))


@bp.route("")
@api_permission()
@bp.response(200, TokenList)
def list_tokens() -> dict[str, Any]:
    """The tokens of this token's owner (any valid token may list them)."""
    return {"items": tokens.list_tokens(acting_user())}


@bp.route("/<int:token_id>", methods=["DELETE"])
@api_permission()
@bp.response(204)
def revoke_token(token_id: int) -> Response:
    """Revoke one of the owner's tokens (this one included); another user's is 404."""
    token = tokens.get_token(token_id, acting_user())
    tokens.revoke_token(token, user=acting_user())
    db.session.commit()
    return Response(status=204)
