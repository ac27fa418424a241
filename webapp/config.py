"""Configuration: defaults, then environment variables, then the mapping a test passes.

Environment variables use the prefix ``LOYALTY_SYNC_`` (``LOYALTY_SYNC_EXPORT_DIR=...``);
values are parsed as JSON when they look like JSON, as Flask's ``from_prefixed_env`` does.
The conventional unprefixed ``DATABASE_URL`` and ``REDIS_URL`` are honoured too, because
every hosting platform sets those.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from webapp.file_modes import apply_umask, private_dir, private_sqlite_file

ENV_PREFIX = "LOYALTY_SYNC"

DEFAULTS: dict[str, Any] = {
    # Filled from instance/secret_key on first start when not given.
    "SECRET_KEY": None,
    # sqlite:///<instance>/loyalty_sync.db when not given.
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # Prefix of every Redis name this install uses (queues, job ids, the tick, progress,
    # locks, rate limits), so that installs sharing one Redis never see each other's work.
    # None: "lsync-<12 hex digits of the installation id>" (stored in the database, so
    # workers on other hosts derive the same; see webapp.services.installation).
    "QUEUE_PREFIX": None,
    # Where runs keep their original and deliverable files; <instance>/exports when not given.
    "EXPORT_DIR": None,
    # The umask of every process that creates the app (web, workers, scheduler, CLI), as
    # octal digits: 077 makes new exports and databases 0600 and folders 0700. "inherit"
    # keeps the process's own. The instance and export folders and a SQLite file are made
    # 0700/0600 either way (webapp/file_modes.py).
    "UMASK": "077",
    # Fernet keys (url-safe base64, newest first) for secrets at rest. Empty: the key file
    # <instance>/secrets.key is used (created with mode 0600 on first start).
    "SECRETS_KEYS": [],
    # Private GnuPG home for PGP encryption; <instance>/gnupg when not given.
    "GNUPG_HOME": None,
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # Cookies only over HTTPS. None: on when PUBLIC_BASE_URL starts with https:// (production).
    "SESSION_COOKIE_SECURE": None,
    "REMEMBER_COOKIE_SECURE": None,
    # A session ends this long after login (absolute) and after this long without a request.
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "SESSION_IDLE_SECONDS": 3600,
    # Proxies in front of the app that set X-Forwarded-For/-Proto (TLS terminated there):
    # 0 trusts no header; 1 for one nginx/Caddy/load balancer. Wraps the app in ProxyFix.
    "PROXY_COUNT": 0,
    # Strict-Transport-Security max-age, sent on HTTPS requests only (0: no header).
    "HSTS_SECONDS": 31536000,
    # Largest request body (the biggest legitimate one is a pasted or uploaded key).
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Login throttling, in Flask-Limiter's notation; only failed logins count. A blocked
    # try gets 429 with Retry-After and is not even hashed.
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 15 minutes",
    # Rate limits live in Redis; None: REDIS_URL.
    "RATELIMIT_STORAGE_URI": None,
    # Test connection: attempts per user, and which addresses it may reach. An address in
    # CONNECTION_TEST_DENY is refused unless it is in CONNECTION_TEST_ALLOW; a non-empty
    # CONNECTION_TEST_ALLOW refuses every address outside it. The default denies loopback,
    # link-local (cloud metadata at 169.254.169.254 included), unspecified and other
    # metadata addresses, so the test cannot probe this machine or its cloud.
    "CONNECTION_TEST_LIMIT": "10 per minute; 60 per hour",
    "CONNECTION_TEST_ALLOW": [],
    "CONNECTION_TEST_DENY": [
        "127.0.0.0/8",
        "::1/128",
        "0.0.0.0/8",
        "::/128",
        "169.254.0.0/16",
        "fe80::/10",
        "100.100.100.200/32",
        "fd00:ec2::254/128",
        "::ffff:127.0.0.0/104",
        "::ffff:169.254.0.0/112",
    ],
    # Seconds a connection test may wait for a worker before it is given up.
    "CONNECTION_TEST_QUEUE_SECONDS": 60,
    # Transfers: seconds to wait before retry 1, 2, ... of a failed attempt.
    "TRANSFER_BACKOFF_SECONDS": [60, 120, 240, 480, 960],
    # A build or transfer whose heartbeat is older than this is taken for dead.
    "HEARTBEAT_STALE_SECONDS": 120,
    "HEARTBEAT_INTERVAL_SECONDS": 15,
    # Failure notices.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": "loyalty-sync@localhost",
    # Absolute base URL used in links inside failure notices.
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # Database id of this loyalty program (the {Database #} token of some file names).
    "DATABASE_NUMBER": 1,
    # Zone of the loyalty database's own timestamps ("database timezone" in the layouts).
    "DATABASE_TIMEZONE": "UTC",
    # Corporate zone (Future Point Expiration file names).
    "CORPORATE_TIMEZONE": "UTC",
    # Start demo receivers and demo syncs (make run).
    "DEMO": False,
    # /readyz: a worker must have been seen, and the minute tick run, this recently.
    "READY_WORKER_SECONDS": 60,
    "READY_TICK_SECONDS": 180,
    # /metrics answers a request with "Authorization: Bearer <METRICS_TOKEN>" or from an
    # address in METRICS_ALLOW (CIDRs); neither set: it refuses everyone.
    "METRICS_TOKEN": None,
    "METRICS_ALLOW": [],
}


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply defaults < environment < overrides, then fill the instance-folder defaults."""
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env(ENV_PREFIX)
    for plain in ("DATABASE_URL", "REDIS_URL"):
        value = os.environ.get(plain)
        prefixed = f"{ENV_PREFIX}_{plain}"
        if value and prefixed not in os.environ:
            key = "SQLALCHEMY_DATABASE_URI" if plain == "DATABASE_URL" else plain
            app.config[key] = value
    if os.environ.get(f"{ENV_PREFIX}_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ[f"{ENV_PREFIX}_DATABASE_URL"]
    if overrides:
        app.config.update(overrides)

    apply_umask(app.config.get("UMASK"))
    instance = Path(app.instance_path)
    private_dir(instance)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'loyalty_sync.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret(instance / "secret_key")
    if not app.config.get("EXPORT_DIR"):
        app.config["EXPORT_DIR"] = str(instance / "exports")
    # A share not mounted yet: the run that needs it fails then, with the reason.
    with contextlib.suppress(OSError):
        private_dir(Path(app.config["EXPORT_DIR"]))
    if not app.config.get("GNUPG_HOME"):
        app.config["GNUPG_HOME"] = str(instance / "gnupg")
    keys = app.config.get("SECRETS_KEYS") or []
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    app.config["SECRETS_KEYS"] = keys
    https = str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    for cookie in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(cookie) is None:
            app.config[cookie] = https
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not make the login page a 500 (Flask-Limiter's storage error would
    # escape its after-request hook): the limits fall back to this process's memory, so
    # login throttling still holds per process until Redis answers again.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})
    else:
        # A database server that restarted leaves the pool's connections dead: test each
        # one before use (a dead one is replaced) rather than failing the next request or
        # job with "server closed the connection unexpectedly" (issue 15, item 3).
        options.setdefault("pool_pre_ping", True)
        # An unreachable server must fail fast (``/readyz`` answers 503, a page its error)
        # instead of waiting for the operating system's TCP timeout of minutes.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", 5)
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def normalise_database_url(url: str) -> str:
    """Select psycopg 3 for PostgreSQL URLs given in the common ``postgres://`` forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def read_or_create_secret(path: Path, make: Callable[[], str] | None = None) -> str:
    """Return the secret stored in ``path``, creating it (mode 0600) on first use.

    The web app, the worker and the scheduler start together; whichever comes first
    creates the file (atomically, by link), the others read what it wrote.
    """
    if not path.exists():
        value = make() if make else secrets.token_urlsafe(48)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
