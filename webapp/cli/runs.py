"""``flask runs show / cancel`` and ``flask transfers show / retry / cancel``.

Named ``runs`` and ``transfers`` (plural) because ``flask run`` is Flask's own
development-server command. Cancel and Retry now are
:mod:`webapp.services.run_actions` (the Runs page's buttons call the same functions):
one conditional UPDATE each, so a person and a worker cannot both win, and a refusal
names the state the run or transfer is in now.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup

from loyalty.errors import NotFound, ValidationError
from loyalty.text import CONTROL, parse_id
from webapp.cli.common import ID, emit_one, emit_table, json_option, service_errors
from webapp.cli.sync import instance_row
from webapp.extensions import db
from webapp.models.runs import SyncInstance, Transfer, TransferStatus, Trigger
from webapp.services import run_actions, run_search, run_status, runs
from webapp.services.audit import cli_actor

runs_cli = AppGroup("runs", help="Runs: show, cancel (`flask run` is Flask's dev server).")
transfers_cli = AppGroup("transfers", help="Transfers of a run to one destination: retry, cancel.")


def _run_lines(row: dict[str, Any]) -> list[str]:
    lines = [
        f"Run {row['id']} of sync {row['sync_id']}: {row['status']} "
        f"(creation {row['creation_status']})" + (f": {row['error']}" if row["error"] else "")
    ]
    lines += [
        f"  transfer {t['id']} -> {t['destination']} (round {t['round']}): {t['status']}"
        + (f": {t['error']}" if t["error"] else "")
        for t in row["transfers"]
    ]
    return lines


@runs_cli.command("show")
@click.argument("instance_id", type=int)
@json_option
def show_run(instance_id: int, as_json: bool) -> None:
    """A run: its status, files and transfers (every round)."""
    with service_errors():
        row = instance_row(runs.get_instance(instance_id, None))
    emit_one(row, as_json, _run_lines(row))


@runs_cli.command("list")
@click.option(
    "--status",
    help="failures (failed or partly failed), or one of "
    + ", ".join(o.value for o in run_status.FILTERABLE),
)
@click.option("--sync", "sync_id", type=ID, help="only this sync's runs")
@click.option("--destination", "destination_id", type=ID, help="only runs sent to this one")
@click.option("--trigger", type=click.Choice([t.value for t in Trigger]))
@click.option("--from", "day_from", help="created on or after this day (YYYY-MM-DD, UTC)")
@click.option("--to", "day_to", help="created on or before this day (YYYY-MM-DD, UTC)")
@click.option("--before", type=ID, help="older than this run id (the next page)")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
def list_runs(
    status: str | None,
    sync_id: int | None,
    destination_id: int | None,
    trigger: str | None,
    day_from: str | None,
    day_to: str | None,
    before: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Runs of every sync, newest first, filtered as on the Runs page ("what failed?")."""
    args = {
        "status": status,
        "sync": sync_id,
        "destination": destination_id,
        "trigger": trigger,
        "from": day_from,
        "to": day_to,
        "before": before,
    }
    with service_errors():
        if any(v and CONTROL.search(str(v)) for v in args.values()):
            raise ValidationError("A filter has control characters.")
        flt = run_search.parse_filter({k: str(v) for k, v in args.items() if v is not None})
        page = run_search.search(flt, None, page_size=limit)
    rows = [instance_row(i) for i in page.runs]
    if as_json:
        click.echo(json.dumps({"runs": rows, "next_before": page.next_before}, indent=2))
        return
    emit_table(
        rows,
        False,
        [
            ("id", lambda r: r["id"]),
            ("sync", lambda r: r["sync_id"]),
            ("run", lambda r: r["sequence"]),
            ("created (UTC)", lambda r: r["created_at"][:19]),
            ("status", lambda r: r["status"]),
            (
                "transfers",
                lambda r: ", ".join(f"{t['destination']}={t['status']}" for t in r["transfers"]),
            ),
        ],
    )
    if page.next_before:
        click.echo(f"(more: --before {page.next_before})")


@runs_cli.command("cancel")
@click.argument("instance_id", type=int)
@json_option
def cancel_run(instance_id: int, as_json: bool) -> None:
    """Cancel a waiting run: its build if not started, else its transfers still waiting."""
    with service_errors():
        instance = runs.get_instance(instance_id, None)
        run_actions.cancel_run(instance, user=None, actor=cli_actor())
        instance = _reloaded_run(instance.id)
    row = instance_row(instance)
    emit_one(row, as_json, [f"Run {instance.id} cancelled.", *_run_lines(row)[1:]])


def _reloaded_run(instance_id: int) -> SyncInstance:
    db.session.expire_all()
    return runs.get_instance(instance_id, None)


def get_transfer(transfer_id: int | str) -> Transfer:
    """The transfer with this id; NotFound also for ids no row can have."""
    ident = parse_id(transfer_id)
    transfer = db.session.get(Transfer, ident) if ident is not None else None
    if transfer is None:
        raise NotFound(f"No transfer with id {transfer_id}.")
    return transfer


def transfer_row(transfer: Transfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "run_id": transfer.instance_id,
        "sync_id": transfer.instance.sync_id,
        "destination_id": transfer.destination_id,
        "destination": transfer.destination_name,
        "round": transfer.round,
        "status": str(transfer.status),
        "label": TransferStatus(transfer.status).label,
        "attempts": len(transfer.attempts),
        "max_attempts": transfer.max_attempts,
        "bytes_sent": transfer.bytes_sent,
        "bytes_total": transfer.bytes_total,
        "error": transfer.error,
    }


def _transfer_line(row: dict[str, Any]) -> str:
    return (
        f"Transfer {row['id']} of run {row['run_id']} -> {row['destination']} "
        f"(round {row['round']}, {row['attempts']} attempt(s)): {row['label']}"
        + (f": {row['error']}" if row["error"] else "")
    )


@transfers_cli.command("show")
@click.argument("transfer_id", type=ID)
@json_option
def show_transfer(transfer_id: int, as_json: bool) -> None:
    """One transfer: destination, round, attempts, status."""
    with service_errors():
        row = transfer_row(get_transfer(transfer_id))
    emit_one(row, as_json, _transfer_line(row))


@transfers_cli.command("retry")
@click.argument("transfer_id", type=ID)
@json_option
def retry_transfer(transfer_id: int, as_json: bool) -> None:
    """Retry now: send a failed or retrying transfer again at once (no back-off wait);
    its earlier attempts are kept. A worker sends it."""
    with service_errors():
        transfer = run_actions.retry_transfer_now(
            get_transfer(transfer_id), user=None, actor=cli_actor()
        )
    row = transfer_row(transfer)
    emit_one(row, as_json, f"Transfer {row['id']} to {row['destination']} queued again.")


@transfers_cli.command("cancel")
@click.argument("transfer_id", type=ID)
@json_option
def cancel_transfer(transfer_id: int, as_json: bool) -> None:
    """Cancel a transfer that waits for a worker or for its next retry."""
    with service_errors():
        transfer = get_transfer(transfer_id)
        run_actions.cancel_transfer(transfer, user=None, actor=cli_actor())
        db.session.refresh(transfer)
    row = transfer_row(transfer)
    emit_one(row, as_json, f"Transfer {row['id']} to {row['destination']} cancelled.")
