"""This install's id, and the prefix of every name it uses in Redis.

Two installs on one Redis must never see each other's work (issue 15): every queue, job
id, tick id, progress key, lock and rate-limit counter carries ``queue_prefix()``. When
``QUEUE_PREFIX`` is not configured the prefix is ``lsync-<first 12 hex digits of the
installation id>``, the id being a uuid stored in the database (table ``installation``,
created by its migration). Workers and schedulers on other hosts share that database, so
they derive the same prefix with no setting of their own.

The prefix is read once per process (cached on the app) and never changes while it runs.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models.installation import Installation

EXTENSION = "loyalty_sync.queue_prefix"
# What a configured prefix may hold: it ends up in Redis keys, RQ queue names and job ids
# (rows keep job ids in 80 characters).
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class BadPrefix(ValueError):
    """A configured ``QUEUE_PREFIX`` that cannot name Redis keys and job ids."""


def installation_id() -> str:
    """The install's uuid (32 hex digits), created on first use when the row is missing.

    Every process may race to create it; the fixed primary key lets exactly one insert
    win and the others read the winner's id.
    """
    found = db.session.scalar(select(Installation.uuid).where(Installation.id == 1))
    if found:
        return found
    savepoint = db.session.begin_nested()
    try:
        db.session.add(Installation(id=1, uuid=uuid.uuid4().hex))
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
    else:
        savepoint.commit()
    db.session.commit()
    value = db.session.scalar(select(Installation.uuid).where(Installation.id == 1))
    assert value is not None
    return value


def configured_prefix(app: Flask) -> str | None:
    """``QUEUE_PREFIX`` when set (checked), else None (derive it from the id)."""
    value = app.config.get("QUEUE_PREFIX")
    if not value:
        return None
    value = str(value)
    if not PREFIX_PATTERN.match(value):
        raise BadPrefix(
            f"QUEUE_PREFIX {value!r} must be 1-40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return value


def queue_prefix(app: Flask | None = None) -> str:
    """This install's Redis prefix: ``QUEUE_PREFIX``, or ``lsync-<12 hex of its id>``."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached: str | None = app.extensions.get(EXTENSION)
    if cached:
        return cached
    prefix = configured_prefix(app)
    if prefix is None:
        with app.app_context():
            prefix = f"lsync-{installation_id()[:12]}"
    app.extensions[EXTENSION] = prefix
    return prefix


def try_resolve(app: Flask) -> str | None:
    """At start-up: the prefix when the database can tell it now, else None (a fresh
    database before ``flask db upgrade``, or one that does not answer yet); the first
    use resolves it then.

    The connection this opened is closed again (``dispose``), not left in the pool: a
    process that forks after start-up (gunicorn ``--preload``, RQ's work horses) must not
    share it, and an app dropped without use would otherwise leave it open for the
    garbage collector."""
    try:
        return queue_prefix(app)
    except BadPrefix:
        raise
    except Exception:
        return None
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
