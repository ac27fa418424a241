"""Failure notices reach the sync's addresses through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from flask import Flask

from devservers.redis import free_port
from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.services import runs

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        message["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_BASE_URL="https://sync.example.com"
    )
    yield inbox
    controller.stop()


def test_failed_build_is_mailed(app: Flask, smtp: Inbox, make_sync: Any, run_jobs: Any) -> None:
    sync = make_sync("Gold members to CRM", rows=100, fail=True)
    sync.notify_emails = ["ops@example.com", "data@example.com"]
    db.session.commit()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.FAILED
    (message,) = smtp.messages
    body = message.get_payload()
    assert message["X-Rcpt"] == "ops@example.com, data@example.com"
    assert (
        "Gold members to CRM" in message["Subject"] and f"run #{instance.id}" in message["Subject"]
    )
    assert "told to fail" in body
    assert f"https://sync.example.com/syncs/{sync.id}/runs/{instance.id}/creation" in body


def test_destination_failure_is_mailed_after_its_retries(
    app: Flask, smtp: Inbox, make_sync: Any, sftp_destination: Any, run_jobs: Any, closed_port: int
) -> None:
    from jobs.tick import tick
    from loyalty.db import utcnow

    sync = make_sync("Nightly")
    sync.notify_emails = ["ops@example.com"]
    db.session.commit()
    sftp_destination(sync, port=str(closed_port), retries="1", name="Partner B")
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert smtp.messages == []  # a retry is still to come: no notice yet
    tick(utcnow())
    run_jobs()
    (transfer,) = latest(sync).transfers
    assert transfer.status == TransferStatus.FAILED
    (message,) = smtp.messages
    assert "Partner B" in message["Subject"]
    assert "after 2 attempt(s)" in message.get_payload()
