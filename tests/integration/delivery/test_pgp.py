"""Recipient key inspection with the real gpg: good keys, and each way a key is unusable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import gnupg
import pytest

from delivery.pgp import inspect_public_key, prepare_gnupg_home
from tests.fixtures.gpg import GpgRecipient

pytestmark = [pytest.mark.nodb, pytest.mark.integration]


def test_a_good_key_is_described(gpg_recipient: GpgRecipient) -> None:
    [key] = inspect_public_key(gpg_recipient.armored_public)
    assert key.fingerprint == gpg_recipient.fingerprint
    assert key.user_ids == (gpg_recipient.uid,)
    assert key.can_encrypt
    assert key.algorithm == "EdDSA ed25519"
    assert key.expires_at is not None
    assert key.expires_at.tzinfo is not None
    assert timedelta(days=300) < key.expires_at - datetime.now(UTC) < timedelta(days=400)


def test_two_keys_in_one_block(
    gpg_recipient: GpgRecipient, gpg_second_recipient: GpgRecipient
) -> None:
    keys = inspect_public_key(gpg_recipient.armored_public + gpg_second_recipient.armored_public)
    assert [k.fingerprint for k in keys] == [
        gpg_recipient.fingerprint,
        gpg_second_recipient.fingerprint,
    ]


def test_inspection_imports_nothing(gpg_recipient: GpgRecipient, tmp_path: Path) -> None:
    home = tmp_path / "gnupg"
    inspect_public_key(gpg_recipient.armored_public, gnupg_home=home)
    assert home.stat().st_mode & 0o777 == 0o700
    assert gnupg.GPG(gnupghome=str(home)).list_keys() == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not an ASCII-armored"),
        ("hello world", "not an ASCII-armored"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK user@host", "not an ASCII-armored"),
        (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZZZZ\n"
            "-----END PGP PUBLIC KEY BLOCK-----\n",
            "No key could be read",
        ),
    ],
)
def test_garbage_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        inspect_public_key(text)


def test_a_truncated_key_is_refused(gpg_recipient: GpgRecipient) -> None:
    lines = gpg_recipient.armored_public.splitlines()
    cut = "\n".join(lines[:4] + lines[-1:])
    with pytest.raises(ValueError, match="No key could be read"):
        inspect_public_key(cut)


def test_a_private_key_is_refused(gpg_recipient: GpgRecipient) -> None:
    with pytest.raises(ValueError, match="private key"):
        inspect_public_key(gpg_recipient.armored_private)


def test_an_expired_key_is_refused() -> None:
    recipient = GpgRecipient.create(
        "Old Key <old@example.test>", expire="1d", faked_time="20200101T000000"
    )
    try:
        with pytest.raises(ValueError, match="expired on 2020-01-02"):
            inspect_public_key(recipient.armored_public)
    finally:
        recipient.close()


def test_a_sign_only_key_is_refused() -> None:
    recipient = GpgRecipient.create(
        "Signer <signer@example.test>", algorithm="ed25519", usage="sign"
    )
    try:
        with pytest.raises(ValueError, match="no usable encryption subkey"):
            inspect_public_key(recipient.armored_public)
    finally:
        recipient.close()


def test_gnupg_home_is_created_private(tmp_path: Path) -> None:
    home = prepare_gnupg_home(tmp_path / "a" / "gnupg")
    assert home.is_dir()
    assert home.stat().st_mode & 0o777 == 0o700
