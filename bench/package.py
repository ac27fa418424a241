"""Packaging throughput: our gzip, zip and PGP steps against gzip, pigz, zip and gpg.

Run from the repository root::

    python bench/package.py [--size-mib 256] [--rounds 3] [--only pgp,sign]

The input is a synthetic member export (pipe-delimited text with CRLF line ends, like the
real sync files). Each tool runs on the same file in the same run, round by round; the
table shows the median MB/s of input (10^6 bytes per second), the output size as a share
of the input, and the ratio ours / reference. "Ours" is ``delivery.packaging.package``
as the app calls it, so it includes writing the deliverable under a temporary name, the
rename and the SHA-256 of the deliverable (computed while gpg writes, not in a second
pass); the commands write their output only (one row shows ``pgp.encrypt_file`` alone).
"Sign + PGP" signs with a passphrase-protected Ed25519 key and encrypts in one gpg pass,
against ``gpg --sign --encrypt`` with the same key, imported into a keyring whose
gpg-agent hashes passphrases as cheaply as ours does (see the comment in ``main``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery.packaging import PackageSpec, package
from delivery.pgp import encrypt_file
from delivery.pgp_signing import Signer, check_signing_key
from tests.fixtures.gpg import GpgRecipient


def synthetic_export(path: Path, size: int) -> None:
    rng = random.Random(6)
    first = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jonas"]
    last = ["Müller", "Schmidt", "Dubois", "Rossi", "Nguyen", "Smith", "García", "Kowalski"]
    cities = ["Berlin", "Paris", "Lyon", "Zürich", "Wien", "Madrid", "Porto", "Gdańsk"]
    tails = []
    for _ in range(50_000):
        f, la = rng.choice(first), rng.choice(last)
        tails.append(
            f"|{f}|{la}|{f.lower()}.{la.lower()}{rng.randint(1, 9999)}@example.com"
            f"|{rng.choice(cities)}|{rng.randint(0, 250_000)}"
            f"|{rng.choice(['Bronze', 'Silver', 'Gold', 'Platinum'])}"
            f"|20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\r\n"
        )
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("MemberId|FirstName|LastName|Email|City|Points|Tier|EnrollDate\r\n")
        written, member = 0, 100_000_000
        while written < size:
            chunk = "".join(
                f"{member + i}{tails[rng.randrange(len(tails))]}" for i in range(20_000)
            )
            member += 20_000
            written += len(chunk.encode())
            out.write(chunk)


def shell(command: str) -> Callable[[], object]:
    return lambda: subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="comma-separated groups to run: gzip, zip, pgp, sign, gzip+pgp"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lsync-bench-package-"))
    recipient = GpgRecipient.create("Bench <bench@example.test>")
    passphrase = "bench signing passphrase"
    sender = GpgRecipient.create("Bench Sender <sender@example.test>", passphrase=passphrase)
    sender.import_key(recipient.armored_public)
    try:
        original = work / "members.txt"
        synthetic_export(original, args.size_mib << 20)
        size = original.stat().st_size
        out = work / "out"
        out.mkdir()
        app_home = work / "app-gnupg"
        key = (recipient.armored_public,)
        recipients = (recipient.fingerprint,)
        gpg = (
            f"gpg --batch --yes --homedir {recipient.home} --trust-model always "
            f"--compress-algo none -r {recipient.fingerprint}"
        )
        src, dst = str(original), str(out / "ref")
        # As the app stores it (services/signing.py): the key's own export from the check.
        _info, stored = check_signing_key(sender.armored_private, passphrase)
        signer = Signer(sender.fingerprint, stored, passphrase)
        # The reference signs from a keyring whose agent uses the same passphrase hashing
        # as ours (pgp_signing: s2k-count 65536), so the ratio compares the work per byte,
        # not gpg-agent's calibrated unlock (seconds on a busy VM, paid by both otherwise).
        ref_home = work / "ref-gnupg"
        ref_home.mkdir(mode=0o700)
        (ref_home / "gpg-agent.conf").write_text("s2k-count 65536\n")
        subprocess.run(
            ["gpg", "--homedir", str(ref_home), "--batch", "--import"],
            input=(sender.armored_private + recipient.armored_public).encode(),
            capture_output=True,
            check=True,
        )
        gpg_sign = (
            f"gpg --batch --yes --homedir {ref_home} --trust-model always "
            f"--compress-algo none --pinentry-mode loopback --passphrase '{passphrase}' "
            f"-u {sender.fingerprint} -r {recipient.fingerprint}"
        )

        def ours(spec: PackageSpec) -> Callable[[], object]:
            return lambda: package(original, out, spec)

        cases: dict[str, Callable[[], object]] = {
            "ours gzip": ours(PackageSpec(compression="gzip")),
            "gzip -6": shell(f"gzip -6 -c {src} > {dst}"),
            "pigz -6": shell(f"pigz -6 -c {src} > {dst}"),
            "gzip -1": shell(f"gzip -1 -c {src} > {dst}"),
            "ours zip": ours(PackageSpec(compression="zip")),
            "zip -6": shell(f"rm -f {dst}.zip && zip -q -6 {dst}.zip {src}"),
            "pigz --zip": shell(f"pigz -6 --zip -c {src} > {dst}"),
            "ours pgp": ours(
                PackageSpec(
                    encrypt=True,
                    recipient_keys=key,
                    recipient_fingerprints=recipients,
                    gnupg_home=app_home,
                )
            ),
            "ours pgp, no digest": lambda: encrypt_file(
                original, out / "x.pgp", key, app_home, recipients=recipients
            ),
            "gpg -e": shell(f"{gpg} -o {dst} -e {src}"),
            "ours sign+pgp": ours(
                PackageSpec(
                    encrypt=True,
                    recipient_keys=key,
                    recipient_fingerprints=recipients,
                    gnupg_home=app_home,
                    signer=signer,
                )
            ),
            "gpg --sign --encrypt": shell(f"{gpg_sign} -o {dst} --sign --encrypt {src}"),
            "ours gzip+pgp": ours(
                PackageSpec(
                    compression="gzip",
                    encrypt=True,
                    recipient_keys=key,
                    recipient_fingerprints=recipients,
                    gnupg_home=app_home,
                )
            ),
            "pigz | gpg -e": shell(f"pigz -6 -c {src} | {gpg} -o {dst} -e"),
        }
        groups = {
            "gzip": ["ours gzip", "gzip -6", "pigz -6", "gzip -1"],
            "zip": ["ours zip", "zip -6", "pigz --zip"],
            "pgp": ["ours pgp", "ours pgp, no digest", "gpg -e"],
            "sign": ["ours sign+pgp", "gpg --sign --encrypt"],
            "gzip+pgp": ["ours gzip+pgp", "pigz | gpg -e"],
        }
        if args.only:
            wanted = set(args.only.split(","))
            keep = {k for name, labels in groups.items() if name in wanted for k in labels}
            cases = {k: v for k, v in cases.items() if k in keep}
        times: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}
        for round_number in range(args.rounds):
            for label, action in cases.items():
                for leftover in out.iterdir():
                    leftover.unlink()
                started = time.perf_counter()
                action()
                times.setdefault(label, []).append(time.perf_counter() - started)
                sizes[label] = sum(p.stat().st_size for p in out.iterdir())
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

        rate = {k: size / statistics.median(v) / 1e6 for k, v in times.items()}
        print(
            f"\nPackaging one {size / 1e6:.0f} MB export, median of {args.rounds} rounds, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n"
        )
        print("| step | ours MB/s | output | reference | reference MB/s | output | ratio |")
        print("|---|---:|---:|---|---:|---:|---:|")
        rows = [
            ("gzip", "ours gzip", ["gzip -6", "pigz -6", "gzip -1"]),
            ("zip", "ours zip", ["zip -6", "pigz --zip"]),
            ("PGP (no compression)", "ours pgp", ["gpg -e"]),
            ("PGP, without the SHA-256", "ours pgp, no digest", ["gpg -e"]),
            ("sign + PGP", "ours sign+pgp", ["gpg --sign --encrypt"]),
            ("gzip + PGP", "ours gzip+pgp", ["pigz | gpg -e"]),
        ]
        for step, mine, references in rows:
            for ref in references:
                if mine not in rate or ref not in rate:
                    continue
                print(
                    f"| {step} | {rate[mine]:.0f} | {sizes[mine] / size:.1%} | `{ref}` "
                    f"| {rate[ref]:.0f} | {sizes[ref] / size:.1%} | {rate[mine] / rate[ref]:.2f}x |"
                )
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(work / "ref-gnupg"), "--kill", "all"], capture_output=True
        )
        recipient.close()
        sender.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
