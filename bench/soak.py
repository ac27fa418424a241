"""Soak: many syncs due at the same minute, then again with a dead destination and a
worker killed mid-way.

    .venv/bin/python bench/soak.py [--syncs 50] [--workers 4] [--database-url postgresql://...]

Real parts only: an OpenSSH sshd (the test fixture's) for three SFTP destinations per
sync, vsftpd (explicit FTPS) for two, and a second sshd for the sixth; a private Redis;
`flask worker` processes, each in its own process group; the minute tick (jobs.tick,
called here every few seconds as well as at the due minute, as extra schedulers would:
it is idempotent) creating the scheduled runs and sweeping dead work.

Phase 1: every sync due at the same minute, six live destinations each.
Phase 2: the second sshd is stopped (the sixth destination is dead) and one worker's
process group is killed (SIGKILL) once half the transfers have ended.

For each phase it prints runs delivered (every live destination), runs failed, stuck
(not final when the drain limit passed; target 0), transfers by outcome, the time from
the due minute to the last transfer's end, and each worker's RSS at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devservers.redis import start_redis  # noqa: E402

DRAIN_LIMIT_SECONDS = 900
ROWS = 2000  # about 30 KB a file


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "worker"],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: killing it kills its work horse too
    )


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def busy_worker(workers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes] | None:
    """One of our workers whose current job is a transfer the database shows under way
    (its attempt started, bytes moving), so killing it loses work (None: none now)."""
    from rq import Worker
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models.runs import Transfer, TransferStatus
    from webapp.services.redis_client import redis_client

    db.session.expire_all()
    moving = set(
        db.session.scalars(
            select(Transfer.job_id).where(Transfer.status == TransferStatus.TRANSFERRING)
        )
    )
    ours = {w.pid: w for w in workers if w.poll() is None}
    for registered in Worker.all(connection=redis_client()):
        if registered.pid in ours and registered.get_current_job_id() in moving:
            return ours[registered.pid]
    return None


def next_minute() -> datetime:
    now = datetime.now(UTC)
    return (now + timedelta(minutes=1)).replace(second=0, microsecond=0)


def schedule_all(syncs: list[Any], at: datetime) -> None:
    """Every sync due at ``at`` (UTC), counted from now."""
    from webapp.extensions import db

    now = datetime.now(UTC)
    for sync in syncs:
        sync.execution_time, sync.timezone = f"{at:%H:%M}", "UTC"
        sync.enabled, sync.last_scheduled_for, sync.enabled_changed_at = True, now, now
    db.session.commit()


def add_destinations(sync: Any, sshd: Any, vsftpd: Any, spare: Any) -> None:
    from webapp.extensions import db
    from webapp.services import destinations

    def sftp(server: Any, label: str) -> dict[str, str]:
        remote, _ = server.fresh_dir()
        return {
            "name": f"{label} {remote}",
            "host": server.host,
            "protocol": "sftp",
            "port": str(server.port),
            "directory": remote,
            "username": server.username,
            "password": server.password,
            "password_confirm": server.password,
            "host_key_fingerprint": server.host_key_fingerprint,
            "host_key_type": server.host_key_type,
            "retries": "2",
        }

    forms = [sftp(sshd, "SFTP") for _ in range(3)]
    for _ in range(2):
        remote, _ = vsftpd.fresh_dir()
        forms.append(
            {
                "name": f"FTPS {remote}",
                "host": vsftpd.host,
                "protocol": "ftps_explicit",
                "port": str(vsftpd.port),
                "directory": remote,
                "username": vsftpd.username,
                "password": vsftpd.password,
                "password_confirm": vsftpd.password,
                "tls_fingerprint": vsftpd.cert_fingerprint,
                "retries": "2",
            }
        )
    forms.append(sftp(spare, "SPARE"))
    for form in forms:
        destinations.add_destination(sync, form, user=None)
    db.session.commit()


def phase(
    name: str,
    syncs: list[Any],
    workers: list[subprocess.Popen[bytes]],
    dead_port: int | None,
    kill_one: bool,
) -> dict[str, Any]:
    from sqlalchemy import select

    from jobs.tick import tick
    from webapp.extensions import db
    from webapp.models.runs import CreationStatus, SyncInstance, Transfer, TransferStatus
    from webapp.services.runs import latest_transfers

    due = next_minute()
    schedule_all(syncs, due)
    rss_start = {w.pid: rss_kib(w.pid) for w in workers if w.poll() is None}
    print(f"[{name}] {len(syncs)} syncs due at {due:%H:%M:%S} UTC; waiting for the minute")
    while datetime.now(UTC) < due:
        time.sleep(0.5)
    swept = requeued = 0
    created = tick()["created"]
    print(f"[{name}] the tick created {created} scheduled runs")
    sync_ids = [s.id for s in syncs]
    killed: int | None = None
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    last_tick = time.monotonic()
    while True:
        db.session.expire_all()
        instances = list(
            db.session.scalars(
                select(SyncInstance).where(
                    SyncInstance.sync_id.in_(sync_ids), SyncInstance.scheduled_for == due
                )
            )
        )
        transfers = [t for i in instances for t in i.transfers]
        ended = sum(1 for t in transfers if TransferStatus(t.status).is_final)
        building = [i for i in instances if not CreationStatus(i.creation_status).is_final]
        moving = [t for t in transfers if not TransferStatus(t.status).is_final]
        if kill_one and killed is None and ended >= len(syncs) * 6 // 2:
            victim = busy_worker(workers)
            if victim is not None:
                for horse in children(victim.pid):  # RQ's work horse runs in its own session
                    os.kill(horse, signal.SIGKILL)
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()
                killed = victim.pid
                print(
                    f"[{name}] killed worker {victim.pid} and its work horse mid-job, at {ended} ended"
                )
        if len(instances) == len(syncs) and not building and not moving:
            break
        if time.monotonic() > deadline:
            break
        if time.monotonic() - last_tick > 5:
            counts = tick()  # sweeps dead work, re-enqueues retries and lost jobs
            swept, requeued = swept + counts["swept"], requeued + counts["enqueued"]
            last_tick = time.monotonic()
        time.sleep(0.5)
    db.session.expire_all()
    instances = list(
        db.session.scalars(
            select(SyncInstance).where(
                SyncInstance.sync_id.in_(sync_ids), SyncInstance.scheduled_for == due
            )
        )
    )
    ends = [
        t.finished_at
        for t in db.session.scalars(
            select(Transfer).where(Transfer.instance_id.in_([i.id for i in instances]))
        )
        if t.finished_at
    ]
    delivered = failed = stuck = 0
    outcome: dict[str, int] = {}
    live_failed = []
    for instance in instances:
        status = CreationStatus(instance.creation_status)
        latest = latest_transfers(instance)
        if not status.is_final or any(not TransferStatus(t.status).is_final for t in latest):
            stuck += 1
            continue
        if status != CreationStatus.SUCCEEDED:
            failed += 1
            live_failed.append(f"run {instance.id}: build {status.value}: {instance.error}")
            continue
        live = [t for t in latest if not (dead_port and t.destination_name.startswith("SPARE"))]
        for t in latest:
            kind = "dead" if t not in live else "live"
            key = f"{kind} {t.status.value}"
            outcome[key] = outcome.get(key, 0) + 1
        if all(t.status == TransferStatus.SUCCEEDED for t in live):
            delivered += 1
        else:
            failed += 1
            live_failed += [
                f"run {instance.id} -> {t.destination_name}: {t.error}"
                for t in live
                if t.status != TransferStatus.SUCCEEDED
            ]
    rss_end = {pid: rss_kib(pid) for pid in rss_start if pid != killed}
    drain = (max(ends) - due).total_seconds() if ends else float("nan")
    return {
        "phase": name,
        "runs": len(instances),
        "delivered to every live destination": delivered,
        "failed": failed,
        "stuck": stuck,
        "transfers": outcome,
        "drain seconds (due minute to last transfer end)": round(drain, 1),
        "worker RSS KiB start": rss_start,
        "worker RSS KiB end": rss_end,
        "killed worker": killed,
        "taken back from dead workers by the sweep": swept,
        "re-enqueued by the tick": requeued,
        "failures on live destinations": live_failed[:10],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--syncs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite file)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tests.fixtures.ftps import VsftpdServer
    from tests.fixtures.live_server import worker_environment
    from tests.fixtures.sshd import SshdServer
    from tests.fixtures.sync_types import PLATFORM_TEST_TYPE, TEST_TYPE_KEY

    work = Path(tempfile.mkdtemp(prefix="lsync-soak-"))
    url = args.database_url or f"sqlite:///{work / 'soak.db'}"
    redis = start_redis(work / "redis")
    sshd, spare, vsftpd = SshdServer.create(), SshdServer.create(), VsftpdServer.create()
    import exporters
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models.syncs import Sync

    exporters.registry()[TEST_TYPE_KEY] = PLATFORM_TEST_TYPE
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(work / "instance"),
            "REDIS_URL": redis.url,
            "EXPORT_DIR": str(work / "exports"),
            "QUEUE_PREFIX": "bench-soak",
            "HEARTBEAT_STALE_SECONDS": 20,
            "HEARTBEAT_INTERVAL_SECONDS": 3,
            "TRANSFER_BACKOFF_SECONDS": [0, 0, 0, 0, 0],
            "CONNECTION_TEST_ALLOW": ["127.0.0.1/32"],
        }
    )
    workers: list[subprocess.Popen[bytes]] = []
    results = []
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            syncs = []
            for i in range(args.syncs):
                sync = Sync(type_key=TEST_TYPE_KEY, name=f"Soak {i:02d}", options={"rows": ROWS})
                db.session.add(sync)
                db.session.commit()
                add_destinations(sync, sshd, vsftpd, spare)
                syncs.append(sync)
            env = worker_environment(app)
            workers = [start_worker(env, work / f"worker{i}.log") for i in range(args.workers)]
            time.sleep(3)
            print(
                f"{args.syncs} syncs x 6 destinations, {args.workers} workers, "
                f"{url.split(':', 1)[0]}, load average {os.getloadavg()[0]:.1f}, {work}"
            )
            results.append(phase("all live", syncs, workers, None, kill_one=False))
            spare.stop()
            results.append(
                phase("dead destination + killed worker", syncs, workers, spare.port, True)
            )
        for result in results:
            print(json.dumps(result, indent=2, default=str))
        stuck = sum(r["stuck"] for r in results)
        undelivered = sum(r["failed"] for r in results)
        print(
            f"\nSummary: stuck {stuck} (target 0); runs not delivered to every live "
            f"destination {undelivered} (target 0); load average {os.getloadavg()[0]:.1f}"
        )
        return 0 if stuck == 0 and undelivered == 0 else 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        for server in (sshd, spare, vsftpd):
            server.cleanup()
        redis.stop()


if __name__ == "__main__":
    sys.exit(main())
