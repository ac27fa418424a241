"""Recipient keys with the real gpg: inspection (good keys, and each way a key is unusable),
one export per key of a paste, and encryption to exactly the named recipients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import gnupg
import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.pgp import encrypt_file, inspect_public_key, prepare_gnupg_home, split_public_keys
from tests.fixtures.gpg import GpgRecipient, key_fingerprints, pubkey_encrypted_to

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


def test_each_key_of_a_paste_is_exported_on_its_own(
    gpg_recipient: GpgRecipient, gpg_second_recipient: GpgRecipient
) -> None:
    first, second = gpg_recipient, gpg_second_recipient
    paste = first.armored_public + second.armored_public
    assert key_fingerprints(paste) == [first.fingerprint, second.fingerprint]
    own = split_public_keys(paste, [first.fingerprint, second.fingerprint])
    assert list(own) == [first.fingerprint, second.fingerprint]
    for recipient in (first, second):
        assert key_fingerprints(own[recipient.fingerprint]) == [recipient.fingerprint]
        [key] = inspect_public_key(own[recipient.fingerprint])
        assert key.can_encrypt and key.user_ids == (recipient.uid,)
    with pytest.raises(ValueError, match=second.fingerprint):
        split_public_keys(first.armored_public, [second.fingerprint])


def test_encryption_goes_to_the_named_recipients_only(
    gpg_recipient: GpgRecipient, gpg_second_recipient: GpgRecipient, tmp_path: Path
) -> None:
    first, second = gpg_recipient, gpg_second_recipient
    source = tmp_path / "members.txt"
    source.write_text("100001|Zoë|Gold\r\n")
    target = tmp_path / "members.txt.pgp"
    # A block that also holds another key (as rows stored before keys were split did).
    both = first.armored_public + second.armored_public
    assert encrypt_file(
        source, target, [both], tmp_path / "app-gnupg", recipients=[first.fingerprint]
    ) == [first.fingerprint]
    assert pubkey_encrypted_to(first.list_packets(target)) == [first.encryption_key_id]
    first.decrypt(target, tmp_path / "plain.txt")
    assert (tmp_path / "plain.txt").read_text() == source.read_text()
    with pytest.raises(RuntimeError, match="No secret key"):
        second.decrypt(target, tmp_path / "not-for-second.txt")
    # A recipient whose key is not among the blocks stops encryption; nothing is written.
    target.unlink()
    with pytest.raises(DeliveryError) as info:
        encrypt_file(
            source,
            target,
            [first.armored_public],
            tmp_path / "app-gnupg",  # holds the second key by now: never enough
            recipients=[second.fingerprint],
        )
    assert info.value.kind is ErrorKind.ENCRYPTION
    assert second.fingerprint in info.value.message
    assert not target.exists()


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
