"""`make run`: everything a new user needs, started with one command.

1. Redis: the one at REDIS_URL when it answers, else a private redis-server (from PATH)
   on a free port with a password generated for this start, data in var/redis, stopped
   on exit.
2. The database: migrated; a first support user created when there is none (its
   password is printed once).
3. The demo (unless DEMO=0): a small seeded program, a few demo syncs, and demo SFTP and
   FTPS receivers on 127.0.0.1 writing into var/demo-receivers/.
4. Before it says "Open ...", the ports are checked: the web app's (``PORT``) and, with
   the demo, the receivers' (``DEMO_SFTP_PORT``, ``DEMO_FTPS_PORT``). A taken port stops
   here with a message naming it and the variable that moves it.
5. honcho starts the web app (http://127.0.0.1:5000), three RQ workers (so transfers to
   several destinations run in parallel) and the scheduler, from the Procfile. The demo
   receivers run beside honcho, not under it: honcho stops every process when one
   exits, and a demo receiver that dies must never take the web app and the workers
   with it. Its exit is reported and the rest keep running.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devservers.receivers import (  # noqa: E402
    ReceiverPortBusy,
    check_ports,
    receiver_settings,
)
from devservers.redis import RedisUnavailable, answers, redacted, start_redis  # noqa: E402

# RQ workers: transfers to several destinations run in parallel, one per worker.
WORKERS = 3


def web_port_problem(port: int) -> str | None:
    """A message when the web app's port is taken (gunicorn binds 127.0.0.1:PORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            return (
                f"The web app cannot listen on 127.0.0.1:{port}: another program uses that "
                f"port. Stop it, or choose a free port with PORT=NNNN (e.g. PORT={port + 1} make run)."
            )
    return None


def port_problems(env: dict[str, str], demo: bool) -> list[str]:
    problems = []
    try:
        web = web_port_problem(int(env["PORT"]))
    except ValueError:
        web = f"PORT={env['PORT']!r} is not a port number."
    if web:
        problems.append(web)
    if demo:
        try:
            check_ports(receiver_settings(ROOT))
        except ReceiverPortBusy as error:
            problems.append(str(error))
        except ValueError:
            problems.append("DEMO_SFTP_PORT and DEMO_FTPS_PORT must be port numbers.")
    return problems


# Set when make run itself stops the receivers, so their exit is not reported as a failure.
STOPPING = threading.Event()


def start_receivers(flask: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The demo receivers in their own process, watched: when they exit, say so, and leave
    the web app and the workers running. Their own session: Ctrl-C reaches make run,
    which stops them itself (and knows it did)."""
    receivers = subprocess.Popen(
        [flask, "demo", "receivers"], env=env, cwd=ROOT, start_new_session=True
    )
    print(f"Demo receivers starting (pid {receivers.pid})", flush=True)

    def watch() -> None:
        code = receivers.wait()
        if not STOPPING.is_set():
            print(
                f"The demo receivers stopped (exit {code}); the web app and the workers keep "
                "running, but the demo syncs cannot deliver until `flask demo receivers` "
                "runs again.",
                flush=True,
            )

    threading.Thread(target=watch, name="receivers-watch", daemon=True).start()
    return receivers


def main() -> int:
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("FLASK_APP", "wsgi")
    env.setdefault("PORT", "5000")
    env.setdefault("PYTHONUNBUFFERED", "1")

    demo = env.get("DEMO", "1") != "0"
    problems = port_problems(env, demo)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("Nothing was started.", file=sys.stderr)
        return 2

    redis_url = (
        env.get("LOYALTY_SYNC_REDIS_URL") or env.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    private = None
    receivers: subprocess.Popen[bytes] | None = None
    if answers(redis_url):
        print(f"Using Redis at {redacted(redis_url)}")
        if urlsplit(redis_url).password is None:
            print(
                "Note: no password in REDIS_URL; RQ workers run whatever is queued in this Redis."
            )
    else:
        folder = Path(env.get("PRIVATE_REDIS_DIR") or ROOT / "var" / "redis")
        try:
            private = start_redis(folder)
        except RedisUnavailable as error:
            print(f"No Redis answered at {redacted(redis_url)}. {error}", file=sys.stderr)
            return 1
        redis_url = private.url
        print(
            f"No Redis answered; started a private one at {redacted(redis_url)} "
            f"(password generated for this start, data in {folder})"
        )
    env["REDIS_URL"] = redis_url
    env["LOYALTY_SYNC_REDIS_URL"] = redis_url

    if demo:
        # The demo receivers listen on 127.0.0.1, which Test connection refuses by default.
        env.setdefault("LOYALTY_SYNC_CONNECTION_TEST_ALLOW", '["127.0.0.1/32"]')
    flask = str(bin_dir / "flask")
    try:
        subprocess.run([flask, "ops", "bootstrap"], env=env, cwd=ROOT, check=True)
        if demo:
            subprocess.run([flask, "demo", "setup"], env=env, cwd=ROOT, check=True)
            receivers = start_receivers(flask, env)
        print(f"Open http://127.0.0.1:{env['PORT']} and log in. Ctrl-C stops everything.")
        processes = ["web", "worker", "scheduler"]
        honcho = subprocess.Popen(
            [
                str(bin_dir / "honcho"),
                "start",
                "--procfile",
                str(ROOT / "Procfile"),
                "--port",
                env["PORT"],
                "--concurrency",
                f"worker={WORKERS}",
                *processes,
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            honcho.send_signal(signal.SIGINT)
            return honcho.wait()
    finally:
        STOPPING.set()
        if receivers is not None and receivers.poll() is None:
            receivers.send_signal(signal.SIGINT)
            try:
                receivers.wait(timeout=10)
            except subprocess.TimeoutExpired:
                receivers.kill()
        if private is not None:
            private.stop()


if __name__ == "__main__":
    sys.exit(main())
