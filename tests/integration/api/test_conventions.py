"""The API's conventions: cursor pages, ETag/If-Match, problem+json with field errors,
and the run actions (cancel, retry now) with 409 when the state moved on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import Api
from webapp.extensions import db
from webapp.models.runs import CreationStatus, RunOutcome, SyncInstance, Trigger
from webapp.models.syncs import Sync
from webapp.services import destinations

pytestmark = pytest.mark.integration


def _sync(name: str = "Conventions") -> Sync:
    sync = Sync(type_key="platform_test", name=name, options={"rows": 3})
    db.session.add(sync)
    db.session.commit()
    return sync


def test_cursor_pages_cover_every_run_once_newest_first(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    sync, other = _sync(), _sync("Other")
    for i in range(7):
        db.session.add(
            SyncInstance(
                sync_id=sync.id,
                trigger=Trigger.MANUAL,
                creation_status=CreationStatus.FAILED if i % 2 else CreationStatus.SUCCEEDED,
            )
        )
    db.session.add(SyncInstance(sync_id=other.id, trigger=Trigger.MANUAL))
    db.session.commit()
    api = api_as("viewer")
    seen: list[int] = []
    url = f"/runs?sync={sync.id}&limit=3"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.text
        seen += [r["id"] for r in response.json["items"]]
        url = response.json["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
        pages += 1
    assert pages == 3
    expected = [
        r.id
        for r in db.session.scalars(
            db.select(SyncInstance)
            .where(SyncInstance.sync_id == sync.id)
            .order_by(SyncInstance.id.desc())
        )
    ]
    assert seen == expected
    failed = api.get(f"/runs?status=failed&sync={sync.id}").json["items"]
    assert len(failed) == 3 and all(r["outcome"] == RunOutcome.FAILED.value for r in failed)
    bad = api.get("/runs?cursor=bm90LWEtY3Vyc29y")
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert "cursor" in bad.json["errors"]
    assert "status" in api.get("/runs?status=exploded").json["errors"]


def test_two_editors_cannot_overwrite_each_other(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    sync = _sync()
    alice, bob = api_as("sync_manager"), api_as("sync_manager")
    etag = alice.get(f"/syncs/{sync.id}").headers["ETag"]
    assert bob.get(f"/syncs/{sync.id}").headers["ETag"] == etag
    missing = alice.patch(f"/syncs/{sync.id}", json={"execution_time": "04:00"})
    assert missing.status_code == 428
    first = alice.patch(
        f"/syncs/{sync.id}", json={"execution_time": "04:00"}, headers={"If-Match": etag}
    )
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = bob.patch(
        f"/syncs/{sync.id}", json={"execution_time": "05:00"}, headers={"If-Match": etag}
    )
    assert second.status_code == 412
    assert second.mimetype == "application/problem+json"
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).execution_time == "04:00"
    # A change made on the pages or the CLI changes the ETag too.
    db.session.get(Sync, sync.id).timezone = "Europe/Berlin"
    db.session.commit()
    stale = alice.patch(
        f"/syncs/{sync.id}",
        json={"execution_time": "06:00"},
        headers={"If-Match": first.headers["ETag"]},
    )
    assert stale.status_code == 412


def test_destination_errors_name_each_field_and_store_nothing(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    sync = _sync()
    api = api_as("sync_manager")
    refused = api.post(
        f"/syncs/{sync.id}/destinations",
        json={
            "name": "Bad",
            "host": "http://example.com/x",
            "protocol": "sftp",
            "username": "u",
            "port": 70000,
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.mimetype == "application/problem+json"
    assert set(refused.json["errors"]) >= {"host", "port", "password"}, refused.json
    assert refused.json["type"].endswith("/validation")
    unknown = api.post(f"/syncs/{sync.id}/destinations", json={"name": "x", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json["errors"]
    not_json = api.post(
        f"/syncs/{sync.id}/destinations",
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code in (400, 422) and not_json.mimetype == "application/problem+json"
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).destinations == []


def test_destination_patch_keeps_the_password_and_needs_if_match(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    sync = _sync()
    destination = destinations.add_destination(
        sync,
        {
            "name": "Keep",
            "host": "sftp.example.com",
            "protocol": "sftp",
            "username": "u",
            "password": "old-password",
            "password_confirm": "old-password",
        },
        user=None,
        actor="test",
    )
    db.session.commit()
    api = api_as("sync_manager")
    got = api.get(f"/destinations/{destination.id}")
    assert "old-password" not in got.text
    assert api.patch(f"/destinations/{destination.id}", json={"retries": 2}).status_code == 428
    changed = api.patch(
        f"/destinations/{destination.id}",
        json={"retries": 2},
        headers={"If-Match": got.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json["retries"] == 2 and changed.json["has_password"] is True
    db.session.expire_all()
    assert destinations.password_of(destination) == "old-password"
    # Moving to another server without the password again is refused: the stored secret
    # never follows a changed endpoint.
    moved = api.patch(
        f"/destinations/{destination.id}",
        json={"host": "elsewhere.example.com"},
        headers={"If-Match": changed.headers["ETag"]},
    )
    assert moved.status_code == 422 and "password" in moved.json["errors"]


def test_cancel_a_waiting_run_then_409(api_as: Callable[..., Api], platform_test_type: Any) -> None:
    sync = _sync()
    api = api_as("sync_manager")
    started = api.post(f"/syncs/{sync.id}/runs")
    assert started.status_code == 202
    cancelled = api.post(f"/runs/{started.json['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json["outcome"] == "cancelled"
    again = api.post(f"/runs/{started.json['id']}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.json["detail"]


def test_retry_now_a_failed_transfer(
    api_as: Callable[..., Api],
    platform_test_type: Any,
    sshd_server: Any,
    run_jobs: Callable[[], None],
) -> None:
    sync = _sync()
    destinations.add_destination(
        sync,
        {
            "name": "Wrong password",
            "host": sshd_server.host,
            "port": str(sshd_server.port),
            "protocol": "sftp",
            "username": sshd_server.username,
            "password": "not-the-password",
            "password_confirm": "not-the-password",
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "host_key_type": sshd_server.host_key_type,
        },
        user=None,
        actor="test",
    )
    db.session.commit()
    api = api_as("sync_manager")
    run_id = api.post(f"/syncs/{sync.id}/runs").json["id"]
    run_jobs()
    (transfer,) = api.get(f"/runs/{run_id}").json["transfers"]
    assert transfer["status"] == "failed", transfer
    retried = api.post(f"/transfers/{transfer['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json["status"] == "pending"
    assert len(retried.json["attempts"]) == 1  # the failed attempt is kept
    cancelled = api.post(f"/transfers/{transfer['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.post(f"/transfers/{transfer['id']}/cancel").status_code == 409


def test_unknown_api_paths_and_methods_answer_in_problem_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.put("/api/v1/syncs")
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"
    # The pages keep their HTML errors.
    assert client.get("/no-such-page").mimetype == "text/html"


def test_users_through_the_api_follow_the_users_rules(api_as: Callable[..., Api]) -> None:
    api = api_as("support")
    created = api.post("/users", json={"email": "New@Example.com", "role": "viewer"})
    assert created.status_code == 201, created.text
    assert created.json["email"] == "new@example.com" and len(created.json["password"]) >= 10
    user_id = created.json["id"]
    assert "password" not in api.get(f"/users/{user_id}").json
    duplicate = api.post("/users", json={"email": "new@example.com", "role": "viewer"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.json["errors"]["email"]
    changed = api.patch(f"/users/{user_id}", json={"role": "sync_manager", "active": False})
    assert changed.status_code == 200 and changed.json["role"] == "sync_manager"
    assert changed.json["active"] is False
    roles = api.get("/roles").json
    assert {r["key"] for r in roles["items"]} == {"support", "sync_manager", "viewer"}
    # The last active support user cannot lose the role (the services' rule).
    supports = [u for u in api.get("/users").json["items"] if u["role"] == "support"]
    (me,) = supports
    refused = api.patch(f"/users/{me['id']}", json={"role": "viewer"})
    assert refused.status_code == 422 and "last active support" in refused.json["errors"]["role"]


def test_audit_csv_export_is_filtered_and_safe_for_spreadsheets(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    api = api_as("support")
    sync = api.post("/syncs", json={"type": "platform_test", "name": "=HYPERLINK(1)"}).json
    exported = api.get(f"/audit-events.csv?sync={sync['id']}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("id,at,actor,user_id,action")
    assert len(lines) == 2 and ",sync.create," in lines[1]
    import csv
    import io

    (row,) = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["action"] == "sync.create" and '"name": "=HYPERLINK(1)"' in row["detail"]
    assert not any(value.startswith(("=", "+", "@")) for value in row.values())


def test_delete_a_sync_checks_if_match_when_sent(
    api_as: Callable[..., Api], platform_test_type: Any
) -> None:
    api = api_as("support")
    sync = api.post("/syncs", json={"type": "platform_test", "name": "Short-lived"})
    sync_id = sync.json["id"]
    api.post(f"/syncs/{sync_id}/enable")
    stale = api.delete(f"/syncs/{sync_id}", headers={"If-Match": sync.headers["ETag"]})
    assert stale.status_code == 412
    assert api.get(f"/syncs/{sync_id}").status_code == 200
    assert api.delete(f"/syncs/{sync_id}").status_code == 204
    assert api.get(f"/syncs/{sync_id}").status_code == 404


@pytest.mark.parametrize("path", ["/runs", "/syncs", "/users", "/audit-events"])
def test_an_unknown_query_parameter_is_refused_not_ignored(
    api_as: Callable[..., Api], path: str
) -> None:
    """A mistyped filter (``?stauts=failed``) must not answer with every row."""
    api = api_as("support")
    refused = api.get(f"{path}?stauts=failed")
    assert refused.status_code == 422, refused.text
    assert refused.mimetype == "application/problem+json"
    assert "stauts" in refused.json["errors"]
    assert api.get(f"{path}?limit=2").status_code == 200
