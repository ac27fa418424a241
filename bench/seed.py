"""Seed a fresh database with a loyalty program and report time and peak memory.

    python bench/seed.py                       # 1,000,000 members into a fresh SQLite file
    python bench/seed.py --members 100000 --postgres postgresql://postgres@127.0.0.1:5432/postgres

SQLite: a new file in a temporary folder (deleted afterwards unless --keep). PostgreSQL
(optional): a scratch database created next to the given URL's and dropped afterwards.
The schema is built by the real migrations, then ``loyalty.demo.seed`` fills it.
Peak memory is the maximum resident set size of this process and, separately, of the
largest generator worker process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _run(url: str, args: argparse.Namespace, instance: Path) -> None:
    from flask_migrate import upgrade

    from loyalty.demo.seed import seed
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        migrated = time.perf_counter() - started
        result = seed(
            db.engine,
            args.members,
            seed=args.seed,
            as_of=date.fromisoformat(args.as_of) if args.as_of else None,
            chunk_size=args.chunk_size,
            workers=args.workers,
            progress=print,
        )
        db.engine.dispose()
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = usage_self.ru_maxrss / 1024
    workers = usage_children.ru_maxrss / 1024
    cpu_self = usage_self.ru_utime + usage_self.ru_stime
    cpu_children = usage_children.ru_utime + usage_children.ru_stime
    load = os.getloadavg()[0]
    print()
    print(f"database          {url.split('@')[-1] if '@' in url else url}")
    print(f"members           {result.members:,}")
    print(f"rows              {result.total_rows:,}")
    print(f"migrations        {migrated:.1f} s")
    print(
        f"seed              {result.seconds:.1f} s  ({result.members / result.seconds:,.0f} members/s, "
        f"{result.total_rows / result.seconds:,.0f} rows/s)"
    )
    print(f"peak RSS          {own:,.0f} MiB (this process), {workers:,.0f} MiB (largest worker)")
    # CPU time does not depend on what else the machine runs; wall time does.
    print(
        f"CPU time          {cpu_self:,.0f} s (this process, incl. migrations) + {cpu_children:,.0f} s (workers)"
    )
    print(f"load average      {load:.1f} (1 min, at the end)")
    if url.startswith("sqlite:///"):
        size = sum(p.stat().st_size for p in Path(url[len("sqlite:///") :]).parent.glob("*.db*"))
        print(f"database size     {size / 2**20:,.0f} MiB")
    print("rows per table:")
    for table, count in sorted(result.rows.items(), key=lambda item: -item[1]):
        print(f"  {table:32} {count:>12,}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", help="YYYY-MM-DD the seeded history ends (default today)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument(
        "--postgres", metavar="URL", help="also seed a scratch database on this server"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite file / PostgreSQL database"
    )
    args = parser.parse_args()

    if not args.skip_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="lsync-bench-seed-"))
        try:
            _run(f"sqlite:///{folder / 'bench.db'}", args, folder / "instance")
        finally:
            if args.keep:
                print(f"kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
    if args.postgres:
        _postgres(args)


def _postgres(args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"lsync_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    folder = Path(tempfile.mkdtemp(prefix="lsync-bench-seed-pg-"))
    try:
        print()
        _run(url.set(database=name).render_as_string(hide_password=False), args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
