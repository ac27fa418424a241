"""Issue 14: the Runs page, the one status vocabulary, and Cancel / Retry now, role by role.

Runs are written as rows (the worker's own tests are in tests/integration/runs/); the
stored outcome the page filters by is kept by the flush hook of webapp.services.run_status,
so these rows get it exactly as the worker's commits do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exporters.base import SyncType
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import (
    CreationStatus,
    FileRole,
    RunOutcome,
    SyncFile,
    SyncInstance,
    Transfer,
    TransferAttempt,
    TransferStatus,
    Trigger,
)
from webapp.models.syncs import Destination, Sync

Login = Callable[[Any], FlaskClient]
S = TransferStatus


@pytest.fixture
def two_syncs(app: Flask, platform_test_type: SyncType) -> tuple[Sync, Sync]:
    first = Sync(type_key=platform_test_type.key, name="Alpha members", options={"rows": 2})
    second = Sync(type_key=platform_test_type.key, name="Beta points", options={"rows": 2})
    db.session.add_all([first, second])
    db.session.commit()
    return first, second


def _destination(sync: Sync, name: str) -> Destination:
    position = len(sync.destinations) + 1
    destination = Destination(
        sync_id=sync.id,
        position=position,
        name=name,
        host="sftp.example.com",
        protocol="sftp",
        port=22,
        directory="in",
        username="u",
        retries=2,
    )
    db.session.add(destination)
    db.session.flush()
    db.session.refresh(sync)
    return destination


def make_run(
    sync: Sync,
    creation: CreationStatus = CreationStatus.SUCCEEDED,
    transfers: dict[str, TransferStatus] | None = None,
    trigger: Trigger = Trigger.SCHEDULED,
    created_at: Any = None,
) -> SyncInstance:
    """A run with a deliverable and one transfer per named destination, in that status."""
    now = utcnow()
    run = SyncInstance(
        sync_id=sync.id,
        trigger=trigger,
        creation_status=creation,
        run_started_at=now,
        creation_started_at=now,
        creation_finished_at=now + timedelta(seconds=3) if creation.is_final else None,
        created_at=created_at or now,
    )
    db.session.add(run)
    db.session.flush()
    if creation == CreationStatus.SUCCEEDED:
        db.session.add(
            SyncFile(
                instance_id=run.id,
                role=FileRole.DELIVERABLE,
                kind="product_level",
                name=f"f{run.id}.txt",
                path=f"sync-{sync.id}/run-{run.id}/deliverable/f{run.id}.txt",
                size=10,
                sha256="0" * 64,
                rows=1,
            )
        )
    by_name = {d.name: d for d in sync.destinations}
    for name, status in (transfers or {}).items():
        destination = by_name.get(name) or _destination(sync, name)
        by_name[name] = destination
        transfer = Transfer(
            instance_id=run.id,
            destination_id=destination.id,
            destination_name=name,
            status=status,
            max_attempts=3,
            finished_at=now + timedelta(seconds=65) if status.is_final else None,
            next_attempt_at=now + timedelta(hours=1) if status == S.RETRYING else None,
        )
        db.session.add(transfer)
        db.session.flush()
        if status in (S.FAILED, S.RETRYING):
            db.session.add(
                TransferAttempt(
                    transfer_id=transfer.id,
                    number=1,
                    started_at=now,
                    finished_at=now,
                    succeeded=False,
                    error="refused",
                    error_kind="refused",
                    retryable=True,
                )
            )
    db.session.commit()
    return run


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _run_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="runs-row-(\d+)"', page)]


# ---- the status vocabulary (defects 1, 3, 9) --------------------------------------------


def test_the_list_says_partly_failed_for_a_run_with_a_dead_destination(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.SUCCEEDED, "C": S.FAILED})
    page = login(make_user("viewer")).get("/syncs").text
    cell = page.split('class="last-run"')[1].split("</td>")[0]
    assert 'class="status partly-failed"' in cell and "Partly failed · 2/3" in cell
    assert "succeeded" not in cell


def test_a_retrying_run_still_says_the_destinations_that_failed(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    run = make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.FAILED, "C": S.RETRYING})
    row = login(make_user("viewer")).get(f"/runs/{run.id}/row").text
    assert "Retrying · 1 · 1 failed" in row
    assert "1/3 delivered · 1 failed · 1 retrying" in row
    line_b = row.split(f'id="transfer-line-{run.transfers[1].id}"')[1].split("</li>")[0]
    assert "B" in line_b and 'class="status failed">Failed' in line_b
    assert "1 min 05 s" in row  # the duration column: start to the last transfer's end


def test_one_word_per_status_on_every_page(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    run = make_run(alpha, transfers={"A": S.SUCCEEDED})
    client = login(make_user("viewer"))
    pages = [
        client.get("/syncs").text,
        client.get(f"/syncs/{alpha.id}/dashboard").text,
        client.get("/runs").text,
        client.get(f"/syncs/{alpha.id}/runs/{run.id}/transfers").text,
        client.get(f"/syncs/{alpha.id}/runs/{run.id}/creation").text,
    ]
    for page in pages:
        assert "Complete" not in page and ">succeeded<" not in page
    assert all("Delivered" in p for p in pages[:4])
    creation = pages[4]
    assert "Product level" in creation and ">product_level<" not in creation


def test_runs_are_numbered_per_sync_with_the_global_id_in_the_url(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, beta = two_syncs
    for _ in range(5):
        make_run(alpha)
    first_of_beta = make_run(beta)
    assert first_of_beta.id == 6 and first_of_beta.sequence == 1
    page = login(make_user("viewer")).get(f"/syncs/{beta.id}/dashboard").text
    link = f'/syncs/{beta.id}/runs/{first_of_beta.id}/transfers" title="run id 6">Run 1</a>'
    assert link in page and "Run #6" not in page


# ---- the Runs page -------------------------------------------------------------------------


def test_anonymous_users_go_to_login(app: Flask, client: FlaskClient, two_syncs: Any) -> None:
    run = make_run(two_syncs[0], CreationStatus.PENDING)
    for response in (
        client.get("/runs"),
        client.post(f"/runs/{run.id}/cancel"),
        client.post("/transfers/1/retry"),
        client.post("/transfers/1/cancel"),
    ):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(SyncInstance, run.id).creation_status == CreationStatus.PENDING


def test_the_filters_find_what_failed(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, beta = two_syncs
    delivered = make_run(alpha, transfers={"A": S.SUCCEEDED})
    partly = make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.FAILED})
    failed = make_run(beta, transfers={"X": S.FAILED}, trigger=Trigger.MANUAL)
    retrying = make_run(beta, transfers={"X": S.RETRYING})
    waiting = make_run(beta, CreationStatus.PENDING)
    old = make_run(alpha, transfers={"A": S.FAILED}, created_at=utcnow() - timedelta(days=10))
    client = login(make_user("viewer"))
    everything = _run_ids(client.get("/runs").text)
    assert everything == sorted(everything, reverse=True)  # newest first
    assert set(everything) == {delivered.id, partly.id, failed.id, retrying.id, waiting.id, old.id}
    assert set(_run_ids(client.get("/runs?status=failures").text)) == {old.id, failed.id, partly.id}
    assert _run_ids(client.get("/runs?status=partly_failed").text) == [partly.id]
    assert _run_ids(client.get("/runs?status=retrying").text) == [retrying.id]
    assert _run_ids(client.get("/runs?status=waiting").text) == [waiting.id]
    assert set(_run_ids(client.get(f"/runs?sync={beta.id}").text)) == {
        failed.id,
        retrying.id,
        waiting.id,
    }
    b_destination = next(d for d in alpha.destinations if d.name == "B")
    assert _run_ids(client.get(f"/runs?destination={b_destination.id}").text) == [partly.id]
    assert _run_ids(client.get("/runs?trigger=manual").text) == [failed.id]
    today = utcnow().date().isoformat()
    recent = _run_ids(client.get(f"/runs?status=failures&from={today}&to={today}").text)
    assert set(recent) == {failed.id, partly.id}
    page = client.get(f"/runs?status=failures&sync={alpha.id}").text
    row = page.split(f'id="runs-row-{partly.id}"')[1].split("</tr>")[0]
    assert "Partly failed · 1/2" in row
    assert f'href="/syncs/{alpha.id}/runs/{partly.id}/transfers"' in row


@pytest.mark.parametrize(
    "query",
    ["status=broken", "sync=abc", "destination=-1", "trigger=cron", "from=yesterday", "before=0"],
)
def test_bad_filters_are_named_never_a_500(
    app: Flask, two_syncs: Any, make_user: Any, login: Login, query: str
) -> None:
    response = login(make_user("viewer")).get(f"/runs?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert name in response.text.lower() or "status" in response.text.lower()
    assert 'role="alert"' in response.text


def test_the_end_date_before_the_start_is_refused(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    response = login(make_user("viewer")).get("/runs?from=2026-12-03&to=2026-12-01")
    assert response.status_code == 400 and "The end date is before the start date." in response.text


def test_pages_are_keyset_paged(app: Flask, two_syncs: Any, make_user: Any, login: Login) -> None:
    alpha, _ = two_syncs
    ids = [make_run(alpha, CreationStatus.FAILED).id for _ in range(120)]
    client = login(make_user("viewer"))
    seen: list[int] = []
    url: str | None = "/runs?status=failed"
    while url:
        page = client.get(url).text
        seen += _run_ids(page)
        match = re.search(r'href="([^"]+)" id="older"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "status=failed" in url and "before=" in url
    assert seen == sorted(ids, reverse=True)


def test_the_header_counts_failures_since_yesterday(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    client = login(make_user("viewer"))
    make_run(alpha, transfers={"A": S.SUCCEEDED})
    make_run(alpha, transfers={"A": S.FAILED}, created_at=utcnow() - timedelta(days=3))
    assert 'id="failure-count"' not in client.get("/syncs").text
    make_run(alpha, transfers={"A": S.FAILED})
    make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.FAILED})
    page = client.get("/syncs").text
    assert re.search(r'id="failure-count" href="/runs\?status=failures"[^>]*>2 failed<', page)


# ---- Cancel / Retry now, role by role ---------------------------------------------------


@pytest.mark.parametrize("role", ["viewer"])
def test_a_viewer_sees_no_actions_and_gets_403(
    app: Flask, two_syncs: Any, make_user: Any, login: Login, role: str
) -> None:
    alpha, _ = two_syncs
    pending = make_run(alpha, CreationStatus.PENDING)
    failing = make_run(alpha, transfers={"A": S.FAILED, "B": S.RETRYING})
    client = login(make_user(role))
    for page in (client.get("/runs").text, client.get(f"/syncs/{alpha.id}/dashboard").text):
        assert "Retry now" not in page and "/cancel" not in page
    before = _actions()
    a, b = failing.transfers
    for url in (
        f"/runs/{pending.id}/cancel",
        f"/transfers/{a.id}/retry",
        f"/transfers/{b.id}/cancel",
    ):
        assert client.post(url).status_code == 403
    assert _actions() == before
    assert db.session.get(SyncInstance, pending.id).creation_status == CreationStatus.PENDING
    assert [db.session.get(Transfer, t.id).status for t in (a, b)] == [S.FAILED, S.RETRYING]


@pytest.mark.parametrize("role", ["sync_manager", "support"])
def test_cancel_without_javascript_flashes_and_goes_back(
    app: Flask, two_syncs: Any, make_user: Any, login: Login, role: str
) -> None:
    alpha, _ = two_syncs
    pending = make_run(alpha, CreationStatus.PENDING)
    user = make_user(role)
    client = login(user)
    page = client.get("/runs?status=waiting").text
    assert f'action="/runs/{pending.id}/cancel"' in page
    response = client.post(f"/runs/{pending.id}/cancel", data={"next": "/runs?status=waiting"})
    assert response.status_code == 302 and response.headers["Location"] == "/runs?status=waiting"
    run = db.session.get(SyncInstance, pending.id)
    assert run.creation_status == CreationStatus.CANCELLED and run.outcome == RunOutcome.CANCELLED
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "run.cancel")).one()
    assert event.actor == user.email
    assert "Run 1 of Alpha members was cancelled." in client.get("/runs").text
    # Again: the state moved on; said, not done twice, not a 500.
    client.post(f"/runs/{pending.id}/cancel", data={"next": "/runs"})
    assert "cannot be cancelled: it was already cancelled." in client.get("/runs").text
    assert _actions().count("run.cancel") == 1


def test_next_never_leaves_the_site(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    client = login(make_user("sync_manager"))
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example", "runs"):
        pending = make_run(alpha, CreationStatus.PENDING)
        response = client.post(f"/runs/{pending.id}/cancel", data={"next": target})
        assert response.headers["Location"] == f"/syncs/{alpha.id}/runs/{pending.id}/transfers"


def test_retry_now_with_htmx_swaps_the_row_and_enqueues(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    run = make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.FAILED})
    failed = run.transfers[1]
    client = login(make_user("sync_manager"))
    htmx = {"HX-Request": "true"}
    row = client.post(f"/transfers/{failed.id}/retry", data={"row": "runs"}, headers=htmx).text
    assert row.startswith(f'<tr id="runs-row-{run.id}"')
    assert "Sending to B again now." in row and "Sending · 1/2" in row
    transfer = db.session.get(Transfer, failed.id)
    assert transfer.status == S.PENDING and transfer.job_id and len(transfer.attempts) == 1
    assert "transfer.retry_now" in _actions()
    # The dashboard's row asks for its own row back; a refusal is said in it.
    delivered = run.transfers[0]
    row = client.post(
        f"/transfers/{delivered.id}/retry", data={"row": "dashboard"}, headers=htmx
    ).text
    assert row.startswith(f'<tr id="run-{run.id}"')
    assert 'class="action-message refused"' in row and "it was already delivered" in row


def test_cancel_of_a_retrying_transfer_from_the_dashboard(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    run = make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.RETRYING})
    retrying = run.transfers[1]
    client = login(make_user("sync_manager"))
    dashboard = client.get(f"/syncs/{alpha.id}/dashboard").text
    assert f'action="/transfers/{retrying.id}/cancel"' in dashboard
    assert f'action="/transfers/{retrying.id}/retry"' in dashboard
    client.post(f"/transfers/{retrying.id}/cancel", data={"next": f"/syncs/{alpha.id}/dashboard"})
    assert db.session.get(Transfer, retrying.id).status == S.CANCELLED
    page = client.get(f"/syncs/{alpha.id}/dashboard").text
    assert "The transfer to B was cancelled." in page and "Partly failed · 1/2" in page


def test_unknown_ids_are_404(app: Flask, two_syncs: Any, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    for url in ("/runs/999/cancel", "/transfers/999/retry", "/transfers/999/cancel"):
        assert client.post(url).status_code == 404


def test_the_transfer_detail_offers_retry_on_the_latest_round_only(
    app: Flask, two_syncs: Any, make_user: Any, login: Login
) -> None:
    alpha, _ = two_syncs
    run = make_run(alpha, transfers={"A": S.SUCCEEDED, "B": S.FAILED})
    delivered, failed = run.transfers
    url = f"/syncs/{alpha.id}/runs/{run.id}/transfers"
    viewer = login(make_user("viewer"))
    assert "/retry" not in viewer.get(url).text
    viewer.post("/logout")
    client = login(make_user("sync_manager"))
    page = client.get(url).text
    assert f'action="/transfers/{failed.id}/retry"' in page
    assert f'action="/transfers/{delivered.id}/retry"' not in page
    response = client.post(f"/transfers/{failed.id}/retry", data={"next": url})
    assert response.headers["Location"] == url
    assert db.session.get(Transfer, failed.id).status == S.PENDING
