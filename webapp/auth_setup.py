"""Flask-Login wiring: loading users from the session, and what anonymous requests get.

An anonymous page request is redirected to the login page. An anonymous htmx request
(a toggle, a polling status cell) gets 401 with ``HX-Redirect`` so that htmx sends the
whole window to the login page instead of swapping a login form into a table cell.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request, url_for
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

    @login_manager.unauthorized_handler
    def unauthorized() -> BaseResponse:
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            response = Response("Your session has ended; please log in again.", status=401)
            response.headers["HX-Redirect"] = url_for("auth.login")
            return response
        return redirect(target)
