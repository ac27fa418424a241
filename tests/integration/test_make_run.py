"""`make run` (scripts/run_stack.py) on a fresh instance: the whole stack comes up, and
with the demo a new user's first Process New Sync lands files at the demo receivers.

The stack runs as a new user would start it (honcho, gunicorn, three workers, the
scheduler, the receivers), on free ports, with its own Redis, SQLite file and receiver
folder, so it touches nothing of the checkout's own ``instance/`` or ``var/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from devservers.redis import free_port, start_redis

pytestmark = [pytest.mark.nodb, pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Stack:
    def __init__(
        self,
        tmp: Path,
        demo: bool,
        private_redis: bool = False,
        before_start: Callable[[Stack], None] | None = None,
    ) -> None:
        # private_redis: nothing answers at REDIS_URL, so run_stack.py starts its own.
        self.redis = None if private_redis else start_redis(tmp / "redis")
        self.private_redis_dir = tmp / "private-redis"
        self.port = free_port()
        self.sftp_port, self.ftps_port = free_port(), free_port()
        self.receivers = tmp / "receivers"
        self.log = tmp / "stack.log"
        self.env = {
            **os.environ,
            "DEMO": "1" if demo else "0",
            "PORT": str(self.port),
            "REDIS_URL": self.redis.url if self.redis else f"redis://127.0.0.1:{free_port()}/0",
            "PRIVATE_REDIS_DIR": str(self.private_redis_dir),
            "LOYALTY_SYNC_INSTANCE_PATH": str(tmp / "instance"),
            "LOYALTY_SYNC_DATABASE_URL": f"sqlite:///{tmp / 'stack.db'}",
            "LOYALTY_SYNC_EXPORT_DIR": str(tmp / "exports"),
            "DEMO_RECEIVERS_DIR": str(self.receivers),
            "DEMO_SFTP_PORT": str(self.sftp_port),
            "DEMO_FTPS_PORT": str(self.ftps_port),
            "FLASK_APP": "wsgi",
        }
        self.env.pop("TEST_DATABASE_URL", None)
        if before_start is not None:
            before_start(self)
        self.log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "scripts/run_stack.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the stack exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=2) as r:
                    if r.status == 200 and self.output().count("Worker on") == 3:
                        return  # three RQ workers: transfers run in parallel
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the stack did not come up:\n{self.output()}")

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()
        if self.redis is not None:
            self.redis.stop()


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def start(
        demo: bool,
        private_redis: bool = False,
        before_start: Callable[[Stack], None] | None = None,
    ) -> Stack:
        stack = Stack(tmp_path, demo, private_redis, before_start)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_with_the_demo_delivers_a_first_run(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(demo=True)
    stack.wait_until_up()
    output = stack.output()
    assert "First support user created" in output and "Demo syncs (" in output
    assert "Scheduler: tick every 60 s" in output
    listed = stack.flask("sync", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    syncs = json.loads(listed.stdout)
    assert len(syncs) >= 3 and all(s["destinations"] == 2 for s in syncs)
    descriptor = next(s for s in syncs if s["type"] == "member_descriptor")
    run = stack.flask("sync", "run", str(descriptor["id"]), "--wait", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    row = json.loads(run.stdout)
    assert row["creation_status"] == "succeeded"
    assert [t["status"] for t in row["transfers"]] == ["succeeded", "succeeded"]
    for protocol in ("sftp", "ftps"):
        arrived = list((stack.receivers / protocol).rglob("*.txt"))
        assert arrived, f"nothing arrived at the demo {protocol} receiver"
    assert listening(stack.sftp_port) and listening(stack.ftps_port)


def test_make_run_without_the_demo_starts_no_demo(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(demo=False)
    stack.wait_until_up()
    listed = stack.flask("sync", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert "receivers" not in stack.output()
    assert not listening(stack.sftp_port) and not listening(stack.ftps_port)


def test_make_run_without_redis_starts_a_private_one_with_a_password(
    stack_factory: Callable[..., Stack],
) -> None:
    """Review item 14: the private Redis wants the password generated for this start; the
    web app, the three workers and the scheduler all came up with the URL that carries it,
    and the log shows it hidden."""
    stack = stack_factory(demo=False, private_redis=True)
    stack.wait_until_up()
    output = stack.output()
    match = re.search(r"started a private one at redis://:\*\*\*@127\.0\.0\.1:(\d+)/0", output)
    assert match, output
    assert "Scheduler: tick every 60 s" in output
    config = (stack.private_redis_dir / "redis.conf").read_text()
    password = re.search(r"^requirepass (\S+)$", config, re.M)
    assert password and password.group(1) not in output
    port = int(match.group(1))
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port, socket_timeout=5).ping()
    authed = redis.Redis(host="127.0.0.1", port=port, password=password.group(1))
    workers = authed.smembers("rq:workers")
    assert len(workers) == 3, workers


def occupy(port: int) -> socket.socket:
    """Another program listening on ``port`` (as a second demo would)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_a_taken_port_is_named_with_its_variable_and_nothing_starts(
    stack_factory: Callable[..., Stack],
) -> None:
    held: list[socket.socket] = []
    try:
        stack = stack_factory(
            demo=True,
            before_start=lambda s: held.extend([occupy(s.port), occupy(s.ftps_port)]),
        )
        code = stack.process.wait(timeout=120)
        output = stack.output()
        assert code != 0, output
        assert f"127.0.0.1:{stack.port}" in output and "PORT=NNNN" in output
        assert f"127.0.0.1:{stack.ftps_port}" in output and "DEMO_FTPS_PORT=NNNN" in output
        assert "DEMO_SFTP_PORT" not in output  # the free one is not blamed
        assert "Open http" not in output and "Traceback" not in output
        assert "Address already in use" not in output
        assert not (Path(stack.env["LOYALTY_SYNC_INSTANCE_PATH"]) / "exports").exists()
    finally:
        for sock in held:
            sock.close()


def listener_pid(port: int) -> int:
    """The process listening on 127.0.0.1:``port`` (from ``ss``)."""
    shown = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"pid=(\d+)", shown)
    assert match, shown
    return int(match.group(1))


def test_a_demo_receiver_that_dies_leaves_the_web_app_and_workers_running(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(demo=True)
    stack.wait_until_up()
    deadline = time.monotonic() + 60
    while not listening(stack.ftps_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(listener_pid(stack.ftps_port), signal.SIGKILL)  # the receivers die, however
    deadline = time.monotonic() + 30
    while listening(stack.ftps_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not listening(stack.ftps_port) and not listening(stack.sftp_port)
    time.sleep(5)  # honcho, if it ran them, would have stopped every process by now
    assert stack.process.poll() is None, stack.output()
    assert "The demo receivers stopped" in stack.output(), stack.output()
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/healthz", timeout=5) as r:
        assert r.status == 200
    status = stack.flask("ops", "status", "--json")
    checks = json.loads(status.stdout)["checks"]
    assert checks["workers"]["ok"] and checks["database"]["ok"], status.stdout
