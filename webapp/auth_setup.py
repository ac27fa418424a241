"""Flask-Login wiring: loading users from the session, and what anonymous requests get.

An anonymous page request is redirected to the login page. An anonymous htmx request
(a toggle, a polling status cell) gets 401 with ``HX-Redirect`` so that htmx sends the
whole window to the login page instead of swapping a login form into a table cell.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_login import logout_user
from werkzeug.wrappers.response import Response as BaseResponse

from webapp.extensions import db, login_manager
from webapp.models.users import User


def install_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(identity: str) -> User | None:
        user_id, _, version = identity.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or str(user.session_version) != version:
            return None
        return user

    @app.before_request
    def _session_clocks() -> None:
        end_expired_session()

    @login_manager.unauthorized_handler
    def unauthorized() -> BaseResponse:
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            response = Response("Your session has ended; please log in again.", status=401)
            response.headers["HX-Redirect"] = url_for("auth.login")
            return response
        return redirect(target)


# How often the idle clock is written back to the cookie (not on every poll).
_SEEN_RESOLUTION_SECONDS = 30


def start_session() -> None:
    """Called right after login: the session is permanent (its cookie has the lifetime as
    max-age) and both clocks start."""
    now = int(time.time())
    session.permanent = True
    session["_login_at"] = now
    session["_seen_at"] = now


def end_expired_session() -> None:
    """Log out a session past its lifetime (``PERMANENT_SESSION_LIFETIME`` after login) or
    idle for longer than ``SESSION_IDLE_SECONDS``; the stamps are inside the signed
    cookie, so they cannot be moved by the client."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    idle = int(current_app.config.get("SESSION_IDLE_SECONDS") or 0)
    login_at = session.get("_login_at")
    seen_at = session.get("_seen_at")
    if (
        not isinstance(login_at, int)
        or not isinstance(seen_at, int)
        or now - login_at > lifetime
        or (idle and now - seen_at > idle)
    ):
        logout_user()
        session.clear()
        return
    if now - seen_at >= _SEEN_RESOLUTION_SECONDS:
        session["_seen_at"] = now
