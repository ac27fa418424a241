"""Login throttling: failed logins counted per account and per address in Redis.

Flask-Limiter checks both limits before the view runs, so a blocked try costs no argon2
hash; only failed logins count (``deduct_when``), so people who type their password right
are never slowed. The account key is the submitted e-mail as typed (normalised, bounded),
whether or not such a user exists: the 429 page reads the same either way and so does
not tell which accounts exist. The first blocked try of a window is written to the audit
log (``auth.locked_out``); the following ones are not, so a flood writes one row.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from redis import RedisError

from webapp.blueprints.auth.forms import MAX_EMAIL_LENGTH
from webapp.extensions import db, limiter
from webapp.services import audit
from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client


def submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:MAX_EMAIL_LENGTH]


def account_key() -> str:
    digest = hashlib.sha256(submitted_email().encode("utf-8")).hexdigest()
    return f"login-account:{digest}"


def address_key() -> str:
    return f"login-address:{get_remote_address()}"


def login_failed(response: Response) -> bool:
    """Only a POST that did not log in (a login redirects) counts against the limits."""
    return request.method == "POST" and response.status_code != 302


def _audit_lockout(limit: RequestLimit, by: str) -> None:
    marker = f"{queue_prefix()}:lockout-audited:{hashlib.sha256(limit.key.encode()).hexdigest()}"
    try:
        ttl = max(1, int(limit.reset_at - time.time()) + 1)
        first = redis_client().set(marker, "1", nx=True, ex=ttl)
    except RedisError:
        first = True
    if first:
        audit.record(
            "auth.locked_out",
            detail={"email": submitted_email(), "by": by, "limit": str(limit.limit)},
            actor="anonymous",
        )
        db.session.commit()


def _account_breached(limit: RequestLimit) -> None:
    _audit_lockout(limit, "account")


def _address_breached(limit: RequestLimit) -> None:
    _audit_lockout(limit, "address")


def login_limits() -> list[Callable[[Any], Any]]:
    """The two decorators the login view wears (limits read from the config per request)."""
    return [
        limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
            key_func=account_key,
            methods=["POST"],
            deduct_when=login_failed,
            on_breach=_account_breached,
        ),
        limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
            key_func=address_key,
            methods=["POST"],
            deduct_when=login_failed,
            on_breach=_address_breached,
        ),
    ]
