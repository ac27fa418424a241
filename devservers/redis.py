"""Start a private Redis server when none is configured: for `make run` on a machine
without Redis, and for the tests (each session gets its own on a random port).

Redis is a code-execution boundary: RQ unpickles every job it reads, so whoever can write
to this Redis can run code in the workers. The private server therefore listens on
127.0.0.1 only and requires a password generated afresh on every start; the password is
in a 0600 config file (never on the command line, where ``ps`` shows it to every local
user) and in the URL the callers hand to the app, workers and scheduler.

The binary is ``redis-server`` from PATH: the Debian package ``redis-server`` (which
``scripts/system_packages.sh`` installs when run as root) or any maintained build.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

INSTALL_HINT = (
    "No redis-server found on PATH. Install Redis 7 or newer: on Debian or Ubuntu "
    "`sudo apt-get install redis-server` (`make test` does it when run as root), on macOS "
    "`brew install redis`; or point REDIS_URL at a Redis server that is already running."
)


class RedisUnavailable(RuntimeError):
    pass


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable(INSTALL_HINT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when a Redis server answers PING at ``url``."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***``, for printing and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@dataclass
class RedisProcess:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    password: str

    @property
    def url(self) -> str:
        """The URL with the password, as REDIS_URL takes it (``redis://:pw@host:port/0``)."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def write_config(directory: Path, port: int, password: str) -> Path:
    """Write the server's config (0600: it holds the password) and return its path."""
    path = directory / "redis.conf"
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        "protected-mode yes",
        # No persistence: the private server holds only jobs and live progress.
        'save ""',
        "appendonly no",
        f'dir "{directory}"',
        f'logfile "{directory / "redis.log"}"',
        f"requirepass {password}",
    ]
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def start_redis(directory: Path, port: int | None = None, timeout: float = 10.0) -> RedisProcess:
    """Start redis-server on 127.0.0.1 (no persistence, a fresh password) and wait until
    it answers."""
    binary = redis_binary()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    port = port or free_port()
    password = secrets.token_hex(32)
    config = write_config(directory, port, password)
    process = subprocess.Popen(
        [binary, str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisProcess(process=process, port=port, directory=directory, password=password)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (
                (directory / "redis.log").read_text(errors="replace")[-500:]
                if (directory / "redis.log").exists()
                else ""
            )
            raise RedisUnavailable(f"redis-server exited with status {process.returncode}: {log}")
        if answers(server.url, timeout=0.5):
            return server
        time.sleep(0.05)
    server.stop()
    raise RedisUnavailable(f"redis-server did not answer on port {port} within {timeout:.0f} s")
