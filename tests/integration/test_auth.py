from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.services import users


def test_login_page_renders(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_login_logout(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    user = make_user("support")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/syncs").status_code == 200
    client.post("/logout")
    assert client.get("/syncs").status_code == 302
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "auth.login" in actions and "auth.logout" in actions


def test_wrong_password_is_refused_and_audited(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user("support")
    response = client.post("/login", data={"email": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert b"Wrong email or password" in response.data
    assert client.get("/syncs").status_code == 302
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",  # browsers read a backslash as a slash
        "/\t/evil.example/",  # and drop tabs and newlines inside a URL
        "/\n/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_next_parameter_cannot_leave_the_site(
    client: FlaskClient, make_user: Callable[..., Any], target: str
) -> None:
    user = make_user("support")
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.netloc, location.path) in {("", "/"), ("localhost", "/")}  # the sync list


def test_next_parameter_keeps_a_local_path(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user("support")
    response = client.post(
        "/login",
        query_string={"next": "/runs?status=failed"},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"].endswith("/runs?status=failed")


def test_role_change_ends_sessions(
    client: FlaskClient, make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    support = make_user("support")
    user = make_user("sync_manager")
    login(user)
    assert client.get("/syncs").status_code == 200
    users.set_role(db.session.get(type(user), user.id), "viewer", actor=support)
    db.session.commit()
    assert client.get("/syncs").status_code == 302


def test_inactive_user_cannot_log_in(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    make_user("support")
    user = make_user("viewer")
    users.set_active(user, False)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/syncs").status_code == 302


def test_passwords_are_hashed_with_argon2(make_user: Callable[..., Any]) -> None:
    user = make_user("viewer")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
