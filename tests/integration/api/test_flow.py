"""The whole job of an automation script, through the API only, with one support token,
against the real sshd and vsftpd test servers and a real RQ worker (in-process, burst)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.runs.conftest import received

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _poll_test(api: Api, started: Any, run_jobs: Callable[[], None]) -> dict[str, Any]:
    assert started.status_code == 202, started.text
    assert started.json["status"] == "pending"
    run_jobs()
    result = api.get(started.json["url"])
    assert result.status_code == 200, result.text
    assert result.json["status"] != "pending"
    return dict(result.json)


def _pin(api: Api, destination_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    current = api.get(f"/destinations/{destination_id}")
    pinned = api.patch(
        f"/destinations/{destination_id}",
        json=fields,
        headers={"If-Match": current.headers["ETag"]},
    )
    assert pinned.status_code == 200, pinned.text
    return dict(pinned.json)


def _poll_run(api: Api, run_id: int, run_jobs: Callable[[], None]) -> dict[str, Any]:
    for _ in range(10):
        status = api.get(f"/runs/{run_id}/status")
        assert status.status_code == 200, status.text
        if status.json["final"]:
            return dict(status.json)
        run_jobs()
    raise AssertionError(f"run {run_id} did not finish: {status.json}")


def test_create_configure_run_download_retransfer_and_audit(
    api_as: Callable[..., Api],
    platform_test_type: Any,
    sshd_server: Any,
    vsftpd_server: Any,
    run_jobs: Callable[[], None],
) -> None:
    api = api_as("support", name="deploy script")
    created = api.post("/syncs", json={"type": platform_test_type.key, "name": "Partner feed"})
    assert created.status_code == 201, created.text
    sync_id = created.json["id"]
    assert created.headers["Location"].endswith(f"/api/v1/syncs/{sync_id}")
    patched = api.patch(
        f"/syncs/{sync_id}",
        json={"options": {"rows": 25}, "timezone": "Europe/Paris"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json["options"]["rows"] == 25

    sftp_remote, sftp_local = sshd_server.fresh_dir()
    sftp = api.post(
        f"/syncs/{sync_id}/destinations",
        json={
            "name": "Partner SFTP",
            "host": sshd_server.host,
            "port": sshd_server.port,
            "protocol": "sftp",
            "directory": sftp_remote,
            "username": sshd_server.username,
            "password": sshd_server.password,
        },
    )
    assert sftp.status_code == 201, sftp.text
    assert "password" not in sftp.json and sftp.json["has_password"] is True
    ftps_remote, ftps_local = vsftpd_server.fresh_dir()
    ftps = api.post(
        f"/syncs/{sync_id}/destinations",
        json={
            "name": "Partner FTPS",
            "host": vsftpd_server.host,
            "port": vsftpd_server.port,
            "protocol": "ftps_explicit",
            "directory": ftps_remote,
            "username": vsftpd_server.username,
            "password": vsftpd_server.password,
        },
    )
    assert ftps.status_code == 201, ftps.text

    # Test each stored destination (its stored password), then pin what the server showed.
    outcome = _poll_test(
        api,
        api.post(f"/syncs/{sync_id}/connection-tests", json={"destination_id": sftp.json["id"]}),
        run_jobs,
    )
    assert outcome["host_key_fingerprint"] == sshd_server.host_key_fingerprint, outcome
    _pin(
        api,
        sftp.json["id"],
        {
            "host_key_fingerprint": outcome["host_key_fingerprint"],
            "host_key_type": outcome["host_key_type"],
        },
    )
    outcome = _poll_test(
        api,
        api.post(f"/syncs/{sync_id}/connection-tests", json={"destination_id": ftps.json["id"]}),
        run_jobs,
    )
    assert outcome["tls_fingerprint"] == vsftpd_server.cert_fingerprint, outcome
    pinned = _pin(
        api,
        ftps.json["id"],
        {"tls_fingerprint": outcome["tls_fingerprint"], "tls_not_after": outcome["tls_not_after"]},
    )
    assert pinned["tls_fingerprint"] == vsftpd_server.cert_fingerprint
    assert pinned["tls_not_after"] is not None
    # Pinned, the tests now pass.
    for destination in (sftp, ftps):
        again = _poll_test(
            api,
            api.post(
                f"/syncs/{sync_id}/connection-tests",
                json={"destination_id": destination.json["id"]},
            ),
            run_jobs,
        )
        assert again["status"] == "ok", again

    started = api.post(f"/syncs/{sync_id}/runs")
    assert started.status_code == 202, started.text
    run_id = started.json["id"]
    final = _poll_run(api, run_id, run_jobs)
    assert final["outcome"] == "delivered" and final["delivered"] == 2, final

    run = api.get(f"/runs/{run_id}").json
    (original,) = [f for f in run["files"] if f["role"] == "original"]
    download = api.get(original["download_url"])
    assert download.status_code == 200
    digest = hashlib.sha256(download.data).hexdigest()
    assert digest == original["sha256"] == download.headers["X-Checksum-SHA256"]
    # No packaging: the receivers have the very bytes of the original.
    assert list(received(sftp_local).values()) == [digest]
    assert list(received(ftps_local).values()) == [digest]
    partial = api.get(original["download_url"], headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.data == download.data[:10]
    download.close()
    partial.close()

    (sftp_local / original["name"]).unlink()
    again = api.post(f"/runs/{run_id}/retransfer", json={"destination_id": sftp.json["id"]})
    assert again.status_code == 202, again.text
    assert [t["destination_name"] for t in again.json["items"]] == ["Partner SFTP"]
    final = _poll_run(api, run_id, run_jobs)
    assert final["outcome"] == "delivered", final
    assert list(received(sftp_local).values()) == [digest]
    rounds = {
        (t["destination_name"], t["round"]) for t in api.get(f"/runs/{run_id}").json["transfers"]
    }
    assert rounds == {("Partner SFTP", 1), ("Partner FTPS", 1), ("Partner SFTP", 2)}

    events = api.get(f"/audit-events?sync={sync_id}&limit=200").json["items"]
    actions = [e["action"] for e in reversed(events)]
    for action in (
        "sync.create",
        "sync.settings",
        "destination.create",
        "destination.update",
        "run.start",
        "file.download",
        "run.retransfer",
    ):
        assert action in actions, (action, actions)
    # What the token's owner did (not the worker's own transfer events, nor the tests,
    # which the worker records as it runs them).
    writes = [e for e in events if e["user_id"] is not None and e["action"] != "destination.test"]
    assert len(writes) >= 7
    assert all(e["detail"].get("api_token", {}).get("name") == "deploy script" for e in writes), (
        writes
    )
