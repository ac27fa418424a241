"""Issue 13, item 4: ``flask webhooks list / create / show / test / delete``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.cli_support import cli_events, invoke, invoke_json
from tests.integration.runs.conftest import make_sync  # noqa: F401
from tests.integration.test_fuzz_inputs import snapshot
from webapp.extensions import db
from webapp.models.notifications import Webhook, WebhookDelivery
from webapp.services import secrets

pytestmark = pytest.mark.integration


def test_webhooks_create_shows_the_secret_once_then_list_show_test_delete(
    runner: Any, make_sync: Any
) -> None:
    sync = make_sync()
    created = invoke_json(
        runner,
        "webhooks",
        "create",
        "--sync",
        str(sync.id),
        "--name",
        "Ops",
        "--url",
        "https://hooks.example.com/x",
        "--event",
        "failed",
        "--event",
        "late",
    )
    webhook = db.session.get(Webhook, created["id"])
    assert secrets.decrypt(webhook.secret_encrypted) == created["secret"]
    assert created["events"] == ["failed", "late"]
    listed = invoke_json(runner, "webhooks", "list", "--sync", str(sync.id))
    assert [w["id"] for w in listed] == [webhook.id]
    assert created["secret"] not in str(listed)
    assert invoke_json(runner, "webhooks", "list") == []  # no global ones
    sent = invoke_json(runner, "webhooks", "test", str(webhook.id))
    shown = invoke_json(runner, "webhooks", "show", str(webhook.id))
    assert [d["id"] for d in shown["deliveries"]] == [sent["delivery_id"]]
    assert created["secret"] not in str(shown)
    invoke(runner, "webhooks", "delete", str(webhook.id), "--yes")
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert len(cli_events("webhook.create")) == len(cli_events("webhook.delete")) == 1


def test_webhooks_create_refuses_bad_urls_and_names(runner: Any, make_sync: Any) -> None:
    sync = make_sync()
    before = snapshot()
    count = db.session.scalar(select(func.count()).select_from(Webhook))
    for name, url, message in (
        ("Ops", "ftp://example.com", "starts with http:// or https://"),
        ("Ops", "https://user:pw@example.com", "no user name or password"),
        ("Ops\r\nX", "https://example.com", "no control characters"),
        ("Ops", "https://exa\x00mple.com", "no spaces"),
    ):
        result = invoke(
            runner,
            "webhooks",
            "create",
            "--sync",
            str(sync.id),
            "--name",
            name,
            "--url",
            url,
            code=2,
        )
        assert message in result.output
    assert snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == count


def test_webhooks_delete_without_confirmation_deletes_nothing(runner: Any) -> None:
    created = invoke_json(
        runner, "webhooks", "create", "--name", "Global", "--url", "https://example.com/h"
    )
    result = invoke(runner, "webhooks", "delete", str(created["id"]), stdin="", code=1)
    assert "delivery log" in result.stderr
    assert db.session.get(Webhook, created["id"]) is not None
    assert "No webhook with id 999" in invoke(runner, "webhooks", "show", "999", code=2).output


def test_webhooks_disable_and_enable(runner: Any) -> None:
    created = invoke_json(
        runner, "webhooks", "create", "--name", "Global", "--url", "https://example.com/h"
    )
    row = invoke_json(runner, "webhooks", "disable", str(created["id"]))
    assert (row["enabled"], row["changed"]) == (False, True)
    assert invoke_json(runner, "webhooks", "disable", str(created["id"]))["changed"] is False
    assert invoke_json(runner, "webhooks", "enable", str(created["id"]))["enabled"] is True
    assert "No webhook with id 9999" in invoke(runner, "webhooks", "enable", "9999", code=2).output
