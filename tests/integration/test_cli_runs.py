"""Issue 13, item 4: ``flask runs show / cancel`` and ``flask transfers show / retry /
cancel``, wired to webapp.services.run_actions (engineer opsa's service), with a real
Redis, RQ worker and sshd."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.cli_support import cli_events, invoke, invoke_json
from tests.integration.runs.conftest import (  # noqa: F401
    latest,
    make_sync,
    run_jobs,
    sftp_destination,
)
from tests.integration.test_fuzz_inputs import snapshot
from webapp.extensions import db
from webapp.models.runs import CreationStatus, Transfer, TransferStatus
from webapp.services import destinations, runs

pytestmark = pytest.mark.integration


def test_runs_cancel_cancels_a_waiting_run(runner: Any, make_sync: Any) -> None:
    sync = make_sync()
    instance = runs.start_manual_run(sync, user=None, actor="test")  # no worker: it waits
    row = invoke_json(runner, "runs", "cancel", str(instance.id))
    assert (row["id"], row["creation_status"], row["status"]) == (
        instance.id,
        "cancelled",
        "Cancelled",
    )
    assert [e.object_id for e in cli_events("run.cancel")] == [instance.id]


def test_runs_cancel_of_a_finished_run_is_refused_with_its_state(
    runner: Any, make_sync: Any, run_jobs: Any
) -> None:
    sync = make_sync()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    before = snapshot()
    refused = invoke(runner, "runs", "cancel", str(instance.id), code=2)
    assert "cannot be cancelled" in refused.output
    assert snapshot() == before and cli_events("run.cancel") == []
    assert "No run with id 4242" in invoke(runner, "runs", "cancel", "4242", code=2).output


def test_runs_show(runner: Any, make_sync: Any, run_jobs: Any) -> None:
    sync = make_sync()
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    row = invoke_json(runner, "runs", "show", str(instance.id))
    assert row["creation_status"] == CreationStatus.SUCCEEDED and row["files"]
    assert (
        f"Run {instance.id} of sync {sync.id}"
        in invoke(runner, "runs", "show", str(instance.id)).output
    )


def _failed_transfer(
    make_sync: Any, sftp_destination: Any, closed_port: int, run_jobs: Any
) -> Transfer:
    sync = make_sync()
    sftp_destination(sync, port=str(closed_port), retries="0")
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    (transfer,) = latest(sync).transfers
    assert transfer.status == TransferStatus.FAILED
    return transfer


def test_transfers_retry_sends_a_failed_transfer_again(
    runner: Any,
    make_sync: Any,
    sftp_destination: Any,
    closed_port: int,
    run_jobs: Any,
    sshd_server: Any,
) -> None:
    transfer = _failed_transfer(make_sync, sftp_destination, closed_port, run_jobs)
    destination = transfer.destination
    # The receiver is back (on its real port; a new port needs the password again).
    destinations.update_destination(
        destination,
        {
            "name": destination.name,
            "host": destination.host,
            "protocol": "sftp",
            "port": str(sshd_server.port),
            "directory": destination.directory,
            "username": destination.username,
            "password": sshd_server.password,
            "password_confirm": sshd_server.password,
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
        },
        user=None,
    )
    db.session.commit()
    row = invoke_json(runner, "transfers", "retry", str(transfer.id))
    assert (row["id"], row["status"]) == (transfer.id, "pending")
    run_jobs()
    assert db.session.get(Transfer, transfer.id).status == TransferStatus.SUCCEEDED
    (event,) = cli_events("transfer.retry_now")
    assert event.detail["was"] == "failed"


def test_transfers_retry_of_a_delivered_transfer_is_refused(
    runner: Any, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync()
    sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    (transfer,) = latest(sync).transfers
    before = snapshot()
    refused = invoke(runner, "transfers", "retry", str(transfer.id), code=2)
    assert "cannot be retried: it was already delivered" in refused.output
    assert snapshot() == before
    assert "No transfer with id 999" in invoke(runner, "transfers", "retry", "999", code=2).output
    # An id beyond the database's range is refused by the argument parser, not the database.
    assert invoke(runner, "transfers", "retry", str(2**40), code=2).output.count("Error") == 1


def test_transfers_cancel_and_its_refusal(
    runner: Any, make_sync: Any, sftp_destination: Any, run_jobs: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    (waiting,) = runs.request_retransfer(instance, user=None)  # queued, no worker runs it
    row = invoke_json(runner, "transfers", "cancel", str(waiting.id))
    assert row["status"] == "cancelled"
    assert len(cli_events("transfer.cancel")) == 1
    shown = invoke_json(runner, "transfers", "show", str(waiting.id))
    assert shown["label"] == "Cancelled"
    refused = invoke(runner, "transfers", "cancel", str(waiting.id), code=2)
    assert "already cancelled" in refused.output
    assert db.session.scalar(select(Transfer).where(Transfer.id == waiting.id)).status == (
        TransferStatus.CANCELLED
    )


def test_runs_list_filters_as_the_runs_page(
    runner: Any, make_sync: Any, sftp_destination: Any, closed_port: int, run_jobs: Any
) -> None:
    failed = _failed_transfer(make_sync, sftp_destination, closed_port, run_jobs)
    good = make_sync("Good")
    runs.start_manual_run(good, user=None, actor="test")
    run_jobs()
    everything = invoke_json(runner, "runs", "list")
    assert len(everything["runs"]) == 2 and everything["next_before"] is None
    failures = invoke_json(runner, "runs", "list", "--status", "failures")
    assert [r["id"] for r in failures["runs"]] == [failed.instance_id]
    assert failures["runs"][0]["status"].startswith("Failed")
    page = invoke_json(runner, "runs", "list", "--limit", "1")
    older = invoke_json(runner, "runs", "list", "--before", str(page["next_before"]))
    assert [r["id"] for r in page["runs"] + older["runs"]] == [r["id"] for r in everything["runs"]]
    assert "Failed" in invoke(runner, "runs", "list", "--sync", str(failed.instance.sync_id)).output


def test_runs_list_refuses_bad_filters(runner: Any) -> None:
    assert (
        "Unknown status 'late'" in invoke(runner, "runs", "list", "--status", "late", code=2).output
    )
    assert (
        "must be a date like 2026-12-03"
        in invoke(runner, "runs", "list", "--from", "monday", code=2).output
    )
