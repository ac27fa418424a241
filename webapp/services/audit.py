"""Writes the audit log. Called inside the same transaction as the change it records,
so a change and its audit row commit (or roll back) together."""

from __future__ import annotations

import getpass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

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
    if has_request_context():
        remote = request.remote_addr
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
        detail=detail or {},
    )
    db.session.add(event)
    return event


def list_events(
    *,
    sync_id: int | None = None,
    user_id: int | None = None,
    actor: str | None = None,
    action: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditEvent], bool]:
    """Audit events newest first, filtered; returns (events, has_next_page).

    The audit page and ``flask audit list`` read the log through this one query. An
    ``action`` of "sync" matches every ``sync.*`` action, "sync.enable" exactly that one.
    """
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if sync_id:
        query = query.where(AuditEvent.sync_id == sync_id)
    if user_id:
        query = query.where(AuditEvent.user_id == user_id)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    action = (action or "").strip()[:120]
    if action:
        query = query.where(
            (AuditEvent.action == action) | AuditEvent.action.startswith(action.rstrip(".") + ".")
        )
    events = db.session.scalars(
        query.limit(page_size + 1).offset((max(page, 1) - 1) * page_size)
    ).all()
    return list(events[:page_size]), len(events) > page_size
