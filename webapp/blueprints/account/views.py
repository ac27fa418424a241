"""My account: one's own role and permissions, and changing one's own password.

Any logged-in user may use it (``account.self`` is in every role). Changing the password
ends every other session of the user, copies of this cookie included: the session version
moves on (as on logout) and this session is logged in again under the new version.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_user
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.auth_setup import start_session
from webapp.blueprints.account.forms import PasswordChangeForm
from webapp.extensions import db, limiter
from webapp.forms import apply_errors
from webapp.services import users
from webapp.services.permissions import (
    ACCOUNT_SELF,
    ALL_PERMISSIONS,
    ROLE_PERMISSIONS,
    permission_required,
)

bp = Blueprint("account", __name__)


def _user() -> Any:
    return current_user._get_current_object()


def _limit_key() -> str:
    return f"password-change-user:{getattr(current_user, 'id', None)}"


@bp.route("", methods=["GET"])
@permission_required(ACCOUNT_SELF)
def index() -> str:
    return _page(PasswordChangeForm(formdata=None))


@bp.route("/password", methods=["POST"])
@permission_required(ACCOUNT_SELF)
@limiter.limit(
    lambda: current_app.config.get("PASSWORD_CHANGE_LIMIT") or "10 per hour",
    key_func=_limit_key,
)
def change_password() -> str | Response:
    form = PasswordChangeForm()
    user = _user()
    if not form.validate():  # the CSRF token
        return _page(form)
    try:
        users.change_own_password(
            user,
            form.current_password.data or "",
            form.new_password.data or "",
            form.new_password_confirm.data or "",
        )
    except ValidationError as exc:
        # The refusal's audit row is kept; nothing else was changed.
        db.session.commit()
        apply_errors(form, exc)
        return _page(form)
    db.session.commit()
    # This session continues under the new session version; all others have ended.
    session.clear()
    login_user(user)
    start_session()
    flash("Password changed. Your other sessions have been logged out.")
    return redirect(url_for("account.index"))


def _page(form: PasswordChangeForm) -> str:
    user = _user()
    granted = ROLE_PERMISSIONS.get(user.role, frozenset())
    return render_template(
        "account/index.html",
        user=user,
        form=form,
        permissions=[(key, text, key in granted) for key, text in ALL_PERMISSIONS.items()],
        min_length=users.MIN_PASSWORD_LENGTH,
        tokens_url=_tokens_url(),
    )


def _tokens_url() -> str | None:
    """The API tokens page (``/account/tokens``), when a blueprint provides it."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/account/tokens" and "GET" in (rule.methods or ()):
            return "/account/tokens"
    return None
