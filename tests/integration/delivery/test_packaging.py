"""Packaging round trips through the standard tools: gunzip, unzip and gpg --decrypt."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from delivery.errors import DeliveryError, ErrorKind
from delivery.packaging import PackageSpec, digest, package
from tests.fixtures.gpg import GpgRecipient

pytestmark = [pytest.mark.nodb, pytest.mark.integration]

NAME = "Mitglieder_été 2024.txt"


@pytest.fixture
def original(tmp_path: Path) -> Path:
    folder = tmp_path / "originals"
    folder.mkdir()
    path = folder / NAME
    rows = "".join(
        f"{100000 + i}|Zoë|Müller|zoe{i}@example.com|{i * 37 % 25000}|Gold\r\n"
        for i in range(60_000)
    )
    path.write_bytes(rows.encode() + os.urandom(100_000))
    return path


def _bytes_out(*command: str) -> bytes:
    return subprocess.run(command, capture_output=True, check=True).stdout


def _decompress(path: Path, compression: str) -> bytes:
    if compression == "gzip":
        return _bytes_out("gunzip", "-c", str(path))
    if compression == "zip":
        return _bytes_out("unzip", "-p", str(path))
    return path.read_bytes()


def test_digest_is_size_and_sha256(original: Path) -> None:
    result = digest(original)
    assert result.size == original.stat().st_size
    assert result.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()
    assert result.name == NAME


def test_nothing_to_do_links_the_original(original: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = package(original, out, PackageSpec())
    assert result.path == out / NAME
    assert result.sha256 == digest(original).sha256
    assert os.path.samefile(result.path, original)  # a hard link, not a second copy
    assert package(original, original.parent, PackageSpec()).path == original


def test_gzip_round_trip_with_gunzip(original: Path, tmp_path: Path) -> None:
    result = package(original, tmp_path / "out", PackageSpec(compression="gzip"))
    assert result.name == NAME + ".gz"
    _bytes_out("gzip", "-t", str(result.path))
    assert _decompress(result.path, "gzip") == original.read_bytes()
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert result.size < original.stat().st_size
    assert os.listdir(tmp_path / "out") == [NAME + ".gz"]  # no intermediate files left


def test_zip_round_trip_with_unzip(original: Path, tmp_path: Path) -> None:
    result = package(original, tmp_path / "out", PackageSpec(compression="zip"))
    assert result.name == NAME + ".zip"
    _bytes_out("unzip", "-t", str(result.path))
    names = _bytes_out("zipinfo", "-1", str(result.path)).decode().splitlines()
    assert names == [NAME]
    assert _decompress(result.path, "zip") == original.read_bytes()
    extract = tmp_path / "extract"
    extract.mkdir()
    subprocess.run(["unzip", "-q", str(result.path), "-d", str(extract)], check=True)
    assert (extract / NAME).read_bytes() == original.read_bytes()


@pytest.mark.parametrize("compression", ["none", "gzip", "zip"])
@pytest.mark.parametrize("armor", [False, True])
def test_pgp_round_trip_with_gpg_decrypt(
    original: Path, tmp_path: Path, gpg_recipient: GpgRecipient, compression: str, armor: bool
) -> None:
    spec = PackageSpec(
        compression=compression,
        encrypt=True,
        recipient_keys=(gpg_recipient.armored_public,),
        recipient_fingerprints=(gpg_recipient.fingerprint,),
        armor=armor,
        gnupg_home=tmp_path / "app-gnupg",
    )
    result = package(original, tmp_path / "out", spec)
    suffix = {"none": "", "gzip": ".gz", "zip": ".zip"}[compression]
    assert result.name == NAME + suffix + ".pgp"
    assert os.listdir(tmp_path / "out") == [result.name]
    head = result.path.read_bytes()[:40]
    assert head.startswith(b"-----BEGIN PGP MESSAGE-----") is armor
    decrypted = tmp_path / "decrypted"
    gpg_recipient.decrypt(result.path, decrypted)
    assert _decompress(decrypted, compression) == original.read_bytes()
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()


def test_gpg_does_not_compress_again(
    original: Path, tmp_path: Path, gpg_recipient: GpgRecipient
) -> None:
    spec = PackageSpec(
        compression="gzip",
        encrypt=True,
        recipient_keys=(gpg_recipient.armored_public,),
        recipient_fingerprints=(gpg_recipient.fingerprint,),
        gnupg_home=tmp_path / "app-gnupg",
    )
    result = package(original, tmp_path / "out", spec)
    packets = gpg_recipient.list_packets(result.path)
    assert ":literal data packet:" in packets
    assert "compressed packet" not in packets


def test_every_recipient_can_decrypt(
    original: Path,
    tmp_path: Path,
    gpg_recipient: GpgRecipient,
    gpg_second_recipient: GpgRecipient,
) -> None:
    spec = PackageSpec(
        compression="zip",
        encrypt=True,
        recipient_keys=(gpg_recipient.armored_public, gpg_second_recipient.armored_public),
        recipient_fingerprints=(gpg_recipient.fingerprint, gpg_second_recipient.fingerprint),
        gnupg_home=tmp_path / "app-gnupg",
    )
    result = package(original, tmp_path / "out", spec)
    for index, recipient in enumerate((gpg_recipient, gpg_second_recipient)):
        out = tmp_path / f"plain{index}.zip"
        recipient.decrypt(result.path, out)
        assert _decompress(out, "zip") == original.read_bytes()


def test_the_users_own_gnupg_home_is_never_touched(
    original: Path, tmp_path: Path, gpg_recipient: GpgRecipient, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GNUPGHOME", raising=False)
    app_home = tmp_path / "app-gnupg"
    spec = PackageSpec(
        encrypt=True,
        recipient_keys=(gpg_recipient.armored_public,),
        recipient_fingerprints=(gpg_recipient.fingerprint,),
        gnupg_home=app_home,
    )
    package(original, tmp_path / "out", spec)
    assert not (home / ".gnupg").exists()
    assert app_home.stat().st_mode & 0o777 == 0o700


def test_an_unusable_key_stops_packaging(original: Path, tmp_path: Path) -> None:
    expired = GpgRecipient.create(
        "Old <old@example.test>", expire="1d", faked_time="20200101T000000"
    )
    try:
        spec = PackageSpec(
            encrypt=True,
            recipient_keys=(expired.armored_public,),
            recipient_fingerprints=(expired.fingerprint,),
            gnupg_home=tmp_path / "g",
        )
        with pytest.raises(DeliveryError) as info:
            package(original, tmp_path / "out", spec)
    finally:
        expired.close()
    assert info.value.kind is ErrorKind.ENCRYPTION
    assert info.value.retryable is False
    assert "expired" in info.value.message
    assert not (tmp_path / "out" / (NAME + ".pgp")).exists()


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for compression in ("gzip", "zip"):
        result = package(empty, tmp_path / "out", PackageSpec(compression=compression))
        assert _decompress(result.path, compression) == b""


def test_missing_original(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError) as info:
        package(tmp_path / "nope.txt", tmp_path / "out", PackageSpec(compression="gzip"))
    assert info.value.kind is ErrorKind.LOCAL


def test_spec_checks_its_values(gpg_recipient: GpgRecipient) -> None:
    with pytest.raises(ValueError, match="Compression"):
        PackageSpec(compression="rar")
    with pytest.raises(ValueError, match="recipient"):
        PackageSpec(encrypt=True, gnupg_home=Path("/tmp"))
    with pytest.raises(ValueError, match="fingerprints"):
        PackageSpec(
            encrypt=True, recipient_keys=(gpg_recipient.armored_public,), gnupg_home=Path("/x")
        )
    with pytest.raises(ValueError, match="GnuPG home"):
        PackageSpec(
            encrypt=True,
            recipient_keys=(gpg_recipient.armored_public,),
            recipient_fingerprints=(gpg_recipient.fingerprint,),
        )
    spec = PackageSpec(
        encrypt=True,
        recipient_keys=[gpg_recipient.armored_public],  # type: ignore[arg-type]
        recipient_fingerprints=[gpg_recipient.fingerprint],  # type: ignore[arg-type]
        gnupg_home=Path("/x"),
    )
    assert isinstance(spec.recipient_keys, tuple)
    assert isinstance(spec.recipient_fingerprints, tuple)
    assert "BEGIN PGP" not in repr(spec)


def test_zip64_layout_is_read_by_unzip(original: Path, tmp_path: Path) -> None:
    """Files over 4 GiB get zip64 records; the layout is forced here on a small file."""
    from delivery.compression import zip_file

    target = tmp_path / "forced64.zip"
    zip_file(original, target, original.name, force_zip64=True)
    _bytes_out("unzip", "-t", str(target))
    assert _decompress(target, "zip") == original.read_bytes()
