"""Fan-out: one run to 1 and to 6 SFTP destinations, and a 1,000,000-member run end to end.

    .venv/bin/python bench/fanout.py [--database bench/results/export-1000000.db] [--rounds 3]
    .venv/bin/python bench/fanout.py --database-url postgresql://postgres@127.0.0.1:5432/lsync_bench_1m

Uses the seeded database bench/export.py leaves in bench/results/ (run that first), a
real OpenSSH sshd on 127.0.0.1 (the test fixture's, with six upload folders), a private
Redis, and six `flask worker` processes, as a deployment with six workers would run.

1. The same member_descriptor sync (the seed's VIP descriptor) delivered to 1 and to 6
   destinations, alternating, `--rounds` times: median seconds from Process New Sync to
   the last transfer's end, and the ratio 6 ÷ 1 (target: at most 1.5).
2. A member_descriptor sync of a descriptor every member holds (1,000,000 rows), gzip +
   PGP, to 6 destinations: build, packaging and transfer times, end to end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devservers.redis import start_redis  # noqa: E402

WORKERS = 6


def add_destinations(sync: Any, sshd: Any, count: int) -> list[Path]:
    from webapp.extensions import db
    from webapp.services import destinations

    folders = []
    for _ in range(count):
        remote, local = sshd.fresh_dir()
        destinations.add_destination(
            sync,
            {
                "name": f"Receiver {remote}",
                "host": sshd.host,
                "protocol": "sftp",
                "port": str(sshd.port),
                "directory": remote,
                "username": sshd.username,
                "password": sshd.password,
                "password_confirm": sshd.password,
                "host_key_fingerprint": sshd.host_key_fingerprint,
                "host_key_type": sshd.host_key_type,
            },
            user=None,
        )
        folders.append(local)
    db.session.commit()
    return folders


def run_once(sync: Any) -> dict[str, float]:
    """Process New Sync and wait for the last transfer; returns the phase times."""
    from webapp.extensions import db
    from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
    from webapp.services import runs

    started = time.perf_counter()
    instance = runs.start_manual_run(sync, user=None, actor="bench")
    while True:
        time.sleep(0.05)
        db.session.expire_all()
        current = db.session.get(SyncInstance, instance.id)
        assert current is not None
        if current.creation_status == CreationStatus.FAILED:
            raise RuntimeError(f"build failed: {current.error}")
        if (
            CreationStatus(current.creation_status).is_final
            and current.transfers
            and all(TransferStatus(t.status).is_final for t in current.transfers)
        ):
            break
    total = time.perf_counter() - started
    failed = [t.error for t in current.transfers if t.status != TransferStatus.SUCCEEDED]
    if failed:
        raise RuntimeError(f"transfers failed: {failed}")
    build = (current.creation_finished_at - current.creation_started_at).total_seconds()  # type: ignore[operator]
    last_end = max(t.finished_at for t in current.transfers if t.finished_at)
    first_start = min(t.started_at for t in current.transfers if t.started_at)
    return {
        "total": total,
        "build": build,
        "transfers": (last_end - first_start).total_seconds(),
        "rows": float(current.rows_written or 0),
        "bytes": float(sum(f.size for f in current.deliverables)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=str(ROOT / "bench" / "results" / "export-1000000.db"))
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL database bench/export.py seeded (instead of --database)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(args.database).resolve()}"
    if not args.database_url and not Path(args.database).exists():
        print(f"{args.database} does not exist: run bench/export.py first (it seeds and keeps it).")
        return 2

    from sqlalchemy import func, select, text

    from loyalty.models import Descriptor, DescriptorAssignment, Member
    from tests.fixtures.gpg import GpgRecipient
    from tests.fixtures.live_server import start_worker
    from tests.fixtures.sshd import SshdServer
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models.syncs import Compression, Encryption, Sync
    from webapp.services import recipients

    work = Path(tempfile.mkdtemp(prefix="lsync-bench-fanout-"))
    redis = start_redis(work / "redis")
    sshd = SshdServer.create()
    recipient = GpgRecipient.create()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(work / "instance"),
            "REDIS_URL": redis.url,
            "EXPORT_DIR": str(work / "exports"),
            "QUEUE_PREFIX": "bench-fanout",
        }
    )
    workers = []
    try:
        with app.app_context():
            members = db.session.scalar(select(func.count()).select_from(Member)) or 0
            everyone = db.session.scalar(select(Descriptor).where(Descriptor.ext_ref == "BENCHALL"))
            if everyone is None:
                everyone = Descriptor(ext_ref="BENCHALL", name="Every member (benchmark)")
                db.session.add(everyone)
                db.session.commit()
                db.session.execute(
                    text(
                        "INSERT INTO descriptor_assignments (member_id, descriptor_id, assigned_at, expires_on, source, updated_at) "
                        "SELECT id, :d, CURRENT_TIMESTAMP, NULL, 'import', CURRENT_TIMESTAMP FROM members"
                    ),
                    {"d": everyone.id},
                )
                db.session.commit()
            vip = db.session.scalar(select(Descriptor).where(Descriptor.ext_ref == "VIP"))
            assert vip is not None
            vip_members = db.session.scalar(
                select(func.count())
                .select_from(DescriptorAssignment)
                .where(DescriptorAssignment.descriptor_id == vip.id)
            )
            one = Sync(
                type_key="member_descriptor",
                name="bench 1 destination",
                scope={"descriptor_id": vip.id},
            )
            six = Sync(
                type_key="member_descriptor",
                name="bench 6 destinations",
                scope={"descriptor_id": vip.id},
            )
            big = Sync(
                type_key="member_descriptor",
                name="bench 1M gzip+pgp",
                scope={"descriptor_id": everyone.id},
                compression=Compression.GZIP,
            )
            db.session.add_all([one, six, big])
            db.session.commit()
            add_destinations(one, sshd, 1)
            add_destinations(six, sshd, 6)
            add_destinations(big, sshd, 6)
            recipients.add_recipient_key(big, recipient.armored_public, user=None)
            big.encryption = Encryption.PGP
            db.session.commit()
            workers = [start_worker(app, work / f"worker{i}.log") for i in range(WORKERS)]
            time.sleep(1)
            print(
                f"{members:,} members in {url.rsplit('/', 1)[-1]}; VIP descriptor: {vip_members:,} members; "
                f"{WORKERS} workers; load average {os.getloadavg()[0]:.1f}\n"
            )
            timings: dict[str, list[dict[str, float]]] = {"1": [], "6": []}
            for _ in range(args.rounds):
                timings["1"].append(run_once(one))
                timings["6"].append(run_once(six))
            print(
                f"{'destinations':<14}{'rows':>10}{'MB':>8}{'median total s':>16}{'build s':>9}{'transfers s':>13}"
            )
            for label, runs_ in timings.items():
                med = statistics.median(r["total"] for r in runs_)
                print(
                    f"{label:<14}{runs_[0]['rows']:>10,.0f}{runs_[0]['bytes'] / 1e6:>8.1f}{med:>16.2f}"
                    f"{statistics.median(r['build'] for r in runs_):>9.2f}{statistics.median(r['transfers'] for r in runs_):>13.2f}"
                )
            ratio = statistics.median(r["total"] for r in timings["6"]) / statistics.median(
                r["total"] for r in timings["1"]
            )
            print(f"\n6 destinations take {ratio:.2f}x the time of 1 (target: at most 1.5x)\n")
            result = run_once(big)
            print(
                f"member_descriptor, {result['rows']:,.0f} members, gzip + PGP, 6 SFTP destinations:"
            )
            print(
                f"  end to end {result['total']:.1f} s = build (export + gzip + PGP) {result['build']:.1f} s"
                f" + transfers {result['transfers']:.1f} s; deliverable {result['bytes'] / 1e6:.1f} MB"
            )
    finally:
        for worker in workers:
            worker.stop()
        sshd.cleanup()
        recipient.close()
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
