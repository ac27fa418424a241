"""A sync's PGP signing key end to end: checked and stored encrypted (never shown back,
never re-rendered after an error), used by runs (each receiver's ``gpg --decrypt``
verifies the signature), and warned about 30 and 7 days before it expires."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from jobs.expiry import signing_key_expiries
from jobs.tick import tick
from loyalty.errors import ValidationError
from tests.fixtures.gpg import GpgRecipient
from tests.integration.runs import test_notify
from tests.integration.runs.conftest import latest
from tests.integration.runs.test_notify import Inbox
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.notifications import ExpiryWarning
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.models.syncs import Encryption, Sync
from webapp.services import recipients, runs, signing

pytestmark = pytest.mark.integration
smtp = test_notify.smtp
PASSPHRASE = "pass phrase of the sender"


@pytest.fixture(scope="module")
def sender() -> Iterator[GpgRecipient]:
    key = GpgRecipient.create("Sender <sign@sender.test>", passphrase=PASSPHRASE)
    yield key
    key.close()


def _body_line(armored: str) -> str:
    """A line from the middle of an armored key: proof the key itself was echoed."""
    lines = [line for line in armored.splitlines() if len(line) > 40]
    return lines[len(lines) // 2]


def test_a_refused_key_stores_nothing_and_a_good_one_is_stored_encrypted(
    app: Flask, make_sync: Any, sender: GpgRecipient, gpg_recipient: GpgRecipient
) -> None:
    sync = make_sync()
    for armored, passphrase, words in [
        (sender.armored_private, "wrong", "passphrase does not unlock"),
        (gpg_recipient.armored_public, "", "This is a public key"),
        ("", "", "Paste the signing key"),
        (sender.armored_private, "bad\nline", "control characters"),
    ]:
        with pytest.raises(ValidationError) as caught:
            signing.set_signing_key(sync, armored, passphrase, user=None)
        assert words in str(caught.value)
        db.session.rollback()
        assert db.session.get(Sync, sync.id).signing_fingerprint is None
    fingerprint = signing.set_signing_key(sync, sender.armored_private, PASSPHRASE, user=None)
    db.session.commit()
    assert fingerprint == sender.fingerprint
    assert sync.signing_expires_at is not None and sync.signing_user_ids == sender.uid
    stored = f"{sync.signing_key_encrypted} {sync.signing_passphrase_encrypted}"
    assert _body_line(sender.armored_private) not in stored and PASSPHRASE not in stored
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sync.signing_key_set")
    ).all()
    logged = json.dumps(event.detail)
    assert sender.fingerprint in logged and PASSPHRASE not in logged
    assert "PRIVATE KEY" not in logged
    signing.remove_signing_key(sync, user=None)
    db.session.commit()
    assert sync.signing_key_encrypted is None and sync.signing_fingerprint is None


def test_runs_sign_and_every_receiver_verifies(
    make_sync: Any,
    sftp_destination: Any,
    run_jobs: Any,
    sender: GpgRecipient,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
    tmp_path: Path,
) -> None:
    sync = make_sync(rows=50)
    receivers = [gpg_recipient, gpg_second_recipient]
    recipients.add_recipient_key(sync, "\n".join(r.armored_public for r in receivers), user=None)
    sync.encryption = Encryption.PGP
    signing.set_signing_key(sync, sender.armored_private, PASSPHRASE, user=None)
    db.session.commit()
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED, instance.error
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    [received] = [p for p in folder.iterdir() if not p.name.startswith(".")]
    for receiver in receivers:
        receiver.import_key(sender.armored_public)
        status = receiver.decrypt_and_verify(received, tmp_path / receiver.fingerprint)
        assert (tmp_path / receiver.fingerprint).read_bytes().startswith(b"Id|Name\r\n")
        [valid] = [line for line in status if line.startswith("VALIDSIG")]
        assert valid.split(" ")[1] == sender.fingerprint


def test_the_settings_page_never_shows_the_key_back(
    make_sync: Any, make_user: Any, login: Any, sender: GpgRecipient
) -> None:
    sync = make_sync()
    web = login(make_user("support"))
    url = f"/syncs/{sync.id}/signing-key"
    secret_line = _body_line(sender.armored_private)
    refused = web.post(
        url,
        data={"private_key": sender.armored_private, "passphrase": "not it"},
        follow_redirects=True,
    )
    assert refused.status_code == 200
    assert "Signing key not saved: The passphrase does not unlock" in refused.text
    assert secret_line not in refused.text and "not it" not in refused.text
    saved = web.post(
        url,
        data={"private_key": sender.armored_private, "passphrase": PASSPHRASE},
        follow_redirects=True,
    )
    assert sender.fingerprint in saved.text
    assert f"{sync.signing_expires_at or datetime.now(UTC):%Y}" in saved.text
    assert secret_line not in saved.text and PASSPHRASE not in saved.text
    assert "PRIVATE KEY BLOCK" not in saved.text
    removed = web.post(f"{url}/delete", follow_redirects=True)
    assert "Signing key removed" in removed.text


def test_viewers_cannot_set_a_signing_key(make_sync: Any, make_user: Any, login: Any) -> None:
    sync = make_sync()
    viewer = login(make_user("viewer"))
    assert (
        viewer.post(f"/syncs/{sync.id}/signing-key", data={"private_key": "x"}).status_code == 403
    )
    assert viewer.post(f"/syncs/{sync.id}/signing-key/delete").status_code == 403


def test_signing_key_warns_at_30_and_7_days_once_each(
    app: Flask, smtp: Inbox, make_sync: Any
) -> None:
    sync = make_sync("Signed for the bank")
    sync.notify_emails = ["ops@example.com"]
    expires = datetime(2026, 8, 1, 12, tzinfo=UTC)
    sync.signing_fingerprint = "C" * 40
    sync.signing_user_ids = "Sender <sign@sender.test>"
    sync.signing_key_encrypted = "(token)"
    sync.signing_expires_at = expires
    db.session.commit()
    assert signing_key_expiries(expires - timedelta(days=31)) == []
    [found] = signing_key_expiries(expires)
    assert found.subject == f"signing_key:{'C' * 40}"
    tick(expires - timedelta(days=31))
    tick(expires - timedelta(days=30))
    tick(expires - timedelta(days=29))
    tick(expires - timedelta(days=7))
    tick(expires - timedelta(days=2))
    mailed = [
        " ".join(m["Subject"].split()) for m in smtp.messages if "signing key" in m["Subject"]
    ]
    assert len(mailed) == 2
    assert "expires in 30 day(s)" in mailed[0] and "expires in 7 day(s)" in mailed[1]
    assert sorted(
        w.threshold_days
        for w in db.session.scalars(select(ExpiryWarning).where(ExpiryWarning.sync_id == sync.id))
    ) == [7, 30]


def test_secrets_rotate_re_encrypts_the_signing_key(
    app: Flask, runner: Any, make_sync: Any, sender: GpgRecipient
) -> None:
    from cryptography.fernet import Fernet

    sync = make_sync()
    signing.set_signing_key(sync, sender.armored_private, PASSPHRASE, user=None)
    db.session.commit()
    before = (sync.signing_key_encrypted, sync.signing_passphrase_encrypted)
    old_key = (Path(app.instance_path) / "secrets.key").read_text().strip()
    new_key = Fernet.generate_key().decode()
    app.config["SECRETS_KEYS"] = [new_key, old_key]
    result = runner.invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert (sync.signing_key_encrypted, sync.signing_passphrase_encrypted) != before
    app.config["SECRETS_KEYS"] = [new_key]  # the old key can go: the signer still reads
    signer = signing.signer_of(sync)
    assert signer is not None and signer.passphrase == PASSPHRASE
    assert signer.fingerprint == sender.fingerprint
