"""Writes the audit log. Called inside the same transaction as the change it records,
so a change and its audit row commit (or roll back) together."""

from __future__ import annotations

import getpass
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.users import User


def cli_actor() -> str:
    """How a command-line action is signed: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def record(
    action: str,
    *,
    obj: Any = None,
    sync_id: int | None = None,
    detail: dict[str, Any] | None = None,
    user: User | None = None,
    actor: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller commits).

    ``user`` defaults to the logged-in user of the current request; ``actor`` names
    non-human actors (``scheduler``, ``cli:root``) when there is no user.
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    remote = None
    detail = dict(detail or {})
    if has_request_context():
        remote = request.remote_addr
        # A change made through /api/v1 names the token it was made with (issue 13).
        token = g.get("api_token")
        if token is not None:
            detail.setdefault("api_token", {"id": token.id, "name": token.name})
    if sync_id is None and obj is not None:
        sync_id = getattr(obj, "sync_id", None)
        if sync_id is None and type(obj).__name__ == "Sync":
            sync_id = obj.id
    event = AuditEvent(
        user_id=user.id if user is not None else None,
        actor=user.email if user is not None else (actor or cli_actor()),
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None) if obj is not None else None,
        sync_id=sync_id,
        remote_addr=remote,
        detail=detail,
    )
    db.session.add(event)
    return event
