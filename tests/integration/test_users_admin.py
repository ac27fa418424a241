from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.users import Role, User
from webapp.services import users

pytestmark = pytest.mark.usefixtures("app")


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_support_creates_user_from_page(
    make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    client = login(make_user("support"))
    response = client.post(
        "/support/users", data={"email": "new@example.com", "role": "sync_manager", "name": "New"}
    )
    assert response.status_code == 200
    assert b"shown this once" in response.data
    created = users.find_by_email("new@example.com")
    assert created is not None and created.role == Role.SYNC_MANAGER


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "viewer", "password": "long enough pw"}, b"valid email"),
        ({"email": "a@example.com", "role": "viewer", "password": "short"}, b"at least 10"),
    ],
)
def test_bad_user_input_changes_nothing(
    data: dict[str, str],
    message: bytes,
    make_user: Callable[..., Any],
    login: Callable[[Any], FlaskClient],
) -> None:
    client = login(make_user("support"))
    before = user_count()
    response = client.post("/support/users", data=data)
    assert message in response.data
    assert user_count() == before


def test_duplicate_email_is_refused(make_user: Callable[..., Any]) -> None:
    user = make_user("viewer")
    before = user_count()
    with pytest.raises(ValidationError) as info:
        users.create_user(user.email.upper(), "viewer", "long enough pw")
    assert "already exists" in info.value.errors["email"]
    db.session.rollback()
    assert user_count() == before


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        users.create_user("x@example.com", "admin", "long enough pw")
    assert "Unknown role" in info.value.errors["role"]


def test_last_support_keeps_the_role(make_user: Callable[..., Any]) -> None:
    support = make_user("support")
    with pytest.raises(ValidationError):
        users.set_role(support, "viewer")
    with pytest.raises(ValidationError):
        users.set_active(support, False)
    other = make_user("support")
    users.set_role(support, "viewer", actor=other)
    assert support.role == Role.VIEWER


def test_edit_page_changes_role(
    make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    client = login(make_user("support"))
    target = make_user("viewer")
    response = client.post(
        f"/support/users/{target.id}", data={"role": "sync_manager", "active": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).role == Role.SYNC_MANAGER


def test_first_support_user_is_created_once() -> None:
    created = users.ensure_first_support_user()
    assert created is not None
    user, password = created
    assert user.role == Role.SUPPORT and len(password) >= 10
    assert users.authenticate(user.email, password) is not None
    assert users.ensure_first_support_user() is None
