"""Loyalty Sync web application.

``create_app`` assembles the app: configuration, extensions, blueprints, CLI commands
and error pages. Nothing happens at import time, so tests can build many apps and
workers can import the package before creating theirs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides everything; its ``INSTANCE_PATH`` (or the
    ``LOYALTY_SYNC_INSTANCE_PATH`` environment variable) moves the instance folder."""
    import os

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "LOYALTY_SYNC_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
    )

    from webapp.config import load_config

    load_config(app, config)

    from webapp import models  # noqa: F401  (registers every table on the metadata)
    from webapp.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from loyalty.engine import install_engine_hooks

    # Before anything opens a connection (try_resolve below does): a pooled connection
    # made without these hooks would run without foreign keys, WAL or lsync_localtime.
    with app.app_context():
        install_engine_hooks(db.engine)
    from sqlalchemy.orm import Session

    from webapp.services.run_status import install as install_run_status

    install_run_status(Session)  # run numbers and stored outcomes, on every flush
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from webapp.services.installation import try_resolve

    # The install's Redis prefix, when the database can tell it now (else on first use);
    # the rate limiter takes its key prefix once, here.
    prefix = try_resolve(app)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{prefix or 'lsync'}-limits")
    limiter.init_app(app)
    # The limiter is one object per process and remembers a storage outage (it then counts
    # in memory until Redis answers again). A new app starts on its own storage: an outage
    # seen under an earlier app in this process (the tests build many) must not carry over
    # and switch back to Redis in the middle of this app's counting.
    limiter._storage_dead = False
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from webapp.services.redis_client import init_redis

    init_redis(app)

    from webapp.auth_setup import install_login

    install_login(app)

    from webapp.blueprints import register_blueprints

    register_blueprints(app)

    from webapp.errors import install_error_handlers

    install_error_handlers(app)

    from webapp.api import init_api

    init_api(app)  # /api/v1 (after the error pages: it answers its own errors in JSON)

    from webapp.request_guards import install_request_guards

    install_request_guards(app)

    from webapp.cli import register_cli

    register_cli(app)
    return app


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
