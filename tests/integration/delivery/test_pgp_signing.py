"""Signing keys with the real gpg: inspection (a good key, and each way a key cannot sign),
and sign+encrypt round trips checked by the receiver's own ``gpg --decrypt``, which
verifies the signature against the signer's public key in the receiver's keyring."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.packaging import PackageSpec, package
from delivery.pgp import encrypt_and_digest
from delivery.pgp_signing import Signer, inspect_secret_key
from tests.fixtures.gpg import GpgRecipient

pytestmark = [pytest.mark.nodb, pytest.mark.integration]
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def signer_key() -> Iterator[GpgRecipient]:
    key = GpgRecipient.create("Sender Signing <signing@sender.test>", passphrase=PASSPHRASE)
    yield key
    key.close()


def _signer(key: GpgRecipient) -> Signer:
    return Signer(key.fingerprint, key.armored_private, PASSPHRASE)


def test_a_good_signing_key_is_described(signer_key: GpgRecipient) -> None:
    info = inspect_secret_key(signer_key.armored_private, PASSPHRASE)
    assert info.fingerprint == signer_key.fingerprint
    assert info.user_ids == (signer_key.uid,)
    assert info.can_sign
    assert info.expires_at is not None


def test_the_wrong_passphrase_is_refused(signer_key: GpgRecipient) -> None:
    with pytest.raises(ValueError, match="passphrase does not unlock"):
        inspect_secret_key(signer_key.armored_private, "not it")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not an ASCII-armored PGP private key"),
        ("hello", "not an ASCII-armored PGP private key"),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----",
            "No private key could be read",
        ),
    ],
)
def test_garbage_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        inspect_secret_key(text, "")


def test_a_public_key_is_refused_with_a_pointer(gpg_recipient: GpgRecipient) -> None:
    with pytest.raises(ValueError, match="This is a public key"):
        inspect_secret_key(gpg_recipient.armored_public, "")


def test_an_expired_signing_key_is_refused() -> None:
    old = GpgRecipient.create("Old <old@sender.test>", expire="1d", faked_time="20200101T000000")
    try:
        with pytest.raises(ValueError, match="expired on 2020-01-02"):
            inspect_secret_key(old.armored_private, "")
    finally:
        old.close()


def test_a_key_that_cannot_sign_is_refused() -> None:
    certify_only = GpgRecipient.create("Cert <cert@sender.test>", algorithm="ed25519", usage="cert")
    try:
        with pytest.raises(ValueError, match="cannot sign"):
            inspect_secret_key(certify_only.armored_private, "")
    finally:
        certify_only.close()


def test_two_private_keys_in_one_paste_are_refused(
    signer_key: GpgRecipient, gpg_recipient: GpgRecipient
) -> None:
    with pytest.raises(ValueError, match="several private keys"):
        inspect_secret_key(signer_key.armored_private + gpg_recipient.armored_private, "")


def test_sign_and_encrypt_round_trip_verifies_at_the_receivers(
    signer_key: GpgRecipient,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "members.txt.gz"
    source.write_bytes(b"100001|Zo\xc3\xab|Gold\r\n" * 1000)
    receivers = [gpg_recipient, gpg_second_recipient]
    spec = PackageSpec(
        encrypt=True,
        recipient_keys=tuple(r.armored_public for r in receivers),
        recipient_fingerprints=tuple(r.fingerprint for r in receivers),
        gnupg_home=tmp_path / "app-gnupg",
        signer=_signer(signer_key),
    )
    result = package(source, tmp_path / "out", spec)
    assert result.name == "members.txt.gz.pgp"
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert result.size == result.path.stat().st_size
    for receiver in receivers:
        receiver.import_key(signer_key.armored_public)
        plain = tmp_path / f"plain-{receiver.fingerprint[-4:]}"
        status = receiver.decrypt_and_verify(result.path, plain)
        assert plain.read_bytes() == source.read_bytes()
        assert any(line.startswith("GOODSIG") for line in status), status
        [valid] = [line for line in status if line.startswith("VALIDSIG")]
        assert valid.split(" ")[1] == signer_key.fingerprint
    # The private key never reached the app's keyring.
    assert not list((tmp_path / "app-gnupg").glob("private-keys-v1.d/*"))


def test_a_receiver_without_the_signers_key_sees_an_unverifiable_signature(
    signer_key: GpgRecipient, tmp_path: Path
) -> None:
    receiver = GpgRecipient.create("Fresh <fresh@example.test>")
    try:
        source = tmp_path / "a.txt"
        source.write_text("x\r\n")
        target = tmp_path / "a.txt.pgp"
        encrypt_and_digest(
            source,
            target,
            [receiver.armored_public],
            tmp_path / "app-gnupg",
            recipients=[receiver.fingerprint],
            signer=_signer(signer_key),
        )
        # gpg --decrypt fails: the signature is there, and cannot be checked without the key.
        with pytest.raises(RuntimeError, match="Can't check signature: No public key"):
            receiver.decrypt_and_verify(target, tmp_path / "plain")
    finally:
        receiver.close()


def test_a_stored_key_with_the_wrong_passphrase_fails_the_packaging_in_words(
    signer_key: GpgRecipient, gpg_recipient: GpgRecipient, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("x\r\n")
    target = tmp_path / "a.txt.pgp"
    with pytest.raises(DeliveryError) as info:
        encrypt_and_digest(
            source,
            target,
            [gpg_recipient.armored_public],
            tmp_path / "app-gnupg",
            recipients=[gpg_recipient.fingerprint],
            signer=Signer(signer_key.fingerprint, signer_key.armored_private, "wrong"),
        )
    assert info.value.kind == ErrorKind.ENCRYPTION
    assert not target.exists()


def test_the_digest_taken_while_gpg_writes_covers_every_byte(
    gpg_recipient: GpgRecipient, tmp_path: Path
) -> None:
    """A file large enough that gpg writes it over many reads of the follower."""
    source = tmp_path / "big.txt"
    source.write_bytes(bytes(range(256)) * (48 * 1024))  # 12 MiB
    target = tmp_path / "big.txt.pgp"
    done = encrypt_and_digest(
        source,
        target,
        [gpg_recipient.armored_public],
        tmp_path / "app-gnupg",
        recipients=[gpg_recipient.fingerprint],
    )
    assert done.size == target.stat().st_size > source.stat().st_size
    assert done.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    gpg_recipient.decrypt(target, tmp_path / "plain")
    assert (tmp_path / "plain").read_bytes() == source.read_bytes()


def test_a_signing_key_that_expired_since_it_was_stored_fails_in_words(
    signer_key: GpgRecipient, gpg_recipient: GpgRecipient, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("x\r\n")
    expired = Signer(
        signer_key.fingerprint,
        signer_key.armored_private,
        PASSPHRASE,
        expires_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    with pytest.raises(DeliveryError) as info:
        encrypt_and_digest(
            source,
            tmp_path / "a.txt.pgp",
            [gpg_recipient.armored_public],
            tmp_path / "app-gnupg",
            recipients=[gpg_recipient.fingerprint],
            signer=expired,
        )
    assert info.value.kind == ErrorKind.ENCRYPTION
    assert "expired on 2026-01-02" in str(info.value)
    assert not (tmp_path / "a.txt.pgp").exists()
