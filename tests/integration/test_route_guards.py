"""Every route checks a permission; anonymous users go to login; viewers change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.services.permissions import PERMISSION_ATTRIBUTE, PUBLIC_ATTRIBUTE

# /healthz and /readyz for load balancers; /metrics checks its own token or address.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.logout",
    "health.healthz",
    "health.readyz",
    "health.metrics_view",
    # The API's own description (no data): readable before one has a token.
    "api_docs.openapi_json",
    "api_docs.reference",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def sample_url(rule: Any) -> str:
    """A concrete URL for a rule: every variable part becomes 1 (or a plain name)."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule)


def guarded_rules(app: Flask) -> list[Any]:
    """The pages' routes (the API's are walked below: they answer 401, never a redirect)."""
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC_ENDPOINTS and not r.rule.startswith("/api/")
    ]


def api_rules(app: Flask) -> list[Any]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC_ENDPOINTS and r.rule.startswith("/api/")
    ]


def test_api_routes_refuse_anonymous_and_cookie_sessions_with_401(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., Any],
    login: Callable[[Any], FlaskClient],
) -> None:
    """The API checks a token on every route; a logged-in browser's cookie is no token."""
    rules = api_rules(app)
    assert len(rules) >= 20
    for logged_in in (False, True):
        if logged_in:
            login(make_user("support"))
        for rule in rules:
            url = sample_url(rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                assert response.status_code == 401, (method, url, response.status_code)
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, url)
                assert response.mimetype == "application/problem+json", (method, url)


def test_every_route_declares_a_permission(app: Flask) -> None:
    unguarded = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static":
            continue
        if not (hasattr(view, PERMISSION_ATTRIBUTE) or getattr(view, PUBLIC_ATTRIBUTE, False)):
            unguarded.append(rule.endpoint)
    assert unguarded == []
    public = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if getattr(app.view_functions[r.endpoint], PUBLIC_ATTRIBUTE, False)
    }
    assert public <= PUBLIC_ENDPOINTS


def test_anonymous_is_sent_to_login_everywhere(app: Flask, client: FlaskClient) -> None:
    for rule in guarded_rules(app):
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)


def test_anonymous_htmx_request_gets_hx_redirect(app: Flask, client: FlaskClient) -> None:
    for rule in guarded_rules(app):
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers={"HX-Request": "true"})
            assert response.status_code == 401, (method, url)
            assert response.headers["HX-Redirect"].endswith("/login"), (method, url)
            assert "HX-Request" in response.headers.get("Vary", "")


def test_viewer_is_refused_every_state_changing_action(
    app: Flask, make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    client = login(make_user("viewer"))
    checked = 0
    for rule in guarded_rules(app):
        view = app.view_functions[rule.endpoint]
        # sync.view routes change nothing (next test); account.self is one's own account.
        if getattr(view, PERMISSION_ATTRIBUTE) in ("sync.view", "account.self"):
            continue
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            response = client.open(sample_url(rule), method=method)
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            checked += 1
    assert checked >= 1


def test_viewer_routes_that_only_need_view_do_not_change_state(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    # A state-changing route guarded by sync.view alone would let viewers change things.
    offenders = [
        r.rule
        for r in guarded_rules(app)
        if (r.methods or set()) & STATE_CHANGING
        and getattr(app.view_functions[r.endpoint], PERMISSION_ATTRIBUTE) == "sync.view"
    ]
    assert offenders == []


@pytest.mark.parametrize("role", ["viewer", "sync_manager"])
def test_support_pages_refuse_other_roles(
    role: str, make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    client = login(make_user(role))
    assert client.get("/support/users").status_code == 403
    assert client.get("/support/audit").status_code == 403
