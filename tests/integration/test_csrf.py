from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import PASSWORD
from webapp import create_app
from webapp.extensions import db
from webapp.models.syncs import Sync


@pytest.fixture
def csrf_app(app_config: dict[str, Any], app: Flask) -> Iterator[Flask]:
    csrf_app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield csrf_app
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_post_without_token_is_refused(csrf_app: Flask, make_user: Callable[..., Any]) -> None:
    user = make_user("support")
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"CSRF token is missing" in response.data
    assert client.get("/syncs").status_code == 302


def test_htmx_toggle_needs_the_header_token(csrf_app: Flask, make_user: Callable[..., Any]) -> None:
    user = make_user("support")
    sync = Sync(type_key="platform_test", name="S")
    db.session.add(sync)
    db.session.commit()
    client = csrf_app.test_client()
    page = client.get("/login")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    listing = client.get("/syncs")
    header_token = listing.text.split('"X-CSRFToken": "')[1].split('"')[0]
    refused = client.post(
        f"/syncs/{sync.id}/enabled", data={"enabled": "1"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 400
    accepted = client.post(
        f"/syncs/{sync.id}/enabled",
        data={"enabled": "1"},
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert accepted.status_code == 200
    assert f'id="sync-row-{sync.id}"' in accepted.text
