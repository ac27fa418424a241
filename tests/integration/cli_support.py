"""Shared by the test_cli_* files: invoke a command and read its JSON, the audit events a
command left, and the run fixtures of tests/integration/runs (imported, not copied)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.services.audit import cli_actor


def invoke(runner: Any, *args: str, stdin: str | None = None, code: int = 0) -> Any:
    """Run ``flask <args>``; assert the exit code and that no traceback escaped."""
    result = runner.invoke(args=list(args), input=stdin)
    assert result.exit_code == code, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    db.session.expire_all()
    return result


def invoke_json(runner: Any, *args: str, stdin: str | None = None) -> Any:
    """Run a command with ``--json`` and parse its stdout (prompts go to stderr)."""
    result = invoke(runner, *args, "--json", stdin=stdin)
    return json.loads(result.stdout)


def cli_events(action: str) -> list[AuditEvent]:
    """The audit events of ``action`` signed by this process's command-line user."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.actor == cli_actor())
            .order_by(AuditEvent.id)
        )
    )
