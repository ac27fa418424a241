"""The private Redis that `make run` and the tests start wants a password (review item
14): RQ unpickles what it reads from Redis, so a client that could write there unasked
could run code in the workers. The app, its rate limits and a real RQ job work with the
URL that carries the password."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from flask import Flask

from devservers.redis import redacted, start_redis
from tests.integration.web.press_test import press_test
from webapp.extensions import db
from webapp.models.syncs import Sync
from webapp.services.redis_client import redis_client

pytestmark = [pytest.mark.integration]


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.mark.nodb
def test_the_private_redis_refuses_a_client_without_the_password(redis_url: str) -> None:
    assert urlsplit(redis_url).password  # the URL carries it
    anonymous = redis.Redis(host="127.0.0.1", port=_port(redis_url), socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    with pytest.raises(redis.AuthenticationError):
        anonymous.set("written-by", "anybody")
    wrong = redis.Redis(host="127.0.0.1", port=_port(redis_url), password="guess", socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
    assert redis.Redis.from_url(redis_url, socket_timeout=5).ping()


@pytest.mark.nodb
def test_each_start_has_its_own_password_kept_off_the_command_line(tmp_path: Path) -> None:
    first = start_redis(tmp_path / "one")
    second = start_redis(tmp_path / "two")
    try:
        assert first.password != second.password
        assert len(first.password) >= 32
        for server in (first, second):
            cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
            assert server.password.encode() not in cmdline  # `ps` shows it to every user
            config = server.directory / "redis.conf"
            assert server.password in config.read_text()
            assert stat.S_IMODE(config.stat().st_mode) == 0o600
            assert stat.S_IMODE(server.directory.stat().st_mode) == 0o700
            assert server.password not in redacted(server.url)
            assert redacted(server.url) == f"redis://:***@127.0.0.1:{server.port}/0"
    finally:
        first.stop()
        second.stop()


def test_the_app_and_a_worker_work_through_the_password_url(
    app: Flask, make_user: Any, login: Any, closed_port: int
) -> None:
    assert urlsplit(app.config["REDIS_URL"]).password
    assert redis_client().ping()
    sync = Sync(type_key="reward_type", name="Partner feed")
    db.session.add(sync)
    db.session.commit()
    client = login(make_user("sync_manager"))
    # Test connection is an RQ job: the web side enqueues it and counts it against the
    # user's rate limit in Redis, a worker runs it, and the page polls its result.
    form = {
        "name": "Nowhere",
        "host": "127.0.0.1",
        "protocol": "sftp",
        "port": str(closed_port),
        "directory": "/upload",
        "username": "partner",
        "password": "secret-password",
        "password_confirm": "secret-password",
        "retries": "1",
    }
    result = press_test(client, sync.id, form)
    assert result.status_code == 200
    assert f"server answered on 127.0.0.1:{closed_port}" in result.text


@pytest.mark.nodb
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
        ("rediss://app:pw@h:6380/0?ssl_ca_certs=/ca", "rediss://app:***@h:6380/0?ssl_ca_certs=/ca"),
        ("redis://:pw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_printed_urls_hide_the_password(url: str, shown: str) -> None:
    assert redacted(url) == shown
