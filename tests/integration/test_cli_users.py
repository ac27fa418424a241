"""Issue 13, item 4: ``flask users set-role / disable / enable / reset-password / list``,
with the Users page's rules (webapp.services.users): the last active support user keeps
the role and stays enabled; a reset ends the user's sessions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.integration.cli_support import invoke, invoke_json
from tests.integration.test_fuzz_inputs import snapshot
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.users import Role, User
from webapp.services import users
from webapp.services.audit import cli_actor

pytestmark = pytest.mark.integration


def _audited(action: str, user: User) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.object_id == user.id,
                AuditEvent.actor == cli_actor(),
            )
        )
    )


def test_users_set_role_takes_email_and_role(runner: Any, make_user: Any) -> None:
    user = make_user("viewer")
    row = invoke_json(runner, "users", "set-role", user.email, "sync_manager")
    assert row["role"] == "sync_manager"
    assert db.session.get(User, user.id).role == Role.SYNC_MANAGER
    # The older spelling still works.
    invoke(runner, "users", "set-role", "--email", user.email, "--role", "viewer")
    assert db.session.get(User, user.id).role == Role.VIEWER
    assert len(_audited("user.role", user)) == 2


def test_users_set_role_keeps_one_support_user(runner: Any, make_user: Any) -> None:
    support = make_user("support")
    before = snapshot()
    refused = invoke(runner, "users", "set-role", support.email, "viewer", code=2)
    assert "The last active support user cannot lose the support role" in refused.output
    unknown = invoke(runner, "users", "set-role", support.email, "root", code=2)
    assert "Unknown role 'root'" in unknown.output
    nobody = invoke(runner, "users", "set-role", "nobody@example.com", "viewer", code=2)
    assert "No user with the email nobody@example.com" in nobody.output
    assert snapshot() == before


def test_users_disable_and_enable(runner: Any, make_user: Any) -> None:
    user = make_user("sync_manager")
    version = user.session_version
    assert invoke_json(runner, "users", "disable", user.email)["active"] is False
    stored = db.session.get(User, user.id)
    assert not stored.active and stored.session_version > version
    assert users.authenticate(user.email, PASSWORD) is None
    assert invoke_json(runner, "users", "enable", user.email)["active"] is True
    assert users.authenticate(user.email, PASSWORD) is not None
    assert _audited("user.deactivate", user) and _audited("user.activate", user)


def test_users_disable_of_the_last_support_user_is_refused(runner: Any, make_user: Any) -> None:
    support = make_user("support")
    before = snapshot()
    refused = invoke(runner, "users", "disable", support.email, code=2)
    assert "last active support user" in refused.output
    assert snapshot() == before


def test_users_reset_password_prints_a_generated_one_once(runner: Any, make_user: Any) -> None:
    user = make_user("viewer")
    row = invoke_json(runner, "users", "reset-password", user.email)
    assert users.authenticate(user.email, row["password"]) is not None
    assert users.authenticate(user.email, PASSWORD) is None
    human = invoke(runner, "users", "reset-password", user.email).output
    (line,) = [li for li in human.splitlines() if li.startswith("One-time password")]
    assert users.authenticate(user.email, line.rsplit(" ", 1)[1]) is not None
    assert len(_audited("user.password", user)) == 2
    # The audit log never holds the password.
    assert row["password"] not in str([e.detail for e in _audited("user.password", user)])


def test_users_reset_password_from_stdin_and_its_refusal(runner: Any, make_user: Any) -> None:
    user = make_user("viewer")
    invoke(
        runner, "users", "reset-password", user.email, "--password-stdin", stdin="a-new-secret-1\n"
    )
    assert users.authenticate(user.email, "a-new-secret-1") is not None
    before = snapshot()
    refused = invoke(
        runner, "users", "reset-password", user.email, "--password-stdin", stdin="short\n", code=2
    )
    assert "at least 10 characters" in refused.output
    assert snapshot() == before


def test_users_list_json(runner: Any, make_user: Any) -> None:
    first, second = make_user("support"), make_user("viewer")
    rows = invoke_json(runner, "users", "list")
    assert sorted((r["email"], r["role"], r["active"]) for r in rows) == sorted(
        [(first.email, "support", True), (second.email, "viewer", True)]
    )
    assert "password" not in str(rows).lower()
