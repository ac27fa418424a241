"""Every error of an API route as problem+json; the pages keep their HTML errors.

Handlers are registered on each API blueprint (they win over the app's handlers for
those routes); ``install_fallbacks`` covers what no blueprint owns, an unknown URL or
method under ``/api/v1``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from loyalty.errors import NotFound, ValidationError
from webapp.api.etags import PreconditionError
from webapp.api.problem import flatten, problem, validation_problem
from webapp.extensions import db
from webapp.services.permissions import PermissionDenied

log = logging.getLogger(__name__)
_LOCATIONS = {"json", "query", "querystring", "headers", "path", "view_args", "form", "files"}


def _http(error: HTTPException) -> Response:
    db.session.rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers: dict[str, str] = dict(data.get("headers") or {})
    messages = data.get("messages")
    if status == 429:
        retry = getattr(error, "retry_after", None)
        limit = getattr(error, "limit", None)
        if retry is None and limit is not None:
            retry = _retry_after(limit)
        if retry is not None:
            headers.setdefault("Retry-After", str(int(retry)))
        return problem(
            429,
            "Too many requests with this token; wait for Retry-After seconds.",
            kind="rate-limited",
            headers=headers,
        )
    if messages:
        if isinstance(messages, dict) and set(messages) <= _LOCATIONS:
            merged: dict[str, Any] = {}
            for value in messages.values():
                merged.update(flatten(value))
            errors = merged
        else:
            errors = flatten(messages)
        if status == 422:
            return validation_problem(errors)
        return problem(status, data.get("message") or error.description, errors=errors)
    detail = data.get("message") or error.description
    if status == 405:
        headers.setdefault("Allow", ", ".join(sorted(getattr(error, "valid_methods", None) or [])))
        headers = {k: v for k, v in headers.items() if v}
    return problem(status, detail, headers=headers)


def _retry_after(limit: Any) -> int | None:
    """Seconds until the breached window resets (Flask-Limiter also sends the header)."""
    import time

    from webapp.extensions import limiter

    try:
        stats = limiter.limiter.get_window_stats(limit.limit, *limit.key_for())
    except Exception:  # the header injected by Flask-Limiter still says it
        return None
    return max(1, int(stats.reset_time - time.time()))


def _validation(error: ValidationError) -> Response:
    db.session.rollback()
    return validation_problem(error.errors)


def _not_found(error: NotFound) -> Response:
    db.session.rollback()
    return problem(404, str(error) or "Not found.")


def _denied(error: PermissionDenied) -> Response:
    db.session.rollback()
    return problem(403, f"The token's owner lacks the permission {error.permission!r}.")


def _precondition(error: PreconditionError) -> Response:
    db.session.rollback()
    response: Response = error.response()
    return response


def _internal(error: Exception) -> Response:
    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    log.exception("API request failed", exc_info=original)
    return problem(500, "Something went wrong on the server; the request id says which request.")


HANDLERS: list[tuple[Any, Callable[[Any], Response]]] = [
    (ValidationError, _validation),
    (NotFound, _not_found),
    (PermissionDenied, _denied),
    (PreconditionError, _precondition),
    (InternalServerError, _internal),
    (HTTPException, _http),
]


def install(blueprint: Blueprint) -> None:
    for exc, handler in HANDLERS:
        blueprint.register_error_handler(exc, handler)
    # Status codes the app maps to HTML pages must be answered here too: a code handler
    # of the app would otherwise win over this blueprint's class handler.
    for code in (400, 403, 404, 405, 413, 429):
        blueprint.register_error_handler(code, _http)


def install_fallbacks(app: Flask) -> None:
    """An unknown path or method under /api/v1 has no blueprint; answer it in kind."""
    from webapp.api import API_PREFIX

    def _api_or(handler: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
        def choose(error: Any) -> Any:
            if request.path.startswith(API_PREFIX + "/") or handler is None:
                return _http(error)
            return handler(error)

        return choose

    for code in (404, 405):
        previous = app.error_handler_spec[None].get(code, {})
        for exc_class, handler in list(previous.items()):
            previous[exc_class] = _api_or(handler)
        if not previous:
            app.register_error_handler(code, _api_or(None))
