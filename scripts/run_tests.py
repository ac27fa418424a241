"""`make test`: the whole suite on SQLite, then again on PostgreSQL when one answers.

The PostgreSQL pass repeats every test that touches the database (tests marked
``nodb`` ran once already). It uses TEST_DATABASE_URL, or the server at
127.0.0.1:5432 when one answers there; each run creates fresh databases and drops
them at the end.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/lsync_test"


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    try:
        import psycopg

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        base, _, _ = conninfo.rpartition("/")
        with psycopg.connect(f"{base}/postgres", connect_timeout=3):
            return url
    except Exception as exc:
        print(
            f"PostgreSQL pass: no server answers at {url.split('@')[-1]} ({exc.__class__.__name__})."
        )
        return None


def pytest(args: list[str], env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "pytest", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.call(command, env=env)


def tracked_state() -> str | None:
    """What git sees of the tracked files (status and diff), or None outside a checkout."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        diff = subprocess.run(["git", "diff", "--binary"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return status + hashlib.sha256(diff).hexdigest()


def tree_left_clean(before: str | None) -> bool:
    """Tests must leave every tracked file as they found it (a run that rewrites one is a
    defect: CI's checkout, and a developer's uncommitted work, must not change under them)."""
    after = tracked_state()
    if before is None or after == before:
        return True
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout
    print(f"The test run changed tracked files:\n{changed}", file=sys.stderr)
    return False


def main() -> int:
    extra = sys.argv[1:]
    before = tracked_state()
    # Four processes on a two-core machine: most tests wait on real servers (sshd, vsftpd,
    # Redis, PostgreSQL, gpg, Chromium) rather than compute; two used about one core.
    workers = ["-n", os.environ.get("TEST_WORKERS", "4"), "--dist", "loadfile"]
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    started = time.monotonic()
    status = pytest([*workers, *extra], env)
    print(
        f"SQLite pass: {'passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s"
    )
    url = postgres_url()
    if url is None:
        return status or (0 if tree_left_clean(before) else 1)
    started = time.monotonic()
    pg_status = pytest([*workers, "-m", "not nodb", *extra], {**env, "TEST_DATABASE_URL": url})
    print(
        f"PostgreSQL pass: {'passed' if pg_status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s"
    )
    return status or pg_status or (0 if tree_left_clean(before) else 1)


if __name__ == "__main__":
    sys.exit(main())
