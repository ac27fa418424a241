"""Recording bulk loads: the load record and its audit event, committed together.

The load itself commits in batches (``loyalty.loading``), so its record is written after
it, in one transaction of its own; a refused file gets a record too (outcome
``refused``), so every attempt is accounted for.
"""

from __future__ import annotations

from loyalty.loading import LoadResult
from webapp.extensions import db
from webapp.models.loads import LoadRecord
from webapp.models.users import User
from webapp.services import audit


def record_load(
    result: LoadResult,
    *,
    user: User | None = None,
    actor: str | None = None,
    outcome: str | None = None,
) -> LoadRecord:
    name = actor or (user.email if user is not None else audit.cli_actor())
    load = LoadRecord(
        actor=name,
        file_name=result.filename[:255],
        sha256=result.sha256,
        kind=result.kind,
        mode=result.mode,
        dry_run=result.dry_run,
        rows_read=result.read,
        rows_applied=result.applied,
        rows_unchanged=result.unchanged,
        rows_rejected=result.rejected,
        seconds=round(result.seconds, 3),
        outcome=outcome or result.outcome,
        failure=(result.failure or "")[:500] or None,
    )
    db.session.add(load)
    db.session.flush()
    audit.record(
        "loyalty.load",
        obj=load,
        user=user,
        actor=actor,
        detail={
            "kind": result.kind,
            "file": load.file_name,
            "sha256": result.sha256,
            "outcome": load.outcome,
            "read": result.read,
            "applied": result.applied,
            "rejected": result.rejected,
        },
    )
    db.session.commit()
    return load


def record_refusal(
    kind: str, file_name: str, mode: str, dry_run: bool, reason: str, sha256: str = ""
) -> LoadRecord:
    """A file refused as a whole (unknown kind, wrong header): nothing was loaded."""
    result = LoadResult(kind=kind[:40], mode=mode, dry_run=dry_run, filename=file_name)
    result.failure = reason
    result.sha256 = sha256
    return record_load(result, outcome="refused")
