"""`make run`: everything a new user needs, started with one command.

1. Redis: the one at REDIS_URL when it answers, else a private redis-server (from PATH)
   on a free port with a password generated for this start, data in var/redis, stopped
   on exit.
2. The database: migrated; a first support user created when there is none (its
   password is printed once).
3. The demo (unless DEMO=0): a small seeded program, a few demo syncs, and demo SFTP and
   FTPS receivers on 127.0.0.1 writing into var/demo-receivers/.
4. honcho starts the web app (http://127.0.0.1:5000), three RQ workers (so transfers to
   several destinations run in parallel), the scheduler, and the demo receivers, from
   the Procfile.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devservers.redis import RedisUnavailable, answers, redacted, start_redis  # noqa: E402

# RQ workers: transfers to several destinations run in parallel, one per worker.
WORKERS = 3


def main() -> int:
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("FLASK_APP", "wsgi")
    env.setdefault("PORT", "5000")
    env.setdefault("PYTHONUNBUFFERED", "1")

    redis_url = (
        env.get("LOYALTY_SYNC_REDIS_URL") or env.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    private = None
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

    demo = env.get("DEMO", "1") != "0"
    if demo:
        # The demo receivers listen on 127.0.0.1, which Test connection refuses by default.
        env.setdefault("LOYALTY_SYNC_CONNECTION_TEST_ALLOW", '["127.0.0.1/32"]')
    flask = str(bin_dir / "flask")
    try:
        subprocess.run([flask, "ops", "bootstrap"], env=env, cwd=ROOT, check=True)
        if demo:
            subprocess.run([flask, "demo", "setup"], env=env, cwd=ROOT, check=True)
        print(f"Open http://127.0.0.1:{env['PORT']} and log in. Ctrl-C stops everything.")
        processes = ["web", "worker", "scheduler", *(["receivers"] if demo else [])]
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
        if private is not None:
            private.stop()


if __name__ == "__main__":
    sys.exit(main())
