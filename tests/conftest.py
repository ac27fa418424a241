"""Shared fixtures: an app on the migrated test database, clients, users and login."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.redis_server",
    "tests.fixtures.sync_types",
    "tests.fixtures.live_server",
    "tests.fixtures.exports",
    "tests.fixtures.servers",
]


@pytest.fixture
def app_config(migrated_database: str, redis_url: str, tmp_path: Any) -> dict[str, Any]:
    instance = tmp_path / "instance"
    instance.mkdir()
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": migrated_database,
        "REDIS_URL": redis_url,
        "TRANSFER_BACKOFF_SECONDS": [0, 0, 0, 0, 0],
        "INSTANCE_PATH": str(instance),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "SECRETS_KEYS": [],
        # The test servers listen on 127.0.0.1, which the default deny list refuses.
        "CONNECTION_TEST_ALLOW": ["127.0.0.1/32"],
        # The test process shares its umask with the servers the fixtures start for the
        # test user; tests/integration/test_file_modes.py runs the app with the default.
        "UMASK": "inherit",
    }


class FreshRequestClient(FlaskClient):
    """A test client whose requests start like production ones.

    Tests hold one app context open (to use ``db.session`` directly), and Flask reuses it
    for requests; so forget the user Flask-Login cached on ``g`` and the rows the session
    cached, as a new request in production would.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g

        from webapp.extensions import db

        g.pop("_login_user", None)
        db.session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    from tests.fixtures.database import empty_all_tables
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(app_config)
    app.test_client_class = FreshRequestClient
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables(app_config["SQLALCHEMY_DATABASE_URI"])
        db.engine.dispose()
        from webapp.services.redis_client import redis_client

        redis_client().flushdb()
        redis_client().close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    from webapp.extensions import db
    from webapp.services import users

    def make(role: str = "viewer", email: str | None = None) -> Any:
        email = email or f"{role}-{users.generate_password()[:6].lower()}@example.com"
        user = users.create_user(email, role, PASSWORD)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    def do(user: Any) -> FlaskClient:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client

    return do
