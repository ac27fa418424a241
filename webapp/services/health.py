"""Liveness and readiness: what ``/healthz``, ``/readyz``, ``flask ops status`` and the
console's Status page report.

Ready means the installation can do its work: the database answers, Redis answers, at
least one RQ worker on this installation's queues was seen within
``READY_WORKER_SECONDS`` (``flask worker`` heartbeats at least every 45 s, idle or not),
and the minute tick ran within ``READY_TICK_SECONDS``. Each check is cheap (one query,
one PING, one small scan of the worker registry), so a load balancer may ask every few
seconds. What a check says names the part that failed and never a URL or a password.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import text

from loyalty.db import utcnow
from webapp.extensions import db
from webapp.services.dispatch import worker_queue_names
from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    state: str
    queues: list[str]
    last_seen: datetime | None
    age_seconds: float | None


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Readiness:
    ready: bool
    checks: list[Check]
    workers: list[WorkerSeen] = field(default_factory=list)
    last_tick: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
            "workers": [
                {**asdict(w), "last_seen": w.last_seen.isoformat() if w.last_seen else None}
                for w in self.workers
            ],
            "last_tick": self.last_tick.isoformat() if self.last_tick else None,
        }


def tick_key() -> str:
    return f"{queue_prefix()}-last-tick"


def record_tick(now: datetime) -> None:
    """Called by the minute tick: when it last ran, for readiness and the console."""
    redis_client().set(tick_key(), now.isoformat(), ex=24 * 3600)


def last_tick() -> datetime | None:
    raw = redis_client().get(tick_key())
    if not raw:
        return None
    value = datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def workers(now: datetime) -> list[WorkerSeen]:
    """The RQ workers registered on this installation's queues, newest heartbeat first."""
    from rq import Worker

    ours = set(worker_queue_names())
    seen = []
    for worker in Worker.all(connection=redis_client()):
        queues = worker.queue_names()
        if not ours & set(queues):
            continue
        beat = worker.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        state = worker.get_state()
        seen.append(
            WorkerSeen(
                name=worker.name,
                state=str(getattr(state, "value", state)),
                queues=list(queues),
                last_seen=beat,
                age_seconds=(now - beat).total_seconds() if beat else None,
            )
        )
    return sorted(seen, key=lambda w: w.age_seconds if w.age_seconds is not None else 1e12)


def readiness(now: datetime | None = None) -> Readiness:
    now = now or utcnow()
    checks: list[Check] = []
    try:
        db.session.execute(text("SELECT 1"))
        checks.append(Check("database", True, "answers"))
    except Exception as exc:  # any driver error means "not ready", said plainly
        db.session.rollback()
        checks.append(Check("database", False, f"does not answer ({type(exc).__name__})"))
    try:
        redis_client().ping()
    except Exception as exc:
        checks.append(Check("redis", False, f"does not answer ({type(exc).__name__})"))
        checks.append(Check("workers", False, "unknown: Redis does not answer"))
        checks.append(Check("tick", False, "unknown: Redis does not answer"))
        return Readiness(False, checks)
    checks.append(Check("redis", True, "answers"))
    worker_limit = float(current_app.config["READY_WORKER_SECONDS"])
    seen = workers(now)
    fresh = [w for w in seen if w.age_seconds is not None and w.age_seconds <= worker_limit]
    if fresh:
        checks.append(Check("workers", True, f"{len(fresh)} seen in the last {worker_limit:.0f} s"))
    else:
        checks.append(
            Check(
                "workers",
                False,
                f"no worker seen in the last {worker_limit:.0f} s ({len(seen)} registered)",
            )
        )
    tick = last_tick()
    tick_limit = float(current_app.config["READY_TICK_SECONDS"])
    if tick is None:
        checks.append(Check("tick", False, "the minute tick has not run (is the scheduler up?)"))
    else:
        age = (now - tick).total_seconds()
        checks.append(
            Check(
                "tick",
                age <= tick_limit,
                f"last ran {age:.0f} s ago"
                + ("" if age <= tick_limit else f" (more than {tick_limit:.0f} s)"),
            )
        )
    return Readiness(all(c.ok for c in checks), checks, seen, tick)
