"""Sessions end for real (review item 5), cookies and headers fit TLS production (13, 19),
and the pager builds links from the query string safely (17)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


def _session_cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def test_a_cookie_copied_before_logout_no_longer_works(
    app: Flask, client: Any, make_user: Any, login: Any
) -> None:
    login(make_user("viewer"))
    stolen = _session_cookie(client)
    assert client.get("/syncs").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    response = thief.get("/syncs")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_clears_the_session_and_rotates_the_csrf_token(
    app: Flask, client: Any, make_user: Any
) -> None:
    user = make_user("viewer")
    with client.session_transaction() as planted:
        planted["csrf_token"] = "planted-token"
        planted["planted"] = "by an attacker"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as current:
        assert "planted" not in current
        assert current.get("csrf_token") != "planted-token"
        assert current.permanent


def test_an_idle_session_ends(app: Flask, client: Any, make_user: Any, login: Any) -> None:
    login(make_user("viewer"))
    assert client.get("/syncs").status_code == 200
    with client.session_transaction() as stored:
        stored["_seen_at"] = int(time.time()) - app.config["SESSION_IDLE_SECONDS"] - 5
    assert client.get("/syncs").status_code == 302


def test_a_session_ends_after_its_lifetime_even_when_used(
    app: Flask, client: Any, make_user: Any, login: Any
) -> None:
    login(make_user("viewer"))
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    assert lifetime == 12 * 3600
    with client.session_transaction() as stored:
        stored["_login_at"] = int(time.time()) - lifetime - 5
    assert client.get("/syncs").status_code == 302


def test_cookie_lifetime_is_set(client: Any, make_user: Any) -> None:
    user = make_user("viewer")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    header = response.headers["Set-Cookie"]
    assert "Expires=" in header
    assert "HttpOnly" in header


def test_production_cookies_are_secure_and_proxy_headers_are_trusted(
    app_config: dict[str, Any], make_user: Any
) -> None:
    from webapp import create_app

    prod = create_app(
        {**app_config, "PUBLIC_BASE_URL": "https://sync.example.com", "PROXY_COUNT": 1}
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    client = prod.test_client()
    behind_tls = client.get(
        "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10"}
    )
    assert behind_tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_proxy_headers_are_ignored_unless_configured(app: Flask, client: Any) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is False  # http://127.0.0.1:5000 default
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_security_headers(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("support"))
    page = client.get("/support/users")
    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self'" in policy
    assert "base-uri 'none'" in policy
    assert page.headers["Cache-Control"] == "no-store"
    created = client.post(
        "/support/users",
        data={"email": "new@example.com", "role": "viewer", "name": "New"},
        follow_redirects=True,
    )
    assert created.headers["Cache-Control"] == "no-store"
    with client.get("/static/app.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "query",
    ["endpoint=x", "_anchor=evil", "_external=1", "_scheme=javascript", "page=2&endpoint=x"],
)
def test_the_pager_copies_the_query_string_safely(
    client: Any, make_user: Any, login: Any, query: str
) -> None:
    from webapp.extensions import db
    from webapp.services import audit

    login(make_user("support"))
    for i in range(120):
        audit.record("test.event", detail={"i": i}, actor="test")
    db.session.commit()
    response = client.get(f"/support/audit?{query}")
    assert response.status_code == 200
    assert "#evil" not in response.text
    assert "http://localhost/support" not in response.text
    assert "javascript:" not in response.text
    assert "page=2" in response.text or "page=3" in response.text


def test_a_pasted_private_key_is_not_shown_again_after_a_form_error(
    app: Flask, make_user: Any, login: Any
) -> None:
    from tests.fixtures.sshd import ed25519_keypair
    from webapp.extensions import db
    from webapp.models.syncs import Sync

    sync = Sync(type_key="reward_type", name="Keys")
    db.session.add(sync)
    db.session.commit()
    private_key = ed25519_keypair()[0]
    marker = private_key.strip().splitlines()[1]
    client = login(make_user("sync_manager"))
    page = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            "name": "",
            "host": "sftp.example.com",
            "protocol": "sftp",
            "username": "u",
            "private_key": private_key,
        },
    )
    assert page.status_code == 200
    assert "Sync Target Name is required." in page.text
    assert marker not in page.text
    assert page.headers["Cache-Control"] == "no-store"
