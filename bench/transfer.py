"""Upload throughput: our SFTP and FTPS transports against OpenSSH ``sftp`` and ``curl``.

Run from the repository root, as root (it starts private sshd and vsftpd servers with the
test fixtures' helpers)::

    python bench/transfer.py [--size-mib 256] [--rounds 5]

One file of random bytes is uploaded to the same servers by each client, alternating
clients round by round so that background load hits all of them alike. The servers
receive on a tmpfs where possible, so the disk's write-back does not blur the numbers.
Times cover the whole job as the app runs it: connect, log in, upload, check the size
and rename for ours; process start, connect, log in and ``put`` for ``sftp``; the same
for ``curl``. Both SFTP clients log in with the same Ed25519 key.
The table shows the median MB/s (10^6 bytes per second) and the ratio ours / reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paramiko

import delivery.transports.sftp as sftp_module
from delivery.transports import open_transport
from tests.fixtures.ftps import VsftpdServer
from tests.fixtures.sshd import SshdServer


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def ours(server: SshdServer | VsftpdServer, local: Path, remote_dir: str) -> None:
    if isinstance(server, SshdServer):
        # The same key login as the sftp command (a password costs sshd ~0.1 s of hashing).
        endpoint = server.endpoint(
            directory=remote_dir, timeout=30, password=None, private_key=server.private_key
        )
    else:
        endpoint = server.endpoint(directory=remote_dir, timeout=30)
    with open_transport(endpoint) as transport:
        transport.upload(local, "ours.bin")


def paramiko_defaults(server: SshdServer, local: Path, remote_dir: str) -> None:
    """Plain paramiko as most code uses it: SFTPClient.put (32 KiB writes)."""
    sock_transport = paramiko.Transport((server.host, server.port))
    try:
        key = paramiko.Ed25519Key.from_private_key_file(str(server.client_key_path))
        sock_transport.connect(username=server.username, pkey=key)
        client = paramiko.SFTPClient.from_transport(sock_transport)
        assert client is not None
        client.put(str(local), f"{remote_dir}/paramiko.bin")
        client.close()
    finally:
        sock_transport.close()


def openssh_sftp(
    server: SshdServer, local: Path, remote_dir: str, cipher: str, batch: Path
) -> None:
    batch.write_text(f'put "{local}" "{remote_dir}/openssh.bin"\n')
    subprocess.run(
        [
            "sftp",
            "-q",
            "-b",
            str(batch),
            "-c",
            cipher,
            "-i",
            str(server.client_key_path),
            "-P",
            str(server.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            f"{server.username}@{server.host}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def curl_ftps(server: VsftpdServer, local: Path, remote_dir: str) -> None:
    subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--ssl-reqd",
            "-k",
            "-T",
            str(local),
            "--user",
            f"{server.username}:{server.password}",
            f"ftp://{server.host}:{server.port}/{remote_dir}/curl.bin",
        ],
        check=True,
    )


def ram_disk(folder: Path, size: int) -> bool:
    """Receive on tmpfs: measure the protocols, not this machine's disk write-back."""
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={3 * size},mode=0777", "tmpfs", str(folder)],
        capture_output=True,
    )
    if result.returncode != 0:
        print("(tmpfs not available: receiving on disk, expect more noise)", file=sys.stderr)
    return result.returncode == 0


def median_rate(size: int, seconds: list[float]) -> float:
    return size / statistics.median(seconds) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--ciphers", default="aes128-gcm@openssh.com,aes128-ctr", help="SFTP ciphers to compare"
    )
    args = parser.parse_args()
    size = args.size_mib << 20
    ciphers = args.ciphers.split(",")

    sshd = SshdServer.create()
    vsftpd = VsftpdServer.create(implicit=False)
    work = Path(tempfile.mkdtemp(prefix="lsync-bench-"))
    mounts: list[Path] = []
    try:
        local = work / "payload.bin"
        with open(local, "wb") as handle:
            for _ in range(size >> 20):
                handle.write(os.urandom(1 << 20))
        sftp_dir, sftp_disk = sshd.fresh_dir()
        ftp_dir, ftp_disk = vsftpd.fresh_dir()
        mounts += [folder for folder in (sftp_disk, ftp_disk) if ram_disk(folder, size)]
        batch = work / "batch"
        times: dict[str, list[float]] = {}

        def record(label: str, action: Callable[[], object]) -> None:
            times.setdefault(label, []).append(timed(action))
            for folder in (sftp_disk, ftp_disk):
                for path in folder.iterdir():
                    path.unlink()

        default_ciphers = sftp_module.PREFERRED_CIPHERS
        for round_number in range(args.rounds):
            for cipher in ciphers:
                sftp_module.PREFERRED_CIPHERS = (cipher,)
                record(f"sftp ours {cipher}", lambda: ours(sshd, local, sftp_dir))
                record(
                    f"sftp openssh {cipher}",
                    lambda c=cipher: openssh_sftp(sshd, local, sftp_dir, c, batch),
                )
            sftp_module.PREFERRED_CIPHERS = default_ciphers
            record("sftp paramiko put()", lambda: paramiko_defaults(sshd, local, sftp_dir))
            record("ftps ours", lambda: ours(vsftpd, local, ftp_dir))
            record("ftps curl", lambda: curl_ftps(vsftpd, local, ftp_dir))
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

        rate = {label: median_rate(size, seconds) for label, seconds in times.items()}
        best = {label: size / min(seconds) / 1e6 for label, seconds in times.items()}
        print(
            f"\nUpload of one {args.size_mib} MiB file, 127.0.0.1, median of {args.rounds} "
            f"rounds (best in brackets), {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}\n"
        )
        print("| protocol | cipher | ours MB/s | reference | reference MB/s | ratio |")
        print("|---|---|---:|---|---:|---:|")
        for cipher in ciphers:
            a, b = rate[f"sftp ours {cipher}"], rate[f"sftp openssh {cipher}"]
            print(
                f"| SFTP | {cipher} | {a:.0f} ({best[f'sftp ours {cipher}']:.0f}) | OpenSSH sftp "
                f"| {b:.0f} ({best[f'sftp openssh {cipher}']:.0f}) | {a / b:.2f}x |"
            )
        p = rate["sftp paramiko put()"]
        b = rate[f"sftp openssh {ciphers[0]}"]
        print(
            f"| SFTP | paramiko default | {p:.0f} (paramiko put) | OpenSSH sftp "
            f"| {b:.0f} | {p / b:.2f}x |"
        )
        a, b = rate["ftps ours"], rate["ftps curl"]
        print(
            f"| FTPS explicit | TLS (negotiated) | {a:.0f} ({best['ftps ours']:.0f}) | "
            f"curl --ssl-reqd -T | {b:.0f} ({best['ftps curl']:.0f}) | {a / b:.2f}x |"
        )
    finally:
        for folder in mounts:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        sshd.cleanup()
        vsftpd.cleanup()
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
