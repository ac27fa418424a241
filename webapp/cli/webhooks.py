"""``flask webhooks list / create / show / test / delete``: a sync's and global webhooks.

Through :mod:`webapp.services.webhooks`, as the Webhooks pages. The signing secret is
printed once, when the webhook is created, and never again.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from webapp.cli.common import (
    ID,
    confirm,
    emit_one,
    emit_table,
    json_option,
    service_errors,
    yes_option,
)
from webapp.extensions import db
from webapp.models.notifications import Webhook
from webapp.services import syncs, webhooks
from webapp.services.audit import cli_actor

webhooks_cli = AppGroup("webhooks", help="Webhooks of a sync (--sync) or global ones.")


def webhook_row(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "sync_id": webhook.sync_id,
        "name": webhook.name,
        "url": webhook.url,
        "events": list(webhook.events or []),
        "enabled": webhook.enabled,
        "created_at": webhook.created_at.isoformat() if webhook.created_at else None,
    }


@webhooks_cli.command("list")
@click.option("--sync", "sync_id", type=ID, help="the sync's webhooks (default: global ones)")
@json_option
def list_command(sync_id: int | None, as_json: bool) -> None:
    """A sync's webhooks, or the global ones."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None) if sync_id else None
        items = webhooks.list_webhooks(sync, user=None)
    emit_table(
        [webhook_row(w) for w in items],
        as_json,
        [
            ("id", lambda r: r["id"]),
            ("name", lambda r: r["name"]),
            ("url", lambda r: r["url"]),
            ("events", lambda r: ",".join(r["events"])),
        ],
    )


@webhooks_cli.command("create")
@click.option("--sync", "sync_id", type=ID, help="for this sync (default: global)")
@click.option("--name", required=True)
@click.option("--url", required=True, help="http(s)://...")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice([e.value for e in webhooks.SUBSCRIBABLE]),
    help="repeat for several (default: the failure events)",
)
@json_option
def create(
    sync_id: int | None, name: str, url: str, events: tuple[str, ...], as_json: bool
) -> None:
    """Add a webhook; its signing secret is printed once."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None) if sync_id else None
        webhook, secret = webhooks.create_webhook(
            sync,
            {"name": name, "url": url, "events": list(events)},
            user=None,
            actor=cli_actor(),
        )
        db.session.commit()
    emit_one(
        {**webhook_row(webhook), "secret": secret},
        as_json,
        [
            f"Webhook {webhook.id} ({webhook.name}) created for "
            + (f"sync {webhook.sync_id}." if webhook.sync_id else "every sync."),
            f"Signing secret (shown once): {secret}",
        ],
    )


@webhooks_cli.command("show")
@click.argument("webhook_id", type=ID)
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@json_option
def show(webhook_id: int, limit: int, as_json: bool) -> None:
    """A webhook and its latest deliveries."""
    with service_errors():
        webhook = webhooks.get_webhook(webhook_id, user=None)
        deliveries = webhooks.recent_deliveries(webhook, limit)
    row = {
        **webhook_row(webhook),
        "deliveries": [
            {
                "id": d.id,
                "event": d.event,
                "status": str(d.status),
                "attempts": len(d.attempts or []),
                "created_at": d.created_at.isoformat() if d.created_at else None,
            }
            for d in deliveries
        ],
    }
    lines = [f"Webhook {row['id']}: {row['name']} -> {row['url']} ({', '.join(row['events'])})"]
    lines += [
        f"  delivery {d['id']}  {d['event']}  {d['status']}  {d['attempts']} attempt(s)"
        for d in row["deliveries"]
    ]
    emit_one(row, as_json, lines)


@webhooks_cli.command("test")
@click.argument("webhook_id", type=ID)
@json_option
def send_test(webhook_id: int, as_json: bool) -> None:
    """Queue a test event to the webhook (a worker sends it; `show` has the result)."""
    with service_errors():
        webhook = webhooks.get_webhook(webhook_id, user=None)
        delivery = webhooks.send_test(webhook, user=None)
    emit_one(
        {"webhook_id": webhook.id, "delivery_id": delivery.id},
        as_json,
        f"Test event queued (delivery {delivery.id}).",
    )


def _set_enabled(webhook_id: int, enabled: bool, as_json: bool) -> None:
    with service_errors():
        webhook = webhooks.get_webhook(webhook_id, user=None)
        changed = webhooks.set_enabled(webhook, enabled, user=None, actor=cli_actor())
        db.session.commit()
    word = "enabled" if enabled else "disabled (it is sent nothing)"
    emit_one(
        {**webhook_row(webhook), "changed": changed},
        as_json,
        f"Webhook {webhook.id} {word}." if changed else f"Webhook {webhook.id}: nothing changed.",
    )


@webhooks_cli.command("enable")
@click.argument("webhook_id", type=ID)
@json_option
def enable(webhook_id: int, as_json: bool) -> None:
    """Enable a disabled webhook again."""
    _set_enabled(webhook_id, True, as_json)


@webhooks_cli.command("disable")
@click.argument("webhook_id", type=ID)
@json_option
def disable(webhook_id: int, as_json: bool) -> None:
    """Disable a webhook: it is sent nothing until enabled again."""
    _set_enabled(webhook_id, False, as_json)


@webhooks_cli.command("delete")
@click.argument("webhook_id", type=ID)
@yes_option
@json_option
def delete(webhook_id: int, yes: bool, as_json: bool) -> None:
    """Delete a webhook and its delivery log."""
    with service_errors():
        webhook = webhooks.get_webhook(webhook_id, user=None)
        row = webhook_row(webhook)
        confirm(
            [
                f"Delete webhook {webhook.id} “{webhook.name}” ({webhook.url})?",
                "  Lost: its signing secret and its delivery log; it is told nothing more.",
            ],
            yes,
        )
        webhooks.delete_webhook(webhook, user=None, actor=cli_actor())
        db.session.commit()
    emit_one({"deleted": row}, as_json, f"Webhook {row['id']} ({row['name']}) deleted.")
