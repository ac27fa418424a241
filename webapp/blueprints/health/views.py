"""Health for machines and people: ``/healthz``, ``/readyz``, ``/metrics``, and the
console's Status page (workers, the last tick, the last retention purge).

``/healthz`` and ``/readyz`` are public (load balancers and orchestrators do not log
in) and say nothing secret; ``/metrics`` is public to the login check but answers only a
bearer token or an allowed address (``webapp.services.metrics.allowed``).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import select

from loyalty.db import utcnow
from webapp.extensions import db, limiter
from webapp.models.maintenance import MaintenanceRun
from webapp.services import health, metrics, retention
from webapp.services.permissions import SYNC_VIEW, permission_required, public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
@public
def healthz() -> Response:
    """Alive: the process answers. Touches neither the database nor Redis."""
    return jsonify(status="alive")


@bp.route("/readyz")
@limiter.exempt
@public
def readyz() -> tuple[Response, int]:
    state = health.readiness()
    return jsonify(state.as_json()), 200 if state.ready else 503


@bp.route("/metrics")
@limiter.exempt
@public
def metrics_view() -> Response:
    if not metrics.allowed(current_app._get_current_object(), request):  # type: ignore[attr-defined]
        return Response(
            "Refused: send Authorization: Bearer <METRICS_TOKEN>, or scrape from an address "
            "in METRICS_ALLOW.\n",
            status=403,
            mimetype="text/plain",
        )
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@bp.route("/status")
@permission_required(SYNC_VIEW)
def status_page() -> str:
    """The console's view of the same checks, with the workers and the last purge."""
    state = health.readiness()
    purge = db.session.scalar(
        select(MaintenanceRun)
        .where(MaintenanceRun.task == "retention")
        .order_by(MaintenanceRun.day.desc())
        .limit(1)
    )
    return render_template(
        "health/status.html",
        state=state,
        now=utcnow(),
        purge=purge,
        stored_total=sum(retention.stored_bytes_by_sync().values()),
    )
