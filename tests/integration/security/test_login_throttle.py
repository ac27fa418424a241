"""Login throttling (review items 6 and 7): failed logins are limited per account and per
address in the real Redis, a blocked try is answered 429 with Retry-After without hashing,
the lock-out is audited once, and bounded fields keep the audit log small."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp.extensions import db
from webapp.models.audit import AuditEvent

pytestmark = pytest.mark.integration


def _fail(client: Any, email: str, address: str = "198.51.100.7") -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": "not the password"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_fifteen_wrong_passwords_then_the_right_one_is_refused(client: Any, make_user: Any) -> None:
    user = make_user("viewer")
    codes = [_fail(client, user.email).status_code for _ in range(15)]
    assert codes[:5] == [200] * 5
    assert set(codes[5:]) == {429}
    right = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},  # another address: the account limit
    )
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    assert "Too many attempts" in right.text
    # One audit row for the lock-out, however many tries were blocked.
    lockouts = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.locked_out")
    ).all()
    assert len(lockouts) == 1
    assert lockouts[0].detail["email"] == user.email
    assert lockouts[0].detail["by"] == "account"


def test_the_lockout_page_does_not_tell_whether_the_account_exists(
    client: Any, make_user: Any
) -> None:
    user = make_user("viewer")
    for _ in range(5):
        _fail(client, user.email, "198.51.100.1")
        _fail(client, "nobody@example.com", "198.51.100.2")
    known = _fail(client, user.email, "198.51.100.1")
    unknown = _fail(client, "nobody@example.com", "198.51.100.2")
    assert known.status_code == unknown.status_code == 429
    assert known.text == unknown.text


def test_one_address_is_limited_across_accounts(client: Any, make_user: Any) -> None:
    codes = [_fail(client, f"user{i}@example.com", "198.51.100.3").status_code for i in range(21)]
    assert codes[:20] == [200] * 20
    assert codes[20] == 429
    # Another address is not affected.
    assert _fail(client, "user0@example.com", "198.51.100.4").status_code == 200


def test_successful_logins_do_not_count(client: Any, make_user: Any) -> None:
    user = make_user("viewer")
    for _ in range(8):
        ok = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert ok.status_code == 302
        client.post("/logout")


def test_a_huge_email_is_refused_and_not_audited(client: Any, app: Any) -> None:
    huge = "a" * 400_000 + "@example.com"
    response = client.post("/login", data={"email": huge, "password": "x"})
    assert response.status_code == 200
    assert "Field cannot be longer than 254 characters." in response.text
    assert db.session.scalars(select(AuditEvent)).all() == []
    long_email = "b" * 250 + "@x.io"
    client.post("/login", data={"email": long_email[:254], "password": "wrong password"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert event is not None and len(event.detail["email"]) <= 254


def test_a_request_body_over_the_limit_is_refused(client: Any, app: Any) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    response = client.post(
        "/login", data={"email": "a@example.com", "password": "x" * (3 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert db.session.scalars(select(AuditEvent)).all() == []
