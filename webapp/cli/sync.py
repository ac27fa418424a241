"""``flask sync``: sync types, creation and listing. Later commands join this group."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

import exporters
from loyalty.db import utcnow
from loyalty.errors import ValidationError
from webapp.cli.common import emit, parse_pairs, read_secret, redis_down, service_errors
from webapp.extensions import db
from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
from webapp.models.syncs import Compression, Encryption, Protocol, Sync
from webapp.services import destinations, exports, recipients, run_status, runs, schedule, syncs
from webapp.services.audit import cli_actor

# Ten years of daily runs: enough for any look ahead, and bounded (99,999,999,999 would
# loop for hours and fill memory).
MAX_NEXT_RUNS = 3660

sync_cli = AppGroup("sync", help="Syncs: types, creation, settings, runs.")


@sync_cli.command("types")
@click.option("--json", "as_json", is_flag=True)
def types(as_json: bool) -> None:
    """List the registered sync type keys with their labels."""
    rows = [
        {
            "key": t.key,
            "label": t.label,
            "semantics": t.semantics.value,
            "scope": t.scope.key if t.scope else None,
        }
        for t in exporters.all_types()
    ]
    emit(rows, as_json, ["key", "label"], lambda r: f"{r['key']:<34}{r['label']}")


@sync_cli.command("create")
@click.option("--type", "type_key", required=True, help="a key from `flask sync types`")
@click.option("--name", required=True)
@click.option("--param", "params", multiple=True, help="scope parameter, e.g. descriptor_id=7")
def create(type_key: str, name: str, params: tuple[str, ...]) -> None:
    """Create a sync (disabled until someone enables it)."""
    with service_errors():
        sync = syncs.create_sync(type_key, name, parse_pairs(params, "--param"), user=None)
        db.session.commit()
    click.echo(f"Created sync {sync.id}: {sync.name} ({sync.type_key}).")


@sync_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_syncs(as_json: bool) -> None:
    rows = [
        {
            "id": s.id,
            "type": s.type_key,
            "name": s.name,
            "enabled": s.enabled,
            "execution_time": s.execution_time,
            "timezone": s.timezone,
            "destinations": len(s.destinations),
        }
        for s in syncs.list_syncs(None)
    ]
    emit(
        rows,
        as_json,
        ["id", "type", "name", "enabled", "time"],
        lambda r: (
            f"{r['id']}  {r['type']}  {r['name']}  {'on' if r['enabled'] else 'off'}  "
            f"{r['execution_time']} {r['timezone']}"
        ),
    )


def _sync(sync_id: int) -> Sync:
    return syncs.get_sync(sync_id, None)


@sync_cli.command("destination-add")
@click.argument("sync_id", type=int)
@click.option("--name", required=True, help="Sync Target Name")
@click.option("--host", required=True, help="server address")
@click.option("--protocol", required=True, type=click.Choice([p.value for p in Protocol]))
@click.option("--directory", default="", help="remote directory (optional)")
@click.option("--port", default="", help="port (default 22 / 21 / 990)")
@click.option("--user", "username", required=True)
@click.option("--retries", default="0", show_default=True, help="0-5")
@click.option(
    "--key-file", type=click.Path(exists=True, dir_okay=False), help="SFTP private key file"
)
@click.option("--host-key-fingerprint", default="", help="pin this SFTP host key (SHA256:...)")
@click.option("--host-key-type", default="", help="its algorithm, e.g. ssh-ed25519")
@click.option("--tls-fingerprint", default="", help="pin this FTPS certificate (sha256 hex)")
@click.option("--no-password", is_flag=True, help="key authentication only; do not read a password")
def destination_add(sync_id: int, no_password: bool, key_file: str | None, **fields: str) -> None:
    """Add an FTP destination; the password is read from stdin or a prompt."""
    with service_errors():
        sync = _sync(sync_id)
        password = "" if no_password else read_secret("Server password")
        raw = {**fields, "password": password, "password_confirm": password}
        if key_file:
            raw["private_key"] = Path(key_file).read_text()
        destination = destinations.add_destination(sync, raw, user=None)
        db.session.commit()
    click.echo(f"Added destination {destination.id} ({destination.name}) to sync {sync.id}.")


@sync_cli.command("set")
@click.argument("sync_id", type=int)
@click.option("--time", "execution_time", help="execution time HH:MM (24 h)")
@click.option("--timezone", help="IANA timezone, e.g. Europe/London")
@click.option("--compression", type=click.Choice([c.value for c in Compression]))
@click.option("--encryption", type=click.Choice([e.value for e in Encryption]))
@click.option("--armor/--binary", "pgp_armor", default=None, help="PGP output form")
@click.option(
    "--pgp-key-file", "key_files", multiple=True, type=click.Path(exists=True, dir_okay=False)
)
@click.option("--notify", "notify_emails", help="failure notice addresses, comma-separated")
@click.option("--option", "options", multiple=True, help="type option KEY=VALUE")
@click.option("--enable/--disable", "enabled", default=None)
def set_command(
    sync_id: int,
    key_files: tuple[str, ...],
    options: tuple[str, ...],
    enabled: bool | None,
    **settings: Any,
) -> None:
    """Change settings, options and the enabled state; all or nothing."""
    with service_errors():
        sync = _sync(sync_id)
        for key_file in key_files:
            recipients.add_recipient_key(sync, Path(key_file).read_text(), user=None)
        changes: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
        if options:
            changes["options"] = parse_pairs(options, "--option")
        changed = syncs.update_settings(sync, changes, user=None) if changes else {}
        if enabled is not None:
            syncs.set_enabled(sync, enabled, user=None)
        db.session.commit()
    shown = sorted(changed) + (
        [f"{'enabled' if enabled else 'disabled'}"] if enabled is not None else []
    )
    click.echo(
        f"Sync {sync.id}: {', '.join(shown) if shown or key_files else 'nothing changed'}{' (+ PGP keys)' if key_files else ''}."
    )


def _instance_row(instance: SyncInstance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "sync_id": instance.sync_id,
        "sequence": instance.sequence,
        "status": run_status.status_of(instance).label,
        "trigger": str(instance.trigger),
        "scheduled_for": instance.scheduled_for.isoformat() if instance.scheduled_for else None,
        "created_at": instance.created_at.isoformat(),
        "creation_status": str(instance.creation_status),
        "rows": instance.rows_written,
        "error": instance.error,
        "note": instance.note,
        "files": [
            {
                "name": f.name,
                "role": str(f.role),
                "size": f.size,
                "sha256": f.sha256,
                "rows": f.rows,
            }
            for f in instance.files
        ],
        "transfers": [
            {
                "id": t.id,
                "destination": t.destination_name,
                "round": t.round,
                "status": str(t.status),
                "attempts": len(t.attempts),
                "bytes_sent": t.bytes_sent,
                "error": t.error,
            }
            for t in instance.transfers
        ],
    }


def _final(instance: SyncInstance) -> bool:
    if not CreationStatus(instance.creation_status).is_final:
        return False
    return all(TransferStatus(t.status).is_final for t in instance.transfers)


def _wait(instance_id: int, timeout: float, inline: bool) -> SyncInstance:
    deadline = time.monotonic() + timeout
    while True:
        if inline:
            run_queued_jobs()
        db.session.expire_all()
        instance = db.session.get(SyncInstance, instance_id)
        assert instance is not None
        if _final(instance):
            return instance
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"Run {instance_id} is not final after {timeout:.0f} s (are workers running?)."
            )
        time.sleep(0.5)


def run_queued_jobs() -> None:
    """Run every queued build and transfer in this process (no worker needed)."""
    from rq import SimpleWorker

    from webapp.services.dispatch import queue_names
    from webapp.services.redis_client import redis_client

    SimpleWorker(list(queue_names()), connection=redis_client()).work(
        burst=True, with_scheduler=False
    )


@sync_cli.command("run")
@click.argument("sync_id", type=int)
@click.option("--wait", is_flag=True, help="block until the build and every transfer are final")
@click.option(
    "--inline",
    is_flag=True,
    help="run the jobs in this process instead of on workers (implies --wait)",
)
@click.option("--timeout", default=3600.0, show_default=True, help="seconds to wait")
@click.option("--json", "as_json", is_flag=True)
def run_command(sync_id: int, wait: bool, inline: bool, timeout: float, as_json: bool) -> None:
    """Process New Sync: start a manual run."""
    with service_errors():
        instance = runs.start_manual_run(_sync(sync_id), user=None, actor=cli_actor())
    if runs.queue_was_down(instance):
        redis_down(saved=f"Run {instance.id} is saved; it starts when Redis is back.")
    if wait or inline:
        with service_errors():
            instance = _wait(instance.id, timeout, inline)
    row = _instance_row(instance)
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(
        f"{run_status.run_label(instance)} (id {row['id']}): {row['status']}"
        + (f" ({row['error']})" if row["error"] else "")
    )
    for t in row["transfers"]:
        click.echo(
            f"  -> {t['destination']}: {t['status']}" + (f" ({t['error']})" if t["error"] else "")
        )
    if (wait or inline) and (
        row["creation_status"] == "failed" or any(t["status"] == "failed" for t in row["transfers"])
    ):
        sys.exit(1)


@sync_cli.command("retransfer")
@click.argument("instance_id", type=int)
@click.option("--destination", "destination_id", type=int, help="only this destination")
@click.option("--wait", is_flag=True)
@click.option("--inline", is_flag=True, help="run the transfers in this process (implies --wait)")
@click.option("--json", "as_json", is_flag=True)
def retransfer_command(
    instance_id: int, destination_id: int | None, wait: bool, inline: bool, as_json: bool
) -> None:
    """Transfer File(s): send a past run's stored files again."""
    with service_errors():
        instance = runs.get_instance(instance_id, None)
        transfers = runs.request_retransfer(
            instance, user=None, destination_id=destination_id, actor=cli_actor()
        )
    if runs.queue_was_down(*transfers):
        redis_down(saved="The transfers are saved; they start when Redis is back.")
    if wait or inline:
        with service_errors():
            instance = _wait(instance_id, 3600, inline)
    row = _instance_row(instance)
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(
        f"Re-transfer of run {instance_id} to {', '.join(t.destination_name for t in transfers)} started."
    )


@sync_cli.command("instances")
@click.argument("sync_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def instances_command(sync_id: int, limit: int, as_json: bool) -> None:
    """The sync's runs, newest first."""
    with service_errors():
        items, _ = runs.list_instances(_sync(sync_id), None, page_size=limit)
    rows = [_instance_row(i) for i in items]
    emit(
        rows,
        as_json,
        ["id", "trigger", "created", "creation", "transfers"],
        lambda r: (
            f"{r['id']}  {r['trigger']}  {r['created_at'][:19]}  {r['creation_status']}  "
            + ", ".join(f"{t['destination']}={t['status']}" for t in r["transfers"])
        ),
    )


@sync_cli.command("next-runs")
@click.argument("sync_id", type=int)
@click.option("--after", help="ISO date-time (default: now); naive means the sync's zone")
@click.option(
    "--count",
    type=click.IntRange(1, MAX_NEXT_RUNS),
    default=3,
    show_default=True,
    help=f"how many (at most {MAX_NEXT_RUNS})",
)
@click.option("--json", "as_json", is_flag=True)
def next_runs_command(sync_id: int, after: str | None, count: int, as_json: bool) -> None:
    """The next scheduled run times, in the sync's zone and UTC (the tick's own rules)."""
    with service_errors():
        sync = _sync(sync_id)
        start = utcnow()
        if after:
            try:
                parsed = datetime.fromisoformat(after)
            except ValueError:
                raise ValidationError({"after": f"Not an ISO date-time: {after!r}."}) from None
            start = parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(sync.timezone))
        try:
            slots = schedule.next_slots(
                schedule.parse_time(sync.execution_time), sync.timezone, start, count
            )
        except OverflowError:
            raise ValidationError({"after": "That is too close to the year 9999."}) from None
    rows = [
        {
            "local": s.local.isoformat(),
            "utc": s.at.isoformat(),
            "zone": sync.timezone,
            "shifted": s.shifted,
            "repeated": s.repeated,
        }
        for s in slots
    ]
    emit(
        rows,
        as_json,
        ["local", "utc"],
        lambda r: f"{r['local']}  {r['utc']}" + ("  (DST gap: moved)" if r["shifted"] else ""),
    )


@sync_cli.command("export")
@click.argument("sync_id", type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def export_command(sync_id: int, out_dir: str) -> None:
    """Build the files of one run into DIR, without delivering them or moving the watermark."""
    with service_errors():
        sync = _sync(sync_id)
        target = Path(out_dir)
        target.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        result = exports.export_once(sync, target)
    seconds = time.monotonic() - started
    for f in result.files:
        click.echo(f"{f.path}  {f.rows} rows")
    click.echo(
        f"{result.rows} rows in {seconds:.2f} s ({result.rows / seconds if seconds else 0:,.0f} rows/s)"
    )
