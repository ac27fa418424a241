"""The demo receivers as one unit: where they keep files and credentials, and starting both.

``flask demo receivers`` (what ``make run`` starts) and the tests call the same
``start_receivers``, so what a test proves about the demo receivers is what a new user
runs. A port that is taken gives a clear ``ReceiverPortBusy`` naming the port and the
variable that moves it, instead of a raw ``OSError`` from deep inside a server thread.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devservers.ftps_server import ensure_certificate, make_server
from devservers.sftp_server import DemoSFTPServer

SFTP_PORT = 2222
FTPS_PORT = 2121


class ReceiverPortBusy(RuntimeError):
    """A demo receiver's port is taken by another program (or another demo)."""


@dataclass(frozen=True)
class ReceiverSettings:
    folder: Path
    sftp_port: int
    ftps_port: int
    username: str
    password: str
    host_key_path: Path
    cert_path: Path
    key_path: Path

    @property
    def sftp_folder(self) -> Path:
        return self.folder / "sftp"

    @property
    def ftps_folder(self) -> Path:
        return self.folder / "ftps"


def receiver_settings(root: Path) -> ReceiverSettings:
    """Where the demo receivers keep files and credentials (created on first use, 0600):
    ``var/demo-receivers`` under ``root``, or ``DEMO_RECEIVERS_DIR``; ports from
    ``DEMO_SFTP_PORT`` and ``DEMO_FTPS_PORT``."""
    folder = Path(os.environ.get("DEMO_RECEIVERS_DIR") or root / "var" / "demo-receivers")
    folder.mkdir(parents=True, exist_ok=True)
    credentials = folder / "credentials.json"
    if not credentials.exists():
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"username": "demo", "password": secrets.token_urlsafe(12)}, handle)
    stored: dict[str, Any] = json.loads(credentials.read_text())
    return ReceiverSettings(
        folder=folder,
        sftp_port=int(os.environ.get("DEMO_SFTP_PORT", SFTP_PORT)),
        ftps_port=int(os.environ.get("DEMO_FTPS_PORT", FTPS_PORT)),
        username=stored["username"],
        password=stored["password"],
        host_key_path=folder / "sftp_host_ed25519_key",
        cert_path=folder / "ftps_cert.pem",
        key_path=folder / "ftps_key.pem",
    )


def _busy(error: OSError, protocol: str, port: int, variable: str) -> ReceiverPortBusy | None:
    if error.errno != errno.EADDRINUSE:
        return None
    return ReceiverPortBusy(
        f"The demo {protocol} receiver cannot listen on 127.0.0.1:{port}: another program "
        f"uses that port. Stop it, or choose a free port with {variable}=NNNN."
    )


def check_ports(settings: ReceiverSettings) -> None:
    """Raise ``ReceiverPortBusy`` (naming the port and its variable) when a receiver's port
    is taken; ``make run`` calls it before it says "Open", then starts the receivers."""
    for protocol, port, variable in (
        ("SFTP", settings.sftp_port, "DEMO_SFTP_PORT"),
        ("FTPS", settings.ftps_port, "DEMO_FTPS_PORT"),
    ):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                raise (_busy(error, protocol, port, variable) or error) from error


@contextmanager
def start_receivers(settings: ReceiverSettings) -> Iterator[ReceiverSettings]:
    """Run the demo SFTP and FTPS receivers in background threads until the block ends.

    Both ports are bound before anything serves, so a busy port fails the start at once
    and leaves nothing running.
    """
    ensure_certificate(settings.cert_path, settings.key_path)
    sftp = DemoSFTPServer(
        settings.sftp_folder,
        settings.host_key_path,
        settings.sftp_port,
        settings.username,
        settings.password,
    )
    try:
        sftp.listen()
    except OSError as error:
        raise (_busy(error, "SFTP", settings.sftp_port, "DEMO_SFTP_PORT") or error) from error
    try:
        ftps = make_server(
            settings.ftps_folder,
            settings.cert_path,
            settings.key_path,
            settings.ftps_port,
            settings.username,
            settings.password,
        )
    except OSError as error:
        sftp.stop()
        raise (_busy(error, "FTPS", settings.ftps_port, "DEMO_FTPS_PORT") or error) from error
    threads = [
        threading.Thread(target=sftp.serve_forever, name="demo-sftp", daemon=True),
        threading.Thread(
            target=lambda: ftps.serve_forever(timeout=0.2, handle_exit=False),
            name="demo-ftps",
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    try:
        yield settings
    finally:
        sftp.stop()
        ftps.close_all()
        for thread in threads:
            thread.join(timeout=5)
