"""Completion markers: uploaded last, after every file is in place, to the real sshd and
vsftpd (FTPS); off by default; written again by a re-transfer; never left beside a
missing file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loyalty.errors import ValidationError
from tests.integration.runs.conftest import latest, received
from webapp.extensions import db
from webapp.models.runs import SyncInstance, TransferStatus
from webapp.models.syncs import Destination, Marker, Sync
from webapp.services import destinations, runs

pytestmark = [pytest.mark.integration]


def _ftps_destination(sync: Sync, vsftpd: Any, **overrides: str) -> tuple[Destination, Path]:
    remote, folder = vsftpd.fresh_dir()
    fields = {
        "name": f"FTPS {remote}",
        "host": vsftpd.host,
        "protocol": "ftps_explicit",
        "port": str(vsftpd.port),
        "directory": remote,
        "username": vsftpd.username,
        "password": vsftpd.password,
        "password_confirm": vsftpd.password,
        "tls_fingerprint": vsftpd.cert_fingerprint,
        **overrides,
    }
    destination = destinations.add_destination(sync, fields, user=None)
    db.session.commit()
    return destination, folder


def _run(sync: Sync, run_jobs: Any) -> SyncInstance:
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    return latest(sync)


def test_off_by_default_only_the_data_files_arrive(
    make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync(files=2)
    destination, folder = sftp_destination(sync)
    assert destination.marker == Marker.NONE
    instance = _run(sync, run_jobs)
    assert sorted(received(folder)) == sorted(f.name for f in instance.deliverables)


def test_sftp_json_manifest_lists_every_file_and_arrives_last(
    make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync("Manifest | sync", files=2, rows=7)
    _, folder = sftp_destination(sync, marker="manifest_json")
    instance = _run(sync, run_jobs)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    files = instance.deliverables
    first = files[0].name
    marker = folder / f"{first}.manifest.json"
    assert set(received(folder)) == {f.name for f in files} | {marker.name}
    # Last: written after every data file (its mtime is not older than any of theirs).
    assert all(marker.stat().st_mtime_ns >= (folder / f.name).stat().st_mtime_ns for f in files)
    body = json.loads(marker.read_text())
    assert body["run_id"] == instance.id
    assert body["sync"] == {"id": sync.id, "name": "Manifest | sync"}
    assert body["created_at"].endswith("Z")
    assert body["files"] == [
        {
            "name": f.name,
            "size": (folder / f.name).stat().st_size,
            "sha256": hashlib.sha256((folder / f.name).read_bytes()).hexdigest(),
            "rows": 7,
        }
        for f in files
    ]
    assert not [n for n in os.listdir(folder) if n.startswith(".")]  # no temporary left


def test_ftps_trigger_with_a_template_and_retransfer_writes_it_again(
    make_sync: Any, vsftpd_server: Any, run_jobs: Any
) -> None:
    sync = make_sync(files=2)
    _, folder = _ftps_destination(
        sync, vsftpd_server, marker="trigger", marker_name="run_{run}.done"
    )
    instance = _run(sync, run_jobs)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    trigger = folder / f"run_{instance.id}.done"
    assert trigger.read_bytes() == b""
    assert set(received(folder)) == {f.name for f in instance.deliverables} | {trigger.name}
    # The receiver consumed everything; a re-transfer sends the files and the marker again.
    for name in os.listdir(folder):
        (folder / name).unlink()
    runs.request_retransfer(instance, user=None, actor="test")
    db.session.commit()
    run_jobs()
    assert set(received(folder)) == {f.name for f in instance.deliverables} | {trigger.name}


def test_ftps_pipe_manifest_in_the_layouts_style(
    make_sync: Any, vsftpd_server: Any, run_jobs: Any
) -> None:
    sync = make_sync("Pipe|name", rows=4)
    _, folder = _ftps_destination(sync, vsftpd_server, marker="manifest_pipe")
    instance = _run(sync, run_jobs)
    (deliverable,) = instance.deliverables
    lines = (folder / f"{deliverable.name}.manifest").read_bytes().decode().split("\r\n")
    assert lines[0] == "Run Id|Sync Id|Sync Name|Created At|File Name|Size|SHA256|Rows"
    fields = lines[1].split("|")
    assert fields[:3] == [str(instance.id), str(sync.id), "Pipe\N{BROKEN BAR}name"]
    assert fields[4:] == [deliverable.name, str(deliverable.size), deliverable.sha256, "4"]
    assert lines[2:] == [""]


def test_a_failed_attempt_leaves_no_marker_beside_a_missing_file(
    app: Flask, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync(files=3)
    destination, folder = sftp_destination(sync, marker="trigger")
    instance = _run(sync, run_jobs)
    files = instance.deliverables
    trigger = folder / f"{files[0].name}.done"
    assert trigger.exists()
    # The receiver took the files but not the marker; then the re-transfer breaks after
    # the first file (the second is gone from the run folder).
    for f in files:
        (folder / f.name).unlink()
    missing = Path(app.config["EXPORT_DIR"]) / files[1].path
    kept = missing.read_bytes()
    missing.unlink()
    runs.request_retransfer(instance, user=None, actor="test")
    db.session.commit()
    run_jobs()
    assert latest(sync).transfers[-1].status == TransferStatus.FAILED
    assert set(received(folder)) == {files[0].name}  # the old marker went first
    # Back in place: the next re-transfer completes, and the marker comes last again.
    missing.write_bytes(kept)
    runs.request_retransfer(instance, user=None, destination_id=destination.id, actor="test")
    db.session.commit()
    run_jobs()
    assert set(received(folder)) == {f.name for f in files} | {trigger.name}


def test_bad_marker_settings_are_refused_and_nothing_is_stored(
    make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    base = {
        "name": destination.name,
        "host": destination.host,
        "protocol": "sftp",
        "port": str(destination.port),
        "directory": destination.directory,
        "username": destination.username,
    }
    for fields, key, words in [
        ({"marker": "confetti"}, "marker", "Choose no marker"),
        ({"marker": "trigger", "marker_name": "{nope}.done"}, "marker_name", "Unknown field"),
        ({"marker": "trigger", "marker_name": "a/b.done"}, "marker_name", "slash"),
        ({"marker": "trigger", "marker_name": ".hidden"}, "marker_name", "dot"),
        ({"marker": "trigger", "marker_name": "{first"}, "marker_name", "Unbalanced"),
    ]:
        with pytest.raises(ValidationError) as caught:
            destinations.update_destination(destination, {**base, **fields}, user=None)
        assert words in str(caught.value.errors[key])
        db.session.rollback()
        assert db.session.get(Destination, destination.id).marker == Marker.NONE
    # An edit that does not mention the marker (an older client) keeps it.
    destinations.update_destination(
        destination, {**base, "marker": "manifest_json", "marker_name": "{first}.m"}, user=None
    )
    destinations.update_destination(destination, base, user=None)
    assert (destination.marker, destination.marker_name) == (Marker.MANIFEST_JSON, "{first}.m")


def test_a_superseded_attempt_renames_no_marker(sshd_server: Any) -> None:
    """The marker goes through the same fence as the files: when the attempt token says
    another attempt owns the transfer, its marker is not renamed into place."""
    from delivery.transports import Superseded, open_transport
    from jobs.transfer import _upload_marker

    remote, folder = sshd_server.fresh_dir()
    with open_transport(sshd_server.endpoint(directory=remote)) as transport:
        with pytest.raises(Superseded):
            _upload_marker(transport, ("a.txt.done", b""), "t9", (), lambda: False)
        _upload_marker(transport, ("b.txt.done", b""), "t9", (), lambda: True)
    assert os.listdir(folder) == ["b.txt.done"]
