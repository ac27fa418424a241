"""Latency of the pages under concurrent load: 50 syncs, 100,000 past runs, gunicorn on loopback.

Measures median and p95 of the sync list, a dashboard page, the Runs page filtered to
failures (issue 14), the live status partial (a run still transferring), and the REST
API's ``GET /api/v1/runs?status=failed`` and a run's status (``/api/v1/runs/<id>/status``,
with a token; issue 13), with N
concurrent keep-alive clients, and the same for a static file served by the same
gunicorn, as the floor of the stack on this machine. About one run in 25 has a dead
destination (partly failed) and one in 100 failed outright, spread over the history.

    .venv/bin/python bench/web.py [--seconds 10] [--clients 4] [--runs 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devservers.redis import free_port, start_redis  # noqa: E402

SYNCS = 50
RUNS = 100_000
PASSWORD = "bench-password-1"


def _outcome(n: int) -> tuple[str, str, str]:
    """(run outcome, first destination's status, second's) for the n-th run."""
    if n % 100 == 7:
        return "failed", "failed", "failed"
    if n % 25 == 3:
        return "partly_failed", "succeeded", "failed"
    return "delivered", "succeeded", "succeeded"


def build_database(env: dict[str, str], runs: int = RUNS) -> dict[str, Any]:
    """Migrate, then bulk-insert users, syncs, destinations, runs, files and transfers."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from loyalty.models import Descriptor
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import SyncFile, SyncInstance, Transfer
    from webapp.models.syncs import Sync
    from webapp.services import destinations, tokens, users

    app = create_app()
    with app.app_context():
        upgrade()
        bench_user = users.create_user("bench@example.com", "sync_manager", PASSWORD)
        _token, token_text = tokens.create_token(bench_user, "bench", None, 1, user=None)
        descriptor = Descriptor(ext_ref="GOLD", name="Gold")
        db.session.add(descriptor)
        db.session.flush()
        syncs = []
        for i in range(SYNCS):
            sync = Sync(
                type_key="member_descriptor",
                name=f"Sync {i:02d}",
                scope={"descriptor_id": descriptor.id},
                enabled=i % 3 != 0,
            )
            db.session.add(sync)
            syncs.append(sync)
        db.session.flush()
        for sync in syncs:
            for d in range(2):
                destinations.add_destination(
                    sync,
                    {
                        "name": f"Partner {d}",
                        "host": "sftp.example.com",
                        "protocol": "sftp",
                        "username": "u",
                        "password": "pw-bench-123",
                        "password_confirm": "pw-bench-123",
                        "retries": "3",
                    },
                    user=None,
                )
        db.session.commit()
        start = datetime.now(UTC) - timedelta(days=runs // SYNCS)
        instance_rows = []
        for n in range(runs):
            sync = syncs[n % SYNCS]
            at = start + timedelta(days=n // SYNCS, minutes=n % SYNCS)
            instance_rows.append(
                {
                    "sync_id": sync.id,
                    "trigger": "scheduled",
                    "scheduled_for": at,
                    "created_at": at,
                    "creation_status": "succeeded",
                    "run_started_at": at,
                    "creation_started_at": at,
                    "creation_finished_at": at + timedelta(seconds=40),
                    "rows_written": 1000 + n,
                    "row_counts": {"rows": 1000 + n},
                    # Bulk inserts skip the ORM's flush hook: number and judge them here.
                    "sequence": n // SYNCS + 1,
                    "outcome": _outcome(n)[0],
                }
            )
        for chunk in range(0, len(instance_rows), 10_000):
            db.session.execute(insert(SyncInstance), instance_rows[chunk : chunk + 10_000])
        db.session.execute(db.update(Sync).values(runs_created=runs // SYNCS + 1))
        db.session.commit()
        ids = [
            row.id
            for row in db.session.execute(
                db.select(SyncInstance.id, SyncInstance.sync_id).order_by(SyncInstance.id)
            )
        ]
        instances = db.session.execute(
            db.select(SyncInstance.id, SyncInstance.sync_id).order_by(SyncInstance.id)
        ).all()
        dest_of = {s.id: [d.id for d in s.destinations] for s in syncs}
        file_rows, transfer_rows = [], []
        for n, (instance_id, sync_id) in enumerate(instances):
            statuses = _outcome(n)[1:]
            file_rows.append(
                {
                    "instance_id": instance_id,
                    "role": "original",
                    "kind": "",
                    "name": f"F_{instance_id}.txt",
                    "path": f"sync-{sync_id}/run-{instance_id}/original/F.txt",
                    "size": 123456,
                    "sha256": "0" * 64,
                    "rows": 1000,
                }
            )
            for d, status in zip(dest_of[sync_id], statuses, strict=True):
                transfer_rows.append(
                    {
                        "instance_id": instance_id,
                        "destination_id": d,
                        "destination_name": "Partner",
                        "round": 1,
                        "status": status,
                        "max_attempts": 4,
                        "bytes_total": 123456,
                        "bytes_sent": 123456 if status == "succeeded" else 0,
                        "error": None
                        if status == "succeeded"
                        else "The server refused the connection.",
                    }
                )
        for chunk in range(0, len(file_rows), 10_000):
            db.session.execute(insert(SyncFile), file_rows[chunk : chunk + 10_000])
        for chunk in range(0, len(transfer_rows), 10_000):
            db.session.execute(insert(Transfer), transfer_rows[chunk : chunk + 10_000])
        # The newest run of the first sync is still transferring: its row polls.
        live_id = max(i for i, s in instances if s == syncs[0].id)
        db.session.execute(
            db.update(Transfer)
            .where(Transfer.instance_id == live_id)
            .values(status="transferring", bytes_sent=50_000)
        )
        db.session.execute(
            db.update(SyncInstance).where(SyncInstance.id == live_id).values(outcome="running")
        )
        db.session.commit()
        result = {
            "sync": syncs[0].id,
            "live_run": live_id,
            "runs": len(ids),
            "token": token_text,
        }
        db.engine.dispose()
    return result


def session_cookie(response: http.client.HTTPResponse) -> str:
    """The ``session=...`` pair among a response's Set-Cookie headers."""
    for header in response.headers.get_all("Set-Cookie") or []:
        pair = header.split(";")[0]
        if pair.startswith("session="):
            return pair
    raise RuntimeError("no session cookie in the response")


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def login(self) -> None:
        conn = self.connection()
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = session_cookie(response)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        body = urllib.parse.urlencode(
            {"email": "bench@example.com", "password": PASSWORD, "csrf_token": token}
        )
        conn.request(
            "POST",
            "/login",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise RuntimeError(f"login failed: {response.status}")
        self.cookie = session_cookie(response)


def load(
    port: int, cookie: str, path: str, seconds: float, clients: int, headers: dict[str, str]
) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, **headers})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %d %.3f %.3f %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def load_wrk(
    port: int,
    cookie: str,
    path: str,
    seconds: float,
    clients: int,
    headers: dict[str, str],
    work: Path,
) -> tuple[int, float, float, float]:
    """(requests, req/s, median ms, p95 ms) measured by wrk, a C load generator that takes
    far less of the machine than Python client threads."""
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(clients),
        "-d",
        f"{seconds:.0f}s",
        "-s",
        str(script),
        "-H",
        f"Cookie: {cookie}",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    _, requests, duration_us, median, p95, errors = line.split()
    if int(errors):
        raise RuntimeError(f"{path}: {errors} errors under load")
    return int(requests), int(requests) / (int(duration_us) / 1e6), float(median), float(p95)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--python-client", action="store_true", help="Python threads instead of wrk"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lsync-bench-web-"))
    redis = start_redis(work / "redis")
    env = {
        "LOYALTY_SYNC_INSTANCE_PATH": str(work / "instance"),
        "LOYALTY_SYNC_REDIS_URL": redis.url,
        "LOYALTY_SYNC_DATABASE_URL": args.database_url or f"sqlite:///{work / 'bench.db'}",
        # The API's per-token limit would answer 429 to a load test.
        "LOYALTY_SYNC_API_RATE_LIMIT": "100000000 per minute",
    }
    print(f"Building {SYNCS} syncs and {args.runs} runs ...", flush=True)
    built = build_database(env, args.runs)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
            "--error-logfile",
            str(work / "server.log"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    print(f"server log: {work / 'server.log'}")
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/login")
                break
            except OSError:
                time.sleep(0.1)
        client = Client(port)
        client.login()
        bearer = {"Authorization": f"Bearer {built['token']}"}
        cases = [
            ("static file (floor)", "/static/app.css", {}),
            ("sync list", "/syncs", {}),
            ("dashboard page", f"/syncs/{built['sync']}/dashboard", {}),
            ("runs page, failures", "/runs?status=failures", {}),
            ("live status partial", f"/runs/{built['live_run']}/row", {"HX-Request": "true"}),
            ("API runs?status=failed", "/api/v1/runs?status=failed", bearer),
            ("API run status", f"/api/v1/runs/{built['live_run']}/status", bearer),
        ]
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        print(
            f"\n{args.clients} concurrent connections ({'wrk' if use_wrk else 'Python threads'}), "
            f"{args.seconds:.0f} s each, gunicorn {args.workers} workers x {args.threads} threads, "
            f"{built['runs']} runs, {SYNCS} syncs, database {env['LOYALTY_SYNC_DATABASE_URL'].split(':')[0]}, "
            f"load average {os.getloadavg()[0]:.1f}\n"
        )
        floor = 0.0
        print(
            f"{'endpoint':<24}{'requests':>10}{'req/s':>10}{'median ms':>12}{'p95 ms':>10}{'target':>10}"
        )
        targets = {
            "sync list": "< 50",
            "dashboard page": "< 50",
            "runs page, failures": "< 50",
            "live status partial": "< 10",
            "API runs?status=failed": "< 50",
            "API run status": "< 10",
        }
        for name, path, headers in cases:
            load(port, client.cookie, path, 1.0, args.clients, headers)  # warm up
            if use_wrk:
                count, rate, median, p95 = load_wrk(
                    port, client.cookie, path, args.seconds, args.clients, headers, work
                )
            else:
                latencies = load(port, client.cookie, path, args.seconds, args.clients, headers)
                ordered = sorted(latencies)
                count, rate = len(latencies), len(latencies) / args.seconds
                median = statistics.median(latencies) * 1000
                p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
            floor = floor or p95
            print(
                f"{name:<24}{count:>10}{rate:>10.0f}{median:>12.1f}{p95:>10.1f}"
                f"{targets.get(name, ''):>10}{p95 / floor:>9.1f}x floor"
            )
    finally:
        server.terminate()
        server.wait()
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
