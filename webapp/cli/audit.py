"""``flask audit list``: read the audit log, filtered as on the Audit log page.

Through :mod:`webapp.services.audit_view`, the page's own query, change wording and
CSV export (``--csv``: the same formula-safe file as the page's Export CSV).
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from loyalty.errors import NotFound, ValidationError
from loyalty.text import CONTROL
from webapp.cli.common import ID, emit_table, json_option, service_errors
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.services import audit_view, users

audit_cli = AppGroup("audit", help="The audit log.")


def event_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "user_id": event.user_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "sync_id": event.sync_id,
        "remote_addr": event.remote_addr,
        "detail": event.detail,
        "changes": audit_view.changes_text(event.detail),
    }


def _filters(
    sync_id: int | None,
    email: str | None,
    actor: str | None,
    action: str,
    since: str | None,
    until: str | None,
) -> audit_view.Filters:
    for label, value in (("actor", actor), ("action", action)):
        if value and CONTROL.search(value):
            raise ValidationError({label: f"The {label} filter has control characters."})
    user_id = None
    if email is not None:
        user = users.find_by_email(email)
        if user is None:
            raise NotFound(f"No user with the email {email}.")
        user_id = user.id
    try:
        first = audit_view.parse_date(since, "--since")
        last = audit_view.parse_date(until, "--until")
    except ValueError as exc:
        raise ValidationError({"date": str(exc)}) from None
    return audit_view.Filters(
        sync_id=sync_id,
        user_id=user_id,
        actor=(actor or "").strip()[: audit_view.MAX_ACTOR_FILTER],
        action=(action or "").strip()[:120],
        since=first,
        until=last,
    )


@audit_cli.command("list")
@click.option("--sync", "sync_id", type=ID, help="only events of this sync")
@click.option("--user", "email", help="only events by this user (email)")
@click.option("--actor", help="actor contains this, e.g. cli: or scheduler")
@click.option("--action", default="", help='"sync" for every sync.* action, or one exactly')
@click.option("--since", help="from this day (YYYY-MM-DD, UTC)")
@click.option("--until", help="to this day, inclusive (YYYY-MM-DD, UTC)")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--page", type=click.IntRange(1, 100_000), default=1, show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="every matching event as CSV (no paging)")
@json_option
def list_command(
    sync_id: int | None,
    email: str | None,
    actor: str | None,
    action: str,
    since: str | None,
    until: str | None,
    limit: int,
    page: int,
    as_csv: bool,
    as_json: bool,
) -> None:
    """Audit events, newest first."""
    with service_errors():
        filters = _filters(sync_id, email, actor, action, since, until)
    if as_csv:
        for chunk in audit_view.csv_lines(filters):
            click.echo(chunk, nl=False)
        return
    # Any: audit_view.query's annotation and SQLAlchemy's Select disagree on the row type.
    events: Any = db.session.scalars(
        audit_view.query(filters).limit(limit).offset((page - 1) * limit)
    ).all()
    emit_table(
        [event_row(e) for e in events],
        as_json,
        [
            ("id", lambda r: r["id"]),
            ("at (UTC)", lambda r: r["at"][:19]),
            ("actor", lambda r: r["actor"]),
            ("action", lambda r: r["action"]),
            (
                "object",
                lambda r: f"{r['object_type']} {r['object_id']}" if r["object_type"] else "-",
            ),
            ("sync", lambda r: r["sync_id"]),
            ("changes", lambda r: r["changes"][:80]),
        ],
    )
