"""Role by role, every API route refuses what the token's owner may not do (403, before
anything is looked up or stored), and a token's scopes narrow it further."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import Api
from webapp.api.auth import API_PERMISSIONS_ATTRIBUTE
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Sync
from webapp.models.users import Role
from webapp.services.permissions import ROLE_PERMISSIONS

pytestmark = pytest.mark.integration


def api_routes(app: Flask) -> list[tuple[str, str, tuple[str, ...]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        needed = getattr(app.view_functions[rule.endpoint], API_PERMISSIONS_ATTRIBUTE, None)
        if needed is None:
            continue
        url = re.sub(
            r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, url, needed))
    return routes


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_route_refuses_what_the_role_does_not_grant(
    role: str, app: Flask, client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    sync = Sync(type_key="platform_test", name="Target")
    db.session.add(sync)
    db.session.commit()
    _token, text = make_token(role)
    api = Api(client, text)
    granted = ROLE_PERMISSIONS[Role(role)]
    refused = allowed = 0
    events_before = db.session.query(AuditEvent).count()
    for method, url, needed in api_routes(app):
        if all(p in granted for p in needed):
            allowed += 1
            continue
        response = api.open(method, url, json={})
        assert response.status_code == 403, (role, method, url, response.status_code, response.text)
        assert response.mimetype == "application/problem+json"
        refused += 1
    # Nothing refused left a trace: no audit event, the sync untouched.
    assert db.session.query(AuditEvent).count() == events_before
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is not None
    if role == "support":
        assert refused == 0
    else:
        assert refused >= 8 and allowed >= 5, (refused, allowed)


def test_a_token_scoped_to_viewing_is_refused_every_write(
    app: Flask, client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    _token, text = make_token("support", scopes=["sync.view"])
    api = Api(client, text)
    writes = [(m, u, n) for m, u, n in api_routes(app) if m != "GET" and n]
    assert len(writes) >= 10
    for method, url, _needed in writes:
        response = api.open(method, url, json={})
        assert response.status_code == 403, (method, url, response.status_code)
