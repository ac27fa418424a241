"""Login and logout. The login page is the only page reachable without a session."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers.response import Response

from webapp.auth_setup import start_session
from webapp.blueprints.auth.forms import MAX_EMAIL_LENGTH, LoginForm
from webapp.blueprints.auth.throttle import login_limits
from webapp.extensions import db
from webapp.request_guards import local_path
from webapp.services import audit, users
from webapp.services.permissions import public

bp = Blueprint("auth", __name__)


_account_limit, _address_limit = login_limits()


@bp.route("/login", methods=["GET", "POST"])
@public
@_account_limit
@_address_limit
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("syncs.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            audit.record(
                "auth.login_failed",
                detail={"email": (form.email.data or "").strip().lower()[:MAX_EMAIL_LENGTH]},
                actor="anonymous",
            )
            db.session.commit()
            form.password.errors = ["Wrong email or password."]
        else:
            # A new session: nothing from before the login (a planted session, its CSRF
            # token) carries over, and the lifetime and idle clocks start now.
            session.clear()
            login_user(user)
            start_session()
            audit.record("auth.login", obj=user, user=user)
            db.session.commit()
            return redirect(local_path(request.args.get("next"), url_for("syncs.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public  # logging out needs a session but no permission; it only ends the session
@login_required
def logout() -> Response:
    user = current_user._get_current_object()
    audit.record("auth.logout", obj=user)
    # Sessions are signed cookies: a copy taken before logout would still be valid, so
    # logging out moves the user's session version on, which ends every session of the
    # user, this cookie and its copies included (as a password change does).
    user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
