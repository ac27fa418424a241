"""``flask tokens create/list/revoke``: the same service as the page; --json everywhere;
the token printed once works on the API and stops when revoked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import Api
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.tokens import ApiToken

pytestmark = pytest.mark.integration


def test_create_list_revoke_with_json(
    runner: Any, client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    owner = make_user("sync_manager")
    created = runner.invoke(
        args=[
            "tokens",
            "create",
            "--user",
            owner.email,
            "--name",
            "ci",
            "--scope",
            "sync.view",
            "--scope",
            "sync.run",
            "--expires-days",
            "7",
            "--json",
        ]
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    assert data["scopes"] == ["sync.run", "sync.view"] and data["state"] == "active"
    text = data["token"]
    assert Api(client, text).get("/syncs").status_code == 200

    listed = runner.invoke(args=["tokens", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["ci"]
    assert text not in listed.output and "hash" not in listed.output

    revoked = runner.invoke(args=["tokens", "revoke", str(data["id"]), "--json"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.output)["state"] == "revoked"
    assert Api(client, text).get("/syncs").status_code == 401
    actors = {
        e.actor for e in db.session.query(AuditEvent).filter(AuditEvent.action.like("token.%"))
    }
    assert all(a.startswith("cli") for a in actors)


def test_a_scope_beyond_the_role_is_refused_and_nothing_is_stored(
    runner: Any, make_user: Callable[..., Any]
) -> None:
    viewer = make_user("viewer")
    result = runner.invoke(
        args=["tokens", "create", "--user", viewer.email, "--name", "x", "--scope", "sync.run"]
    )
    assert result.exit_code == 2
    assert "cannot have permissions its owner lacks: sync.run" in result.output
    assert db.session.query(ApiToken).count() == 0
    unknown = runner.invoke(args=["tokens", "revoke", "999"])
    assert unknown.exit_code == 2 and "No token with id 999" in unknown.output
