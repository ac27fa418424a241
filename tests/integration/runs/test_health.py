"""/healthz, /readyz, `flask ops status`, the Status page and /metrics, in each state:
healthy, Redis down (its own Redis server, stopped), no worker, a stale tick; metrics
parsed with prometheus_client's own parser, and refused without the token or address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from devservers.redis import start_redis
from jobs.tick import tick
from loyalty.db import utcnow
from webapp.extensions import db
from webapp.models.syncs import Sync
from webapp.services import health, runs
from webapp.services.dispatch import queue, queue_names
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(app: Flask) -> Any:
    """A real RQ worker registration on this installation's queues (as `flask worker`
    makes at start), removed at the end."""
    registered = Worker(list(queue_names()), connection=redis_client(), worker_ttl=60)
    registered.register_birth()
    yield registered
    registered.register_death()


def test_healthz_is_alive_without_login(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "alive"}


def test_ready_when_database_redis_worker_and_tick_are_fine(
    app: Flask, client: Any, worker: Any, runner: Any
) -> None:
    tick()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ready"
    assert {name for name, c in body["checks"].items() if c["ok"]} == {
        "database",
        "redis",
        "workers",
        "tick",
    }
    assert [w["name"] for w in body["workers"]] == [worker.name]
    result = runner.invoke(args=["ops", "status"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Ready") and worker.name in result.output


def test_not_ready_without_a_worker_or_with_a_stale_tick(
    app: Flask, client: Any, runner: Any
) -> None:
    tick()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["workers"]["ok"] is False
    assert "no worker seen in the last 60 s" in response.json["checks"]["workers"]["detail"]
    result = runner.invoke(args=["ops", "status"])
    assert result.exit_code == 1 and "NOT READY" in result.output and "no worker" in result.output

    health.record_tick(utcnow() - timedelta(minutes=10))
    stale = health.readiness()
    tick_check = next(c for c in stale.checks if c.name == "tick")
    assert not tick_check.ok and "more than 180 s" in tick_check.detail


def test_not_ready_when_redis_is_down(app_config: dict[str, Any], tmp_path: Path) -> None:
    from webapp import create_app

    private = start_redis(tmp_path / "private-redis")
    other = create_app({**app_config, "REDIS_URL": private.url})
    private.stop()
    with other.app_context():
        response = other.test_client().get("/readyz")
        assert response.status_code == 503
        checks = response.json["checks"]
        assert checks["redis"]["ok"] is False and "does not answer" in checks["redis"]["detail"]
        assert checks["database"]["ok"] is True
        assert private.url not in response.get_data(as_text=True)  # no address given away
        assert other.test_client().get("/healthz").status_code == 200  # still alive
        db.session.remove()
        db.engine.dispose()
        redis_client().close()


def test_status_page_shows_workers_and_the_last_tick(
    app: Flask, worker: Any, make_user: Callable[..., Any], login: Callable[[Any], Any]
) -> None:
    tick()
    client = login(make_user("viewer"))
    page = client.get("/status").get_data(as_text=True)
    assert worker.name in page and "Last minute tick" in page and "Ready" in page


def metric_families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_refused_without_token_or_allowed_address(app: Flask, client: Any) -> None:
    assert client.get("/metrics").status_code == 403  # neither configured: nobody
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and "METRICS_TOKEN" in wrong.get_data(as_text=True)
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert right.status_code == 200
    app.config["METRICS_TOKEN"] = None
    app.config["METRICS_ALLOW"] = ["10.0.0.0/8"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403


def test_metrics_report_runs_transfers_bytes_durations_queues_and_delivery_age(
    app: Flask,
    client: Any,
    make_sync: Callable[..., Sync],
    run_jobs: Callable[[], None],
    sftp_destination: Callable[..., Any],
) -> None:
    sync = make_sync("Measured")
    sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    never = make_sync("Never ran")
    runs.start_manual_run(never, user=None, actor="test")  # queued, not run
    app.config["METRICS_TOKEN"] = "t"
    response = client.get("/metrics", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    families = metric_families(response.get_data(as_text=True))

    def value(family: str, sample: str, **labels: str) -> float:
        found = [
            s.value
            for s in families[family].samples
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) == 1, (family, sample, labels, families[family].samples)
        return float(found[0])

    assert value("loyalty_sync_runs", "loyalty_sync_runs", status="succeeded") == 1
    assert value("loyalty_sync_runs", "loyalty_sync_runs", status="pending") == 1
    assert value("loyalty_sync_transfers", "loyalty_sync_transfers", status="succeeded") == 1
    sent = value("loyalty_sync_bytes_sent", "loyalty_sync_bytes_sent_total")
    assert sent > 0
    assert families["loyalty_sync_build_duration_seconds"].type == "histogram"
    assert (
        value(
            "loyalty_sync_build_duration_seconds",
            "loyalty_sync_build_duration_seconds_count",
        )
        == 1
    )
    assert (
        value(
            "loyalty_sync_transfer_duration_seconds",
            "loyalty_sync_transfer_duration_seconds_bucket",
            le="+Inf",
        )
        == 1
    )
    assert value("loyalty_sync_queue_depth", "loyalty_sync_queue_depth", queue="builds") == len(
        queue("builds")
    )
    assert value("loyalty_sync_queue_depth", "loyalty_sync_queue_depth", queue="builds") >= 1
    ages = {
        s.labels["sync_id"]: s.value
        for s in families["loyalty_sync_seconds_since_last_delivered_run"].samples
    }
    assert set(ages) == {str(sync.id)} and ages[str(sync.id)] >= 0
    db.session.rollback()
