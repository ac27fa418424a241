"""``/metrics``: Prometheus text, computed from the database and Redis at scrape time.

Why a custom collector and not counters bumped by the code: the work is done by RQ work
horses (a forked process per job) and served by several gunicorn workers, so in-process
counters would each hold a fragment, and prometheus-client's multiprocess mode needs a
shared directory, cleanup on every exit and has no live gauges. The database already
holds every run and transfer with its status, bytes and times, so each scrape reads the
truth from there, whichever gunicorn worker answers, and a restart loses nothing.

The histograms are built from the rows of finished builds and transfers (their
observed durations); "seconds since the last delivered run" is per sync. Counts that
may go down (a deleted sync takes its runs along) are gauges.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import Flask, Request
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.runs import CreationStatus, SyncInstance, Transfer, TransferStatus
from webapp.models.syncs import Sync
from webapp.services import health
from webapp.services.dispatch import queue
from webapp.services.runs import latest_transfers

PREFIX = "loyalty_sync"
BUILD_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
TRANSFER_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
# Runs looked at per sync to find its last delivered one.
DELIVERED_LOOKBACK = 50


def allowed(app: Flask, request: Request) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a client address inside METRICS_ALLOW."""
    token = app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if (
        token
        and given.startswith("Bearer ")
        and secrets.compare_digest(given.removeprefix("Bearer ").strip(), str(token))
    ):
        return True
    allow = app.config.get("METRICS_ALLOW") or []
    if isinstance(allow, str):
        allow = [a.strip() for a in allow.split(",") if a.strip()]
    if not allow or not request.remote_addr:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(str(net), strict=False) for net in allow)


def histogram(
    name: str, doc: str, durations: Iterable[float], buckets: tuple[float, ...]
) -> HistogramMetricFamily:
    values = list(durations)
    cumulative = [(str(float(b)), float(sum(1 for v in values if v <= b))) for b in buckets]
    cumulative.append(("+Inf", float(len(values))))
    return HistogramMetricFamily(name, doc, buckets=cumulative, sum_value=sum(values))


def _seconds(pairs: Iterable[Any]) -> Iterator[float]:
    for started, finished in pairs:
        if started is not None and finished is not None:
            yield max(0.0, (finished - started).total_seconds())


def last_delivered(sync_id: int) -> datetime | None:
    """When the sync's newest run that reached every destination finished delivering."""
    recent = db.session.scalars(
        select(SyncInstance)
        .options(selectinload(SyncInstance.transfers))
        .where(
            SyncInstance.sync_id == sync_id,
            SyncInstance.creation_status == CreationStatus.SUCCEEDED,
        )
        .order_by(SyncInstance.id.desc())
        .limit(DELIVERED_LOOKBACK)
    )
    for instance in recent:
        transfers = latest_transfers(instance)
        if transfers and all(t.status == TransferStatus.SUCCEEDED for t in transfers):
            finished = [t.finished_at for t in transfers if t.finished_at is not None]
            return max(finished) if finished else None
    return None


class DatabaseCollector:
    """Reads runs, transfers and queues when Prometheus scrapes; holds no state."""

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        runs = GaugeMetricFamily(
            f"{PREFIX}_runs", "Runs by file-creation status.", labels=["status"]
        )
        run_counts: dict[str, int] = {
            str(status): int(count)
            for status, count in db.session.execute(
                select(SyncInstance.creation_status, func.count()).group_by(
                    SyncInstance.creation_status
                )
            ).all()
        }
        for status in CreationStatus:
            runs.add_metric([status.value], float(run_counts.get(status.value, 0)))
        yield runs

        transfers = GaugeMetricFamily(
            f"{PREFIX}_transfers", "Transfers (every round) by status.", labels=["status"]
        )
        transfer_counts: dict[str, int] = {
            str(status): int(count)
            for status, count in db.session.execute(
                select(Transfer.status, func.count()).group_by(Transfer.status)
            ).all()
        }
        for tstatus in TransferStatus:
            transfers.add_metric([tstatus.value], float(transfer_counts.get(tstatus.value, 0)))
        yield transfers

        sent = db.session.scalar(select(func.coalesce(func.sum(Transfer.bytes_sent), 0)))
        bytes_sent = CounterMetricFamily(
            f"{PREFIX}_bytes_sent", "Bytes sent to destinations, every attempt."
        )
        bytes_sent.add_metric([], float(sent or 0))
        yield bytes_sent

        yield histogram(
            f"{PREFIX}_build_duration_seconds",
            "File creation time of finished runs.",
            _seconds(
                db.session.execute(
                    select(SyncInstance.creation_started_at, SyncInstance.creation_finished_at)
                )
            ),
            BUILD_BUCKETS,
        )
        yield histogram(
            f"{PREFIX}_transfer_duration_seconds",
            "Time of finished transfers, first attempt to the end.",
            _seconds(
                db.session.execute(
                    select(Transfer.started_at, Transfer.finished_at).where(
                        Transfer.status.in_([TransferStatus.SUCCEEDED, TransferStatus.FAILED])
                    )
                )
            ),
            TRANSFER_BUCKETS,
        )

        depth = GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        for kind in ("builds", "transfers"):
            depth.add_metric([kind], float(queue(kind).count))
        yield depth

        since = GaugeMetricFamily(
            f"{PREFIX}_seconds_since_last_delivered_run",
            "Seconds since the sync's newest run that reached every destination "
            "(absent: never delivered).",
            labels=["sync_id", "sync"],
        )
        for sync_id, name in db.session.execute(select(Sync.id, Sync.name).order_by(Sync.id)):
            delivered = last_delivered(sync_id)
            if delivered is not None:
                since.add_metric([str(sync_id), name], (now - delivered).total_seconds())
        yield since

        workers = GaugeMetricFamily(
            f"{PREFIX}_workers_seen",
            "RQ workers on this installation's queues seen in the last minute.",
        )
        workers.add_metric(
            [], float(sum(1 for w in health.workers(now) if (w.age_seconds or 1e9) <= 60))
        )
        yield workers


def render() -> bytes:
    """The exposition text of one scrape."""
    from prometheus_client import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
