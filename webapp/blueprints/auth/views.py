"""Login and logout. The login page is the only page reachable without a session."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers.response import Response

from webapp.blueprints.auth.forms import LoginForm
from webapp.extensions import db
from webapp.services import audit, users
from webapp.services.permissions import public

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("syncs.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            audit.record(
                "auth.login_failed",
                detail={"email": (form.email.data or "").lower()},
                actor="anonymous",
            )
            db.session.commit()
            form.password.errors = ["Wrong email or password."]
        else:
            login_user(user)
            audit.record("auth.login", obj=user, user=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public  # logging out needs a session but no permission; it only ends the session
@login_required
def logout() -> Response:
    audit.record("auth.logout", obj=current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect to another site must not be possible."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("syncs.index")
