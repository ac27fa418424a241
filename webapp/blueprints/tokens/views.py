"""API tokens page (``/account/tokens``): a user creates, sees and revokes their own tokens.

A new token is shown once, on the page that created it (like a new user's password);
the list shows only a prefix, the scopes, expiry and last use. Scopes offered are the
user's own permissions; the service refuses anything beyond them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.services import tokens
from webapp.services.permissions import ACCOUNT_SELF, ALL_PERMISSIONS, permission_required

bp = Blueprint("tokens", __name__)


def _user() -> Any:
    return current_user._get_current_object()


def _page(
    errors: dict[str, str] | None = None, created: str | None = None, status: int = 200
) -> tuple[str, int]:
    user = _user()
    offered = [p for p in ALL_PERMISSIONS if p in tokens.role_scopes(user)]
    return (
        render_template(
            "tokens/index.html",
            items=tokens.list_tokens(user),
            state=tokens.state,
            offered=offered,
            descriptions=ALL_PERMISSIONS,
            errors=errors or {},
            created=created,
            values=request.form if request.method == "POST" else {},
            default_days=tokens.DEFAULT_EXPIRY_DAYS,
            max_days=tokens.MAX_EXPIRY_DAYS,
        ),
        status,
    )


@bp.route("", methods=["GET"])
@permission_required(ACCOUNT_SELF)
def index() -> tuple[str, int]:
    return _page()


@bp.route("", methods=["POST"])
@permission_required(ACCOUNT_SELF)
def create() -> tuple[str, int]:
    try:
        _token, text = tokens.create_token(
            _user(),
            request.form.get("name", ""),
            request.form.getlist("scopes"),
            request.form.get("expires_in_days", ""),
            user=_user(),
        )
    except ValidationError as exc:
        db.session.rollback()
        return _page(exc.errors, status=422)
    db.session.commit()
    return _page(created=text)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@permission_required(ACCOUNT_SELF)
def revoke(token_id: int) -> Response:
    token = tokens.get_token(token_id, _user())  # another user's token: 404
    if tokens.revoke_token(token, user=_user()):
        db.session.commit()
        flash(f"Token “{token.name}” revoked; it no longer works.")
    return redirect(url_for("tokens.index"))
