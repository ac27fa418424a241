"""How a job's unexpected error reads on its run or transfer row (and in the notice), and
how a job records its outcome across a database restart."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app

from delivery.errors import DeliveryError
from jobs.lease import LeaseLost


def describe(exc: BaseException) -> str:
    """The message of a lost lease or a delivery error as it is; else ``Type: message``."""
    if isinstance(exc, LeaseLost | DeliveryError):
        return str(getattr(exc, "message", None) or exc)
    return f"{type(exc).__name__}: {exc}"


def is_database_outage(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised from) is the database going away: a
    restart, a failover, a cut connection, rather than a bad statement."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OperationalError | InterfaceError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def database_lost(exc: BaseException, what: str) -> str:
    """The run's error when the database went away under it."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = first[0][:200] if first else type(exc).__name__
    return (
        f"The database connection was lost while {what} ({detail}). "
        "Nothing of this run was kept; the next run includes everything this one would have."
    )


def until_database_answers(record: Callable[[], None], give_up_after: float = 120.0) -> None:
    """Run ``record`` (which writes a job's outcome), trying again while the database is
    away, so that a restart of PostgreSQL does not leave the row "running" until the
    sweeper takes its worker for dead. Re-raises anything else, or after
    ``give_up_after`` seconds (then the sweeper does take over)."""
    from webapp.extensions import db

    delay = 0.5
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            record()
            return
        except Exception as exc:
            if not is_database_outage(exc) or time.monotonic() > deadline:
                raise
            current_app.logger.warning(
                "The database is not answering; recording the outcome again in %.1f s", delay
            )
            try:
                db.session.rollback()
            except Exception:
                db.session.remove()
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
