"""Viewers see the kind of a transfer error, never the destination it names (review
item 18): the full text, with host, port, user and directory, is for sync managers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.integration.runs.conftest import latest
from webapp.services import runs

pytestmark = pytest.mark.integration


def test_viewers_see_the_error_kind_only(
    app: Flask,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    closed_port: int,
    make_user: Any,
    login: Any,
) -> None:
    sync = make_sync()
    down, _ = sftp_destination(
        sync, name="Partner", port=str(closed_port), username="partner-login"
    )
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    transfer = instance.transfers[0]
    assert str(closed_port) in (transfer.error or "")
    url = f"/syncs/{sync.id}/runs/{instance.id}/transfers"

    client = login(make_user("viewer"))
    page = client.get(url).text
    assert "The server refused the connection." in page
    for secret in (str(closed_port), down.host, "partner-login", down.directory):
        assert secret not in page
    client.post("/logout")

    manager = login(make_user("sync_manager"))
    assert str(closed_port) in manager.get(url).text
