"""Export speed and memory per sync type on a seeded program, against the database's own
export tool running the same rows in the same run.

    .venv/bin/python bench/export.py                          # 1,000,000 members, SQLite
    .venv/bin/python bench/export.py --members 100000 --types member_rfm,transaction
    .venv/bin/python bench/export.py --database-url postgresql://postgres@127.0.0.1:5432/lsync_bench

1. Seeds a program (``loyalty.demo.seed``; reuses the database file / database when it
   already holds one), then records a year of history in the change log, as if every
   seeded member, transaction, interaction, reward event, case event, survey answer and
   ranking had been captured (the seed itself writes no change log), so the incremental
   types have a year of work on their first run.
2. For each type: a sync bound to the descriptor / ranking set / campaign / promotion
   with the most members; the export runs in a fresh child process (its peak RSS is its own), and the
   type's ``reference_queries`` — the same rows, formatted the same way — run through the
   `sqlite3` shell (``.mode list``, ``.separator |``) or PostgreSQL ``COPY (…) TO STDOUT``.
3. Prints rows/s for both, the ratio (ours ÷ tool; 1.0 = as fast as the database's own
   export), and our peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The scope object each type is bound to: the one with the most members.
SCOPES = {
    "descriptor_id": "SELECT descriptor_id FROM descriptor_assignments GROUP BY descriptor_id ORDER BY count(*) DESC, descriptor_id LIMIT 1",
    "ranking_set_id": "SELECT ranking_set_id FROM member_rankings GROUP BY ranking_set_id ORDER BY count(*) DESC, ranking_set_id LIMIT 1",
    "campaign_id": "SELECT campaign_id FROM campaign_members GROUP BY campaign_id ORDER BY count(*) DESC, campaign_id LIMIT 1",
    "promotion_id": "SELECT promotion_id FROM promotion_members GROUP BY promotion_id ORDER BY count(*) DESC, promotion_id LIMIT 1",
}

BACKFILL = [
    # (kind, code expression, member id, subject, subject2, occurred_at, from)
    ("member", "'1'", "id", "NULL", "NULL", "enrolled_at", "members"),
    ("transaction", "'POST'", "member_id", "id", "NULL", "occurred_at", "transactions"),
    ("interaction", "'NEW'", "member_id", "id", "NULL", "occurred_at", "interactions"),
    (
        "reward",
        "CASE e.kind WHEN 'issued' THEN '1' WHEN 'redeemed' THEN '2' WHEN 'cancelled' THEN '3' "
        "WHEN 'redemption_reversed' THEN '4' WHEN 'expired' THEN '5' ELSE '7' END",
        "r.member_id",
        "e.reward_id",
        "e.id",
        "e.occurred_at",
        "reward_events e JOIN rewards r ON r.id = e.reward_id",
    ),
    (
        "case",
        "e.action",
        "c.member_id",
        "e.case_id",
        "e.id",
        "e.occurred_at",
        "case_events e JOIN cases c ON c.id = e.case_id",
    ),
    ("survey", "'ANSW'", "member_id", "id", "question_id", "answered_at", "question_answers"),
    (
        "ranking",
        "'ENTR'",
        "member_id",
        "ranking_set_id",
        "level_id",
        "set_joined_at",
        "member_rankings",
    ),
]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_app(url: str, instance: Path) -> Any:
    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance)})


def prepare(url: str, instance: Path, members: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from loyalty.demo.seed import seed
    from loyalty.models import ChangeLog, Member
    from webapp.extensions import db

    app = make_app(url, instance)
    with app.app_context():
        upgrade()
        have = db.session.scalar(select(func.count()).select_from(Member))
        db.session.rollback()  # the seed restructures tables: hold no lock on them
        if not have:
            started = time.perf_counter()
            seed(db.engine, members, seed=1, workers=os.cpu_count() or 1, progress=print)
            print(f"seeded {members:,} members in {time.perf_counter() - started:.0f} s")
        if not db.session.scalar(select(func.count()).select_from(ChangeLog)):
            started = time.perf_counter()
            with db.engine.begin() as conn:
                for kind, code, member, subject, subject2, at, source in BACKFILL:
                    conn.execute(
                        text(
                            "INSERT INTO change_log (occurred_at, kind, code, member_id, subject_id, subject2_id) "
                            f"SELECT {at}, '{kind}', {code}, {member}, {subject}, {subject2} FROM {source} ORDER BY {at}"
                        )
                    )
            count = db.session.scalar(select(func.count()).select_from(ChangeLog))
            print(
                f"recorded a year of history in the change log: {count:,} rows in {time.perf_counter() - started:.0f} s"
            )
        db.engine.dispose()


def child(url: str, instance: Path, key: str, out: Path) -> None:
    """Run one export (a fresh process, so its peak memory is its own) and print JSON."""
    from sqlalchemy import text

    import exporters
    from loyalty.db import utcnow
    from loyalty.engine import read_snapshot
    from webapp.extensions import db
    from webapp.models.syncs import Sync
    from webapp.services.exports import export_sync

    app = make_app(url, instance)
    with app.app_context():
        sync_type = exporters.get(key)
        scope: dict[str, Any] = {}
        if sync_type.scope is not None:
            scope[sync_type.scope.key] = db.session.scalar(text(SCOPES[sync_type.scope.key]))
        sync = Sync(
            type_key=key,
            name=f"bench {key}",
            scope=scope,
            options=sync_type.default_options(),
            timezone="UTC",
        )
        baseline = peak_rss_mb()
        started = time.perf_counter()
        with read_snapshot(db.engine) as connection:
            result = export_sync(app, sync, connection, out, utcnow())
        seconds = time.perf_counter() - started
        references = []
        if sync_type.reference_queries is not None:
            from sqlalchemy.orm import Session

            from exporters.base import ExportContext

            with read_snapshot(db.engine) as connection:
                session = Session(bind=connection)
                context = ExportContext(
                    session=session,
                    sync_id=0,
                    instance_id=None,
                    scope=scope,
                    options=sync.options,
                    run_started_at=utcnow(),
                    timezone="UTC",
                    out_dir=out,
                    watermark=None,
                )
                for query in sync_type.reference_queries(context):
                    references.append(
                        str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
                    )
                session.close()
    print(
        json.dumps(
            {
                "rows": result.rows,
                "files": len(result.files),
                "bytes": sum(f.path.stat().st_size for f in result.files),
                "seconds": seconds,
                "peak_mb": peak_rss_mb(),
                "baseline_mb": baseline,
                "references": references,
            }
        )
    )


def reference_seconds(url: str, queries: list[str], workdir: Path) -> tuple[float, int]:
    """Time the database's own export tool on the same queries; returns (seconds, lines)."""
    lines = 0
    started = time.perf_counter()
    for query in queries:
        target = workdir / "reference.txt"
        if url.startswith("sqlite"):
            path = url.split("sqlite:///", 1)[1]
            script = f".mode list\n.separator |\n.output {target}\n{query};\n"
            subprocess.run(["sqlite3", path], input=script, text=True, check=True)
        else:
            plain = url.replace("postgresql+psycopg://", "postgresql://")
            with target.open("wb") as handle:
                subprocess.run(
                    [
                        "psql",
                        plain,
                        "-X",
                        "-q",
                        "-c",
                        f"COPY ({query}) TO STDOUT WITH (FORMAT text, DELIMITER '|')",
                    ],
                    stdout=handle,
                    check=True,
                )
        with target.open("rb") as handle:
            lines += sum(1 for _ in handle)
    return time.perf_counter() - started, lines


def create_database_if_missing(url: str) -> None:
    """A PostgreSQL bench database is kept between runs (like the SQLite file)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: bench/results/export-<members>.db (kept for reruns)",
    )
    parser.add_argument("--types", default="", help="comma-separated keys (default: all)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--instance", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{results_dir / f'export-{args.members}.db'}"
    if args.child:
        child(url, Path(args.instance), args.child, Path(args.out))
        return 0

    import exporters

    work = Path(tempfile.mkdtemp(prefix="lsync-bench-export-"))
    instance = work / "instance"
    if url.startswith("postgresql"):
        create_database_if_missing(url)
    prepare(url, instance, args.members)
    keys = [k for k in args.types.split(",") if k] or [t.key for t in exporters.all_types()]
    print(
        f"\n{args.members:,} members, {url.split('/')[-1] if url.startswith('sqlite') else url.split('@')[-1]}, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    tool = "sqlite3" if url.startswith("sqlite") else "COPY"
    print(
        f"{'type':<34}{'rows':>11}{'ours rows/s':>13}{tool + ' rows/s':>15}{'ratio':>8}{'peak MB':>9}"
    )
    for key in keys:
        out = work / key
        out.mkdir()
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                key,
                "--database-url",
                url,
                "--instance",
                str(instance),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if completed.returncode != 0:
            print(f"{key:<34} FAILED: {completed.stderr.strip().splitlines()[-1:]}")
            continue
        stats = json.loads(completed.stdout.strip().splitlines()[-1])
        ours = stats["rows"] / stats["seconds"] if stats["seconds"] else 0
        ref_text = ratio_text = "-"
        if stats["references"]:
            seconds, lines = reference_seconds(url, stats["references"], work)
            reference_rate = lines / seconds if seconds else 0
            ref_text = f"{reference_rate:,.0f}"
            ratio_text = f"{ours / reference_rate:.2f}" if reference_rate else "-"
        print(
            f"{key:<34}{stats['rows']:>11,}{ours:>13,.0f}{ref_text:>15}{ratio_text:>8}{stats['peak_mb']:>9.0f}",
            flush=True,
        )
        for file in out.iterdir():
            file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
