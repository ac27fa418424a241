"""Test connection, hardened (review items 3 and 4), against the real sshd and FTPS
servers and the real Redis and RQ: a stored secret never follows a changed endpoint; the
test is a rate-limited job whose Redis payload holds no secret in clear, fenced by the
allow/deny list, and it never echoes what a remote server said."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

from tests.integration.web.press_test import POLL, press_test, run_worker
from tests.integration.web.test_connection_and_scope import sftp_form
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Destination, Sync
from webapp.services import connection_test, destinations
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration

AGAIN = "enter the password (or private key) again"


@pytest.fixture
def sync(app: Flask) -> Sync:
    sync = Sync(type_key="reward_type", name="Partner feed")
    db.session.add(sync)
    db.session.commit()
    return sync


@pytest.fixture
def saved(sync: Sync, sshd_server: Any) -> Destination:
    remote, _ = sshd_server.fresh_dir()
    destination = destinations.add_destination(
        sync,
        {
            **sftp_form(sshd_server, remote),
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "host_key_type": sshd_server.host_key_type,
        },
        user=None,
    )
    db.session.commit()
    return destination


def _edit_form(destination: Destination, **changes: str) -> dict[str, str]:
    form = {
        "destination_id": str(destination.id),
        "name": destination.name,
        "host": destination.host,
        "protocol": str(destination.protocol),
        "port": str(destination.port or ""),
        "directory": destination.directory,
        "username": destination.username,
        "password": "",
        "password_confirm": "",
        "retries": str(destination.retries),
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    "change",
    [
        {"host": "localhost"},
        {"port": "2"},
        {"protocol": "ftps_implicit"},
        {"username": "somebody-else"},
    ],
)
def test_the_stored_password_does_not_follow_a_changed_endpoint(
    sync: Sync, saved: Destination, sshd_server: Any, make_user: Any, login: Any, change: Any
) -> None:
    client = login(make_user("sync_manager"))
    log_before = sshd_server.log_path.read_text()
    page = press_test(client, sync.id, _edit_form(saved, **change))
    assert AGAIN in page.text
    assert POLL.search(page.text) is None  # nothing was queued
    assert Queue(queue_names()[0], connection=redis_client()).count == 0
    assert sshd_server.log_path.read_text() == log_before
    # The service refuses it the same way when called directly.
    direct = connection_test.run(_edit_form(saved, **change), saved, sync_id=sync.id, user=None)
    assert not direct.ok and AGAIN in direct.message
    # Unchanged, the stored password is still used.
    assert "Connected" in press_test(client, sync.id, _edit_form(saved)).text


def test_an_edit_that_moves_the_destination_needs_the_secret_again(
    sync: Sync, saved: Destination, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    stored = saved.password_encrypted
    page = client.post(
        f"/destinations/{saved.id}/edit", data=_edit_form(saved, host="collector.example.com")
    )
    assert page.status_code == 200
    assert AGAIN in page.text
    db.session.expire_all()
    unchanged = db.session.get(Destination, saved.id)
    assert unchanged.host != "collector.example.com"
    assert unchanged.password_encrypted == stored


def test_a_moved_destination_keeps_only_the_secret_entered_again(
    sync: Sync, saved: Destination
) -> None:
    from tests.fixtures.sshd import ed25519_keypair

    saved.private_key_encrypted = destinations.secrets.encrypt(ed25519_keypair()[0])
    db.session.commit()
    destinations.update_destination(
        saved,
        _edit_form(
            saved, host="sftp.example.com", password="new-pass-1", password_confirm="new-pass-1"
        ),
        user=None,
    )
    db.session.commit()
    assert destinations.password_of(saved) == "new-pass-1"
    assert saved.private_key_encrypted is None


def test_the_queued_job_holds_no_secret_in_clear(
    app: Flask, sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    form = sftp_form(sshd_server, remote)
    started = client.post(f"/syncs/{sync.id}/destinations/test", data=form)
    poll = POLL.search(started.text)
    assert poll is not None
    # Pending: the box polls itself; another user cannot read it.
    pending = client.get(poll.group(1))
    assert "every 1s" in pending.text and "Testing" in pending.text
    # Everything RQ and the app keep in Redis, scanned for the password.
    dump = b"".join(redis_client().dump(key) or b"" for key in redis_client().scan_iter(count=1000))
    assert sshd_server.password.encode() not in dump
    (job,) = Queue(queue_names()[0], connection=redis_client()).jobs
    assert job.timeout == 30
    assert job.ttl == 60
    assert sshd_server.password not in repr(job.args)
    other = app.test_client()
    user = make_user("sync_manager")
    other.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert other.get(poll.group(1)).status_code == 404


def test_loopback_is_refused_under_the_default_deny_list(
    app: Flask, sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    app.config["CONNECTION_TEST_ALLOW"] = []  # the shipped default: loopback denied
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    log_before = sshd_server.log_path.read_text()
    page = press_test(client, sync.id, sftp_form(sshd_server, remote))
    assert "not allowed here" in page.text
    assert sshd_server.log_path.read_text() == log_before  # never connected
    for address in ("169.254.169.254", "127.0.0.1", "::1", "localhost"):
        outcome = connection_test.run(
            {**sftp_form(sshd_server, remote), "host": address}, None, sync_id=sync.id, user=None
        )
        assert not outcome.ok and "not allowed here" in outcome.message, address
    db.session.commit()  # the audit events of the direct runs
    # An allow list admits what it names, and then only that.
    app.config["CONNECTION_TEST_ALLOW"] = ["127.0.0.1/32"]
    assert "Connected" in press_test(client, sync.id, sftp_form(sshd_server, remote)).text
    app.config["CONNECTION_TEST_ALLOW"] = ["192.0.2.0/24"]
    assert "not allowed here" in press_test(client, sync.id, sftp_form(sshd_server, remote)).text


def test_tests_are_rate_limited_per_user(
    app: Flask, sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    form = sftp_form(sshd_server, remote)
    codes = [
        client.post(f"/syncs/{sync.id}/destinations/test", data=form).status_code for _ in range(11)
    ]
    assert codes == [200] * 10 + [429]
    refused = client.post(f"/syncs/{sync.id}/destinations/test", data=form)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many connection tests" in refused.text
    assert Queue(queue_names()[0], connection=redis_client()).count == 10
    # Another user has their own allowance.
    other = app.test_client()
    user = make_user("sync_manager")
    other.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert other.post(f"/syncs/{sync.id}/destinations/test", data=form).status_code == 200


@pytest.fixture
def chatty_server() -> Iterator[int]:
    """A TCP server that greets every connection with its own text, then hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"421 hello-from-evil-server <b>internal-db-01</b>\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_the_server_text_is_not_echoed_and_ports_read_alike(
    sync: Sync, chatty_server: int, closed_port: int, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    form = {
        "name": "FTPS",
        "host": "127.0.0.1",
        "protocol": "ftps_explicit",
        "username": "partner",
        "password": "a-password-1",
        "password_confirm": "a-password-1",
    }
    talking = press_test(client, sync.id, {**form, "port": str(chatty_server)}).text
    refused = press_test(client, sync.id, {**form, "port": str(closed_port)}).text
    assert "Failed" in talking
    assert "hello-from-evil-server" not in talking and "internal-db-01" not in talking
    # Each result box carries its own test token (for saving); nothing else may differ.
    token = re.compile(r'name="test_token" value="[^"]+"')
    assert token.sub("TOKEN", talking.replace(str(chatty_server), "PORT")) == token.sub(
        "TOKEN", refused.replace(str(closed_port), "PORT")
    )
    # The audit log records the port and the kind, never the server's text.
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "destination.test")
    ).all()
    assert {e.detail["port"] for e in events} == {chatty_server, closed_port}
    assert all("hello-from" not in str(e.detail) for e in events)
    assert {e.detail["kind"] for e in events} <= {
        "refused",
        "server_error",
        "protocol",
        "connection_lost",
    }


def test_a_job_of_a_user_who_lost_the_permission_does_nothing(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    from webapp.services import users

    manager = make_user("sync_manager")
    client = login(manager)
    remote, _ = sshd_server.fresh_dir()
    started = client.post(
        f"/syncs/{sync.id}/destinations/test", data=sftp_form(sshd_server, remote)
    )
    poll = POLL.search(started.text)
    assert poll is not None
    users.set_role(manager, "viewer")
    db.session.commit()
    log_before = sshd_server.log_path.read_text()
    run_worker()
    assert sshd_server.log_path.read_text() == log_before
