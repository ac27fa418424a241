"""A run's combined status, defined once (issue 14, item 2 and defects 1, 3, 9).

A run is two things: its file creation and one transfer per destination (the newest
round of each). People want one answer: "Delivered 6/6", "Partly failed · 4/6",
"Retrying · 1 · 2 failed", "Failed", "Waiting", "Running", "Cancelled". ``status_of``
computes it from the run and its transfers; every template (the ``run_status`` filter),
the CLI and the e-mails call it, so no page says "Complete" where another says
"succeeded".

The outcome (the first word) is also stored on the run (``SyncInstance.outcome``) so the
Runs page can filter 100,000 runs by it with an index. It is recomputed after every flush
that touches a run or a transfer (``install``), so every writer, the worker's ORM commits
included, keeps it right without knowing about it; a writer that changes a status with a
Core UPDATE (the atomic claims in ``run_actions`` and the jobs) calls ``refresh``.

Runs are numbered per sync ("Run 3" of this sync) at creation, from ``Sync.runs_created``
bumped by one UPDATE in the same transaction as the insert: two creators serialize on
the sync row, and a rolled-back insert (a second scheduler's duplicate minute) gives its
number back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, attributes

from webapp.models.runs import (
    CreationStatus,
    RunOutcome,
    SyncInstance,
    Transfer,
    TransferStatus,
)
from webapp.models.syncs import Sync

OUTCOME_LABELS = {
    RunOutcome.WAITING: "Waiting",
    RunOutcome.RUNNING: "Running",
    RunOutcome.RETRYING: "Retrying",
    RunOutcome.DELIVERED: "Delivered",
    RunOutcome.PARTLY_FAILED: "Partly failed",
    RunOutcome.FAILED: "Failed",
    RunOutcome.NO_DATA: "No data",
    RunOutcome.CANCELLED: "Cancelled",
}

# What the Runs page's status filter offers, in this order.
FILTERABLE = (
    RunOutcome.FAILED,
    RunOutcome.PARTLY_FAILED,
    RunOutcome.RETRYING,
    RunOutcome.RUNNING,
    RunOutcome.WAITING,
    RunOutcome.DELIVERED,
    RunOutcome.CANCELLED,
)


@functools.cache
def _kind_labels(type_key: str) -> dict[str, str]:
    import exporters

    if type_key not in exporters.registry():
        return {}
    return {k.key: k.label for k in exporters.get(type_key).file_kinds}


def kind_label(kind: str | None, type_key: str | None = None) -> str:
    """A file kind in words: the sync type's own label ("Product level"), else the key
    made readable; never the raw key (defect 9)."""
    if not kind:
        return "File"
    label = _kind_labels(type_key).get(kind) if type_key else None
    return label or kind.replace("_", " ").replace("-", " ").capitalize()


@dataclass(frozen=True)
class RunStatus:
    """What a run's row shows: ``label`` ("Partly failed · 4/6"), ``css`` (the style class)
    and the per-destination counts."""

    outcome: RunOutcome
    label: str
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    active: int = 0  # waiting for a worker or sending
    cancelled: int = 0
    total: int = 0

    @property
    def css(self) -> str:
        return self.outcome.value.replace("_", "-")

    @property
    def is_failure(self) -> bool:
        return self.outcome.is_failure


def latest_rounds(transfers: Iterable[Any]) -> list[Any]:
    """The newest round for each destination (a re-transfer replaces the earlier round)."""
    newest: dict[Any, Any] = {}
    for t in transfers:
        key = t.destination_id if t.destination_id is not None else f"gone-{t.destination_name}"
        if key not in newest or t.round > newest[key].round:
            newest[key] = t
    return sorted(newest.values(), key=lambda t: t.id)


def compute(creation: str, transfer_statuses: Sequence[str]) -> RunStatus:
    """The combined status from the creation status and the latest rounds' statuses."""
    creation = CreationStatus(creation)
    if creation == CreationStatus.PENDING:
        return RunStatus(RunOutcome.WAITING, "Waiting")
    if creation == CreationStatus.RUNNING:
        return RunStatus(RunOutcome.RUNNING, "Running · creating files")
    if creation == CreationStatus.FAILED:
        return RunStatus(RunOutcome.FAILED, "Failed · files not created")
    if creation == CreationStatus.NO_DATA:
        return RunStatus(RunOutcome.NO_DATA, "No data")
    if creation == CreationStatus.CANCELLED:
        return RunStatus(RunOutcome.CANCELLED, "Cancelled")
    statuses = [TransferStatus(s) for s in transfer_statuses]
    total = len(statuses)
    counts = {
        "delivered": statuses.count(TransferStatus.SUCCEEDED),
        "failed": statuses.count(TransferStatus.FAILED),
        "retrying": statuses.count(TransferStatus.RETRYING),
        "active": statuses.count(TransferStatus.PENDING)
        + statuses.count(TransferStatus.TRANSFERRING),
        "cancelled": statuses.count(TransferStatus.CANCELLED),
        "total": total,
    }
    delivered, failed, retrying = counts["delivered"], counts["failed"], counts["retrying"]
    if total == 0:
        return RunStatus(RunOutcome.DELIVERED, "Created · no destinations", **counts)
    # Defect 3: while one destination retries, the ones already failed are still said.
    failed_note = f" · {failed} failed" if failed else ""
    if counts["active"]:
        return RunStatus(
            RunOutcome.RUNNING, f"Sending · {delivered}/{total}{failed_note}", **counts
        )
    if retrying:
        return RunStatus(RunOutcome.RETRYING, f"Retrying · {retrying}{failed_note}", **counts)
    if delivered == total:
        return RunStatus(RunOutcome.DELIVERED, f"Delivered {delivered}/{total}", **counts)
    if counts["cancelled"] == total:
        return RunStatus(RunOutcome.CANCELLED, "Cancelled", **counts)
    if delivered == 0:
        return RunStatus(RunOutcome.FAILED, f"Failed · 0/{total}", **counts)
    return RunStatus(RunOutcome.PARTLY_FAILED, f"Partly failed · {delivered}/{total}", **counts)


def status_of(instance: SyncInstance, transfers: Sequence[Transfer] | None = None) -> RunStatus:
    """A run's combined status (``transfers``: its latest rounds, if already at hand)."""
    rounds = latest_rounds(instance.transfers) if transfers is None else transfers
    return compute(str(instance.creation_status), [str(t.status) for t in rounds])


def load_transfers(session: Any, instances: Sequence[SyncInstance]) -> None:
    """Load the transfers of these runs in one query into each run's ``transfers`` (a
    third of what ``selectinload`` costs in CPU for a page of 50 runs, measured)."""
    groups: dict[int, list[Transfer]] = {i.id: [] for i in instances}
    if groups:
        for t in session.scalars(
            select(Transfer).where(Transfer.instance_id.in_(list(groups))).order_by(Transfer.id)
        ):
            groups[t.instance_id].append(t)
    for instance in instances:
        attributes.set_committed_value(instance, "transfers", groups[instance.id])


def statuses_of(session: Any, instances: Iterable[SyncInstance]) -> dict[int, RunStatus]:
    """The combined status of many runs from one light query (five columns of their
    transfers, no objects): the sync list's Last run column."""
    runs = {i.id: i for i in instances}
    rows: dict[int, list[Any]] = {i: [] for i in runs}
    if runs:
        for row in session.execute(
            select(
                Transfer.id,
                Transfer.instance_id,
                Transfer.destination_id,
                Transfer.destination_name,
                Transfer.round,
                Transfer.status,
            ).where(Transfer.instance_id.in_(list(runs)))
        ):
            rows[row.instance_id].append(row)
    return {
        i: compute(str(run.creation_status), [str(t.status) for t in latest_rounds(rows[i])])
        for i, run in runs.items()
    }


def run_label(instance: SyncInstance) -> str:
    """ "Run 3" (its number in its sync), or "Run #id" for a row made before numbering."""
    return f"Run {instance.sequence}" if instance.sequence else f"Run #{instance.id}"


def duration_seconds(instance: SyncInstance, transfers: Sequence[Transfer] = ()) -> float | None:
    """From the run's start to its last transfer's end (or its creation's end)."""
    start = instance.creation_started_at or instance.run_started_at
    ends = [t.finished_at for t in transfers if t.finished_at is not None]
    if instance.creation_finished_at is not None:
        ends.append(instance.creation_finished_at)
    if start is None or not ends:
        return None
    return max(0.0, (max(ends) - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def refresh(session: Any, instance_ids: Iterable[int]) -> None:
    """Recompute and store the outcome of these runs from the database's rows."""
    ids = sorted({i for i in instance_ids if i is not None})
    if not ids:
        return
    connection = session.connection()
    creation = dict(
        connection.execute(
            select(SyncInstance.id, SyncInstance.creation_status).where(SyncInstance.id.in_(ids))
        ).all()
    )
    rows: dict[int, list[Any]] = {i: [] for i in ids}
    for row in connection.execute(
        select(
            Transfer.id,
            Transfer.instance_id,
            Transfer.destination_id,
            Transfer.destination_name,
            Transfer.round,
            Transfer.status,
        ).where(Transfer.instance_id.in_(ids))
    ):
        rows[row.instance_id].append(row)
    for instance_id, status in creation.items():
        outcome = compute(str(status), [str(t.status) for t in latest_rounds(rows[instance_id])])
        connection.execute(
            update(SyncInstance)
            .where(SyncInstance.id == instance_id, SyncInstance.outcome != outcome.outcome)
            .values(outcome=outcome.outcome)
            .execution_options(synchronize_session=False)
        )
        loaded = session.identity_map.get(session.identity_key(SyncInstance, instance_id))
        if loaded is not None:
            attributes.set_committed_value(loaded, "outcome", outcome.outcome)


def _number_new_runs(session: Session) -> None:
    for obj in list(session.new):
        if not isinstance(obj, SyncInstance) or obj.sequence is not None:
            continue
        sync_id = obj.sync_id if obj.sync_id is not None else getattr(obj.sync, "id", None)
        if sync_id is None:
            continue
        connection = session.connection()
        connection.execute(
            update(Sync)
            .where(Sync.id == sync_id)
            .values(runs_created=Sync.runs_created + 1)
            .execution_options(synchronize_session=False)
        )
        number = connection.scalar(select(Sync.runs_created).where(Sync.id == sync_id))
        obj.sequence = number
        loaded = session.identity_map.get(session.identity_key(Sync, sync_id))
        if loaded is not None:
            attributes.set_committed_value(loaded, "runs_created", number)


def _touched_runs(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, SyncInstance):
            ids.add(obj.id)
        elif isinstance(obj, Transfer):
            ids.add(obj.instance_id)
    return ids


def register_template_helpers(app: Any) -> None:
    """``run_status(run, transfers)``, ``run_label(run)``, ``|duration``, ``|kind_label``."""
    app.jinja_env.globals.update(
        run_status=status_of, run_label=run_label, run_duration=duration_seconds
    )
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["kind_label"] = kind_label
    app.jinja_env.filters["creation_label"] = lambda s: CreationStatus(s).label
    app.jinja_env.filters["transfer_label"] = lambda s: TransferStatus(s).label


def install(session_class: Any) -> None:
    """Number new runs before each flush and keep outcomes right after it."""
    if getattr(session_class, "_run_status_installed", False):
        return
    session_class._run_status_installed = True

    @event.listens_for(session_class, "before_flush")
    def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
        _number_new_runs(session)

    @event.listens_for(session_class, "after_flush")
    def _after_flush(session: Session, _context: Any) -> None:
        refresh(session, _touched_runs(session))
