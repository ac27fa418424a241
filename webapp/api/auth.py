"""Bearer-token authentication and per-request permission checks for ``/api/v1``.

Cookie sessions do not authenticate the API: a request is who its
``Authorization: Bearer lsync_…`` token says, or nobody (401 with
``WWW-Authenticate: Bearer``). So CSRF, a cookie attack, does not apply, and the API
blueprints are exempt from it.

The order is fixed: authenticate (401), then the route's permission, checked as the
token's scope AND the owner's current role (403), before the body or the ids in the path
are even read. So a token without ``sync.view`` gets 403 for ``/syncs/1`` and for
``/syncs/999999`` alike, and never learns which syncs exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from webapp.api.problem import problem
from webapp.extensions import db, login_manager
from webapp.models.tokens import ApiToken
from webapp.models.users import User
from webapp.services import tokens
from webapp.services.permissions import ALL_PERMISSIONS, PERMISSION_ATTRIBUTE, SYNC_VIEW

F = TypeVar("F", bound=Callable[..., Any])
API_PERMISSIONS_ATTRIBUTE = "_api_permissions"
_RESOLVED = "_api_auth_resolved"
OWN_TOKENS = "token.own"  # the routes a token may always use: its owner's token list


def bearer_text() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def resolve() -> ApiToken | tokens.Refusal:
    """The request's token (cached on ``g``: the rate limiter asks first, the view after)."""
    cached = g.get(_RESOLVED)
    if cached is not None:
        return cast("ApiToken | tokens.Refusal", cached)
    result = tokens.authenticate(bearer_text(), request.remote_addr)
    if isinstance(result, ApiToken) and db.session.dirty:
        db.session.commit()  # the last-used time and address
    g.setdefault(_RESOLVED, result)
    return result


def unauthorized(refusal: tokens.Refusal) -> Response:
    error = "" if refusal.reason == "missing" else ', error="invalid_token"'
    return problem(
        401,
        refusal.message,
        kind=f"unauthorized/{refusal.reason}",
        headers={"WWW-Authenticate": f'Bearer realm="api"{error}'},
    )


def forbidden(permission: str, token: ApiToken) -> Response:
    if permission not in (token.scopes or []):
        detail = f"This token's scopes do not include {permission!r}."
    else:
        detail = f"The owner's role no longer grants {permission!r}."
    return problem(403, detail, kind="forbidden")


def required_permissions(endpoint: str | None) -> tuple[str, ...] | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, API_PERMISSIONS_ATTRIBUTE, None)


def check_request() -> Response | None:
    """Run before every API view: None to go on, or the 401/403 to answer with."""
    permissions = required_permissions(request.endpoint)
    if permissions is None:  # the public OpenAPI document and reference page
        return None
    result = resolve()
    if isinstance(result, tokens.Refusal):
        return unauthorized(result)
    g.api_token = result
    # Services and the audit log see the token's owner as the acting user; a session
    # cookie sent along is ignored.
    login_manager._update_request_context_with_user(result.user)
    for permission in implied(permissions):
        if not tokens.allows(result, permission):
            return forbidden(permission, result)
    return None


def implied(permissions: tuple[str, ...]) -> tuple[str, ...]:
    """Every sync action shows the sync: a ``sync.*`` route needs ``sync.view`` too, so a
    token without it learns nothing about which syncs exist (403 before any lookup)."""
    if SYNC_VIEW not in permissions and any(p.startswith("sync.") for p in permissions):
        return (SYNC_VIEW, *permissions)
    return permissions


def api_permission(*permissions: str) -> Callable[[F], F]:
    """Declare (and check) what a token needs for this route.

    The first permission is recorded as ``permission_required`` records it, so the test
    that walks the URL map sees every API route guarded; the check itself runs before
    the view (``check_request``), and once more here in case a route is ever mounted
    without that hook.
    """
    for permission in permissions:
        if permission not in ALL_PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = g.get("api_token")
            if not isinstance(token, ApiToken) or not all(
                tokens.allows(token, p) for p in implied(permissions)
            ):
                refused = check_request()
                if refused is not None:
                    return refused
            return view(*args, **kwargs)

        # No permission: any valid token (its own token list); recorded as such.
        setattr(guarded, PERMISSION_ATTRIBUTE, permissions[0] if permissions else OWN_TOKENS)
        setattr(guarded, API_PERMISSIONS_ATTRIBUTE, tuple(permissions))
        return cast(F, guarded)

    return decorate


def acting_user() -> User:
    """The token's owner (only inside an API view, after ``check_request``)."""
    token: ApiToken = g.api_token
    return token.user


def rate_limit_key() -> str:
    """Flask-Limiter's key: per token when one authenticates, else per client address."""
    result = resolve()
    if isinstance(result, ApiToken):
        return f"api-token:{result.id}"
    return f"api-anonymous:{request.remote_addr}"
