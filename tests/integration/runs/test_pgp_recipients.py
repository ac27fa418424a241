"""PGP recipients end to end with the real gpg: a paste of two keys stores each key on its
own, and a removed recipient cannot read the files of later runs (checked in the packets
of the file the receiver got, with ``gpg --list-packets``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.gpg import GpgRecipient, key_fingerprints, pubkey_encrypted_to
from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.models.syncs import Encryption, Sync
from webapp.services import recipients, runs

pytestmark = pytest.mark.integration


def _sync_with_two_keys_pasted_together(
    make_sync: Any, first: GpgRecipient, second: GpgRecipient
) -> Sync:
    sync = make_sync(rows=20)
    paste = first.armored_public + "\n" + second.armored_public
    added = recipients.add_recipient_key(sync, paste, user=None)
    assert [k.fingerprint for k in added] == [first.fingerprint, second.fingerprint]
    sync.encryption = Encryption.PGP
    db.session.commit()
    return sync


def _remove(sync: Sync, recipient: GpgRecipient) -> None:
    [key] = [k for k in sync.recipient_keys if k.fingerprint == recipient.fingerprint]
    recipients.remove_recipient_key(sync, key.id, user=None)
    db.session.commit()
    remaining = {k.fingerprint for k in sync.recipient_keys}
    assert remaining and recipient.fingerprint not in remaining  # as the page shows it


def _delivered_file(sync: Sync, sftp_destination: Any, run_jobs: Any) -> Path:
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED, instance.error
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    [received] = [p for p in folder.iterdir() if not p.name.startswith(".")]
    assert received.name.endswith(".pgp")
    return received


def _assert_only_for(
    received: Path, reader: GpgRecipient, removed: GpgRecipient, tmp_path: Path
) -> None:
    # Exactly one session key, encrypted to the remaining key's encryption subkey.
    assert pubkey_encrypted_to(reader.list_packets(received)) == [reader.encryption_key_id]
    reader.decrypt(received, tmp_path / "plain")
    assert (tmp_path / "plain").stat().st_size > 0
    with pytest.raises(RuntimeError, match="No secret key"):
        removed.decrypt(received, tmp_path / "stolen")


def test_each_stored_key_holds_that_key_alone(
    app: Any,
    make_sync: Any,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
) -> None:
    sync = _sync_with_two_keys_pasted_together(make_sync, gpg_recipient, gpg_second_recipient)
    db.session.expire_all()
    stored = {k.fingerprint: k.armored for k in sync.recipient_keys}
    assert set(stored) == {gpg_recipient.fingerprint, gpg_second_recipient.fingerprint}
    for fingerprint, armored in stored.items():
        assert key_fingerprints(armored) == [fingerprint]


def test_a_removed_recipient_cannot_read_new_files(
    app: Any,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
    tmp_path: Path,
) -> None:
    sync = _sync_with_two_keys_pasted_together(make_sync, gpg_recipient, gpg_second_recipient)
    _remove(sync, gpg_second_recipient)
    received = _delivered_file(sync, sftp_destination, run_jobs)
    _assert_only_for(received, gpg_recipient, gpg_second_recipient, tmp_path)


def test_a_key_stored_with_the_whole_paste_encrypts_to_itself_only(
    app: Any,
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
    tmp_path: Path,
) -> None:
    """Rows stored before keys were split hold the whole paste; they are left as they are."""
    sync = _sync_with_two_keys_pasted_together(make_sync, gpg_recipient, gpg_second_recipient)
    paste = gpg_recipient.armored_public + "\n" + gpg_second_recipient.armored_public
    for key in sync.recipient_keys:
        key.armored = paste
    db.session.commit()
    _remove(sync, gpg_recipient)  # this time the first key of the paste goes
    received = _delivered_file(sync, sftp_destination, run_jobs)
    _assert_only_for(received, gpg_second_recipient, gpg_recipient, tmp_path)
