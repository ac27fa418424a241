"""API test helpers: tokens for users of each role, and a client that sends them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

# The run tests' in-process burst worker, shared (the flow test runs real jobs).
from tests.integration.runs.conftest import run_jobs  # noqa: F401
from webapp.extensions import db
from webapp.services import tokens


class Api:
    """The test client with a bearer token; paths are relative to /api/v1."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def open(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        return self.client.open(url, method=method, headers=sent, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.open("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.open("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.open("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.open("DELETE", path, **kw)


@pytest.fixture
def make_token(app: Flask, make_user: Callable[..., Any]) -> Callable[..., tuple[Any, str]]:
    """``make_token("viewer")`` or ``make_token(user=u, scopes=[...])``: (ApiToken, text)."""

    def make(
        role: str = "viewer",
        *,
        user: Any = None,
        scopes: list[str] | None = None,
        name: str | None = None,
        days: int = 30,
    ) -> tuple[Any, str]:
        owner = user if user is not None else make_user(role)
        token, text = tokens.create_token(
            owner,
            name or f"test {len(tokens.list_tokens(owner)) + 1}",
            scopes,
            days,
            user=None,
            actor="test",
        )
        db.session.commit()
        return token, text

    return make


@pytest.fixture
def api_as(client: FlaskClient, make_token: Callable[..., tuple[Any, str]]) -> Callable[..., Api]:
    """``api_as("support")``: an API client with a new token of a new user of that role."""

    def make(role: str = "viewer", **kw: Any) -> Api:
        return Api(client, make_token(role, **kw)[1])

    return make
