"""Issue 13, item 4: ``flask sync show / enable / disable / delete / download / key-remove``
and ``sync set --deadline``, through the services the sync pages call."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.cli_support import cli_events, invoke, invoke_json
from tests.integration.runs.conftest import (  # noqa: F401
    latest,
    make_sync,
    run_jobs,
    sftp_destination,
)
from tests.integration.test_fuzz_inputs import snapshot
from webapp.extensions import db
from webapp.models.runs import FileRole, SyncFile, SyncInstance
from webapp.models.syncs import Sync
from webapp.services import recipients, runs, syncs

pytestmark = pytest.mark.integration


def _run(sync: Sync, run_jobs: Any) -> SyncInstance:
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    return latest(sync)


def test_sync_show_has_settings_destinations_and_last_run(
    runner: Any, make_sync: Any, sftp_destination: Any, run_jobs: Any, sshd_server: Any
) -> None:
    sync = make_sync("Shown", rows=2)
    destination, _ = sftp_destination(sync)
    instance = _run(sync, run_jobs)
    row = invoke_json(runner, "sync", "show", str(sync.id))
    assert (row["name"], row["enabled"], row["options"]["rows"]) == ("Shown", False, 2)
    assert [d["id"] for d in row["destinations"]] == [destination.id]
    assert row["last_run"]["id"] == instance.id and row["last_run"]["status"] == "Delivered 1/1"
    assert sshd_server.password not in str(row)
    human = invoke(runner, "sync", "show", str(sync.id)).output
    assert "Sync" in human and destination.name in human and "Delivered 1/1" in human


def test_sync_show_of_a_missing_sync_is_refused(runner: Any) -> None:
    assert "No sync with id 77" in invoke(runner, "sync", "show", "77", code=2).output


def test_sync_enable_and_disable_are_audited_as_the_cli_user(runner: Any, make_sync: Any) -> None:
    sync = make_sync()
    assert invoke_json(runner, "sync", "enable", str(sync.id)) == {
        "id": sync.id,
        "enabled": True,
        "changed": True,
    }
    assert invoke_json(runner, "sync", "enable", str(sync.id))["changed"] is False
    assert "disabled" in invoke(runner, "sync", "disable", str(sync.id)).output
    assert db.session.get(Sync, sync.id).enabled is False
    assert len(cli_events("sync.enable")) == 1 and len(cli_events("sync.disable")) == 1


def test_sync_enable_of_a_missing_sync_is_refused(runner: Any) -> None:
    before = snapshot()
    assert "No sync with id 5" in invoke(runner, "sync", "enable", "5", code=2).output
    assert snapshot() == before


def test_sync_delete_names_what_is_lost_and_removes_the_files(
    app: Any, runner: Any, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync(rows=5)
    sftp_destination(sync)
    _run(sync, run_jobs)
    folder = syncs.export_folder(sync)
    on_disk = [p for p in folder.rglob("*") if p.is_file()]
    assert on_disk
    size = sum(p.stat().st_size for p in on_disk)
    result = invoke(runner, "sync", "delete", str(sync.id), "--json", "--yes")
    assert "1 run(s)" in result.stderr and f"{len(on_disk)} file(s) on disk" in result.stderr
    assert "1 destination(s)" in result.stderr
    impact = json.loads(result.stdout)["impact"]
    assert (impact["runs"], impact["files_on_disk"], impact["bytes_on_disk"]) == (
        1,
        len(on_disk),
        size,
    )
    assert db.session.scalar(select(func.count()).select_from(Sync)) == 0
    assert not folder.exists()
    (event,) = cli_events("sync.delete")
    assert event.detail["runs"] == 1


def test_sync_delete_without_confirmation_deletes_nothing(
    runner: Any, make_sync: Any, sftp_destination: Any, run_jobs: Any
) -> None:
    sync = make_sync()
    _run(sync, run_jobs)
    before = snapshot()
    result = invoke(runner, "sync", "delete", str(sync.id), stdin="no\n", code=1)
    assert "Lost: 1 run(s)" in result.stderr and "Nothing was changed" in result.stderr
    assert snapshot() == before
    assert syncs.export_folder(sync).exists()


def test_sync_download_writes_the_original_and_checks_its_sha256(
    runner: Any, make_sync: Any, run_jobs: Any, tmp_path: Path
) -> None:
    sync = make_sync(rows=4)
    instance = _run(sync, run_jobs)
    (original,) = [f for f in instance.files if f.role == FileRole.ORIGINAL]
    out = tmp_path / "copy.txt"
    (row,) = invoke_json(runner, "sync", "download", str(instance.id), "--out", str(out))
    assert row["sha256"] == original.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    # Into a directory: under the file's own name.
    (into,) = invoke_json(runner, "sync", "download", str(instance.id), "--out", str(tmp_path))
    assert Path(into["path"]) == tmp_path / original.name
    assert len(cli_events("file.download")) == 2


def test_sync_download_refuses_to_overwrite_and_unknown_files(
    runner: Any, make_sync: Any, run_jobs: Any, tmp_path: Path
) -> None:
    sync = make_sync()
    instance = _run(sync, run_jobs)
    out = tmp_path / "mine.txt"
    out.write_text("keep me")
    refused = invoke(runner, "sync", "download", str(instance.id), "--out", str(out), code=2)
    assert "exists; pass --force" in refused.output
    assert out.read_text() == "keep me"
    deliverable = db.session.scalar(select(SyncFile).where(SyncFile.role == FileRole.DELIVERABLE))
    wrong = invoke(
        runner,
        "sync",
        "download",
        str(instance.id),
        "--out",
        str(tmp_path / "x"),
        "--file",
        str(deliverable.id),
        code=2,
    )
    assert f"no original file with id {deliverable.id}" in wrong.output
    assert not (tmp_path / "x").exists() and cli_events("file.download") == []
    nul = invoke(
        runner, "sync", "download", str(instance.id), "--out", f"{tmp_path}/a\x00b", code=2
    )
    assert "control characters" in nul.output
    invoke(runner, "sync", "download", str(instance.id), "--out", str(out), "--force")
    assert out.read_text() != "keep me"


def test_sync_key_remove_and_its_refusal(
    runner: Any, make_sync: Any, gpg_recipient: Any, gpg_second_recipient: Any
) -> None:
    sync = make_sync()
    first, second = (
        recipients.add_recipient_key(sync, r.armored_public, user=None)[0]
        for r in (gpg_recipient, gpg_second_recipient)
    )
    syncs.update_settings(sync, {"encryption": "pgp"}, user=None)
    db.session.commit()
    row = invoke_json(runner, "sync", "key-remove", str(sync.id), str(first.id))
    assert row["removed"]["fingerprint"] == first.fingerprint
    before = snapshot()
    refused = invoke(runner, "sync", "key-remove", str(sync.id), str(second.id), code=2)
    assert "PGP encryption needs at least one key" in refused.output
    assert (
        "is not a recipient"
        in invoke(runner, "sync", "key-remove", str(sync.id), "99999", code=2).output
    )
    assert snapshot() == before
    assert len(cli_events("sync.pgp_key_remove")) == 1


def test_sync_set_deadline(runner: Any, make_sync: Any) -> None:
    sync = make_sync()
    invoke(runner, "sync", "set", str(sync.id), "--deadline", "07:30")
    assert db.session.get(Sync, sync.id).delivery_deadline == "07:30"
    refused = invoke(runner, "sync", "set", str(sync.id), "--deadline", "25:00", code=2)
    assert "Delivery deadline must be HH:MM" in refused.output
    assert db.session.get(Sync, sync.id).delivery_deadline == "07:30"


def test_the_older_sync_commands_speak_json_too(
    runner: Any, platform_test_type: Any, sshd_server: Any, tmp_path: Path
) -> None:
    created = invoke_json(runner, "sync", "create", "--type", platform_test_type.key, "--name", "J")
    sync_id = str(created["id"])
    changed = invoke_json(runner, "sync", "set", sync_id, "--time", "04:15", "--enable")
    assert changed["changed"]["execution_time"] == {"from": "03:00", "to": "04:15"}
    assert changed["enabled"] is True
    added = invoke_json(
        runner,
        "sync",
        "destination-add",
        sync_id,
        "--name",
        "D",
        "--host",
        sshd_server.host,
        "--protocol",
        "sftp",
        "--user",
        sshd_server.username,
        stdin=f"{sshd_server.password}\n",
    )
    assert added["has_password"] is True and sshd_server.password not in str(added)
    exported = invoke_json(runner, "sync", "export", sync_id, "--out", str(tmp_path / "o"))
    assert exported["rows"] == 1 and len(exported["files"]) == 1
    assert {e.action for e in cli_events("sync.create") + cli_events("sync.settings")} == {
        "sync.create",
        "sync.settings",
    }


def test_sync_scope_choices_and_set_scope(runner: Any, app: Any, platform_test_type: Any) -> None:
    from loyalty.models import Descriptor

    gold, silver = (
        Descriptor(ext_ref="GOLD", name="Gold"),
        Descriptor(ext_ref="SILV", name="Silver"),
    )
    db.session.add_all([gold, silver])
    db.session.commit()
    choices = invoke_json(runner, "sync", "scope-choices", "member_descriptor")
    assert [c["id"] for c in choices] == [gold.id, silver.id]
    created = invoke_json(
        runner,
        "sync",
        "create",
        "--type",
        "member_descriptor",
        "--name",
        "Gold to CRM",
        "--param",
        f"descriptor_id={gold.id}",
    )
    row = invoke_json(runner, "sync", "set-scope", str(created["id"]), str(silver.id))
    assert row["scope"] == {"descriptor_id": silver.id}
    assert row["changed"]["scope"] == {"from": "GOLD", "to": "SILV"}
    assert len(cli_events("sync.scope")) == 1
    before = snapshot()
    refused = invoke(runner, "sync", "set-scope", str(created["id"]), "99999", code=2)
    assert "No member descriptor with id 99999" in refused.output
    none = invoke(runner, "sync", "scope-choices", platform_test_type.key, code=2)
    assert "has no scope to choose" in none.output
    assert snapshot() == before


def test_sync_signing_key_set_and_remove(runner: Any, make_sync: Any, tmp_path: Path) -> None:
    from tests.fixtures.gpg import GpgRecipient

    sender = GpgRecipient.create("Sender <cli-sign@sender.test>", passphrase="cli-pass-phrase")
    try:
        key_file = tmp_path / "signing.asc"
        key_file.write_text(sender.armored_private)
        sync = make_sync()
        before = snapshot()
        wrong = invoke(
            runner, "sync", "signing-key-set", str(sync.id), str(key_file), stdin="not it\n", code=2
        )
        assert "passphrase" in wrong.output and "not it" not in wrong.output
        assert snapshot() == before
        row = invoke_json(
            runner,
            "sync",
            "signing-key-set",
            str(sync.id),
            str(key_file),
            stdin="cli-pass-phrase\n",
        )
        assert row["signing_fingerprint"] == sender.fingerprint
        shown = invoke_json(runner, "sync", "show", str(sync.id))
        assert shown["signing_key"]["fingerprint"] == sender.fingerprint
        assert "cli-pass-phrase" not in str(shown)
        invoke(runner, "sync", "signing-key-remove", str(sync.id))
        assert db.session.get(Sync, sync.id).signing_fingerprint is None
        again = invoke(runner, "sync", "signing-key-remove", str(sync.id), code=2)
        assert "has no signing key" in again.output
        assert len(cli_events("sync.signing_key_set")) == 1
        assert len(cli_events("sync.signing_key_remove")) == 1
    finally:
        sender.close()
