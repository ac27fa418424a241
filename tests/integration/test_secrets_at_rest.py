from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Sync
from webapp.services import destinations, secrets

PASSWORD = "pa55-word-only-here"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeymaterial\n-----END OPENSSH PRIVATE KEY-----"


def make_destination() -> Any:
    sync = Sync(type_key="platform_test", name="Secrets")
    db.session.add(sync)
    destination = destinations.add_destination(
        sync,
        {
            "name": "R",
            "host": "h.example",
            "protocol": "sftp",
            "username": "u",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "private_key": KEY,
        },
        user=None,
    )
    db.session.commit()
    return destination


def test_secrets_are_encrypted_in_the_database(app: Any) -> None:
    destination = make_destination()
    raw = db.session.execute(
        text("SELECT password_encrypted, private_key_encrypted FROM destinations")
    ).one()
    assert PASSWORD not in raw[0] and "keymaterial" not in raw[1]
    assert destinations.password_of(destination) == PASSWORD
    assert destinations.private_key_of(destination) == KEY
    assert PASSWORD not in repr(destination)
    for event in db.session.scalars(select(AuditEvent)):
        assert PASSWORD not in str(event.detail) and "keymaterial" not in str(event.detail)


def test_key_file_is_private(app: Any) -> None:
    make_destination()
    key_file = Path(app.instance_path) / "secrets.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_empty_password_on_edit_keeps_the_stored_one(app: Any) -> None:
    destination = make_destination()
    before = destination.password_encrypted
    destinations.update_destination(
        destination,
        {
            "name": "R2",
            "host": "h.example",
            "protocol": "sftp",
            "username": "u",
            "password": "",
            "password_confirm": "",
        },
        user=None,
    )
    assert destination.password_encrypted == before
    assert destinations.password_of(destination) == PASSWORD


def test_rotation_with_multifernet(app: Any, runner: Any) -> None:
    destination = make_destination()
    old_token = destination.password_encrypted
    old_key = (Path(app.instance_path) / "secrets.key").read_text().strip()
    new_key = Fernet.generate_key().decode()
    app.config["SECRETS_KEYS"] = [new_key, old_key]
    assert destinations.password_of(destination) == PASSWORD  # old tokens still readable
    result = runner.invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert destination.password_encrypted != old_token
    app.config["SECRETS_KEYS"] = [new_key]  # the old key can now go
    assert destinations.password_of(destination) == PASSWORD


def test_unreadable_secret_has_a_clear_message(app: Any) -> None:
    destination = make_destination()
    app.config["SECRETS_KEYS"] = [Fernet.generate_key().decode()]
    with pytest.raises(secrets.SecretUnreadable, match="secrets key"):
        destinations.password_of(destination)
