"""Every run of every sync, filtered ("what failed last night?"), and acting on one.

The actions are plain POST forms: without JavaScript they flash the outcome and go back
to the page they came from (``next``, a local path only); with htmx they answer with the
run's row, re-rendered, saying the outcome in it. A refusal (the state moved on, say the
transfer was delivered meanwhile) is said in words, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.models.runs import SyncInstance, Transfer
from webapp.models.syncs import Destination, Sync
from webapp.request_guards import local_path
from webapp.services import run_actions, run_search, run_status, runs
from webapp.services.permissions import SYNC_RUN, SYNC_VIEW, has_permission, permission_required

bp = Blueprint("runs", __name__)


def _user() -> Any:
    return current_user._get_current_object()


@bp.app_context_processor
def _failure_count() -> dict[str, Any]:
    """``failures_since_yesterday()`` for the header: called only by pages that show the
    header (never by the polled partials), and only for users who may see runs."""

    def count() -> int | None:
        if not has_permission(current_user, SYNC_VIEW):
            return None
        return run_search.failures_since_yesterday()

    return {"failures_since_yesterday": count}


@bp.route("/runs")
@permission_required(SYNC_VIEW)
def run_list() -> str | tuple[str, int]:
    user = _user()
    status_code = 200
    try:
        flt = run_search.parse_filter(request.args)
        errors: dict[str, str] = {}
    except ValidationError as exc:
        flt, errors, status_code = run_search.RunFilter(), exc.errors, 400
    page = run_search.search(flt, user)
    sync_choices = db.session.execute(select(Sync.id, Sync.name).order_by(Sync.name, Sync.id)).all()
    destination_choices = db.session.execute(
        select(Destination.id, Destination.name, Sync.name)
        .join(Sync, Destination.sync_id == Sync.id)
        .order_by(Sync.name, Destination.position)
    ).all()
    rows = [_row(run) for run in page.runs]
    return (
        render_template(
            "runs/list.html",
            page=page,
            flt=flt,
            rows=rows,
            errors=errors,
            statuses=run_status.FILTERABLE,
            outcome_labels=run_status.OUTCOME_LABELS,
            sync_choices=sync_choices,
            destination_choices=destination_choices,
        ),
        status_code,
    )


def _row(run: SyncInstance, **extra: Any) -> dict[str, Any]:
    transfers = run_status.latest_rounds(run.transfers)
    return {
        "run": run,
        "transfers": transfers,
        "status": run_status.status_of(run, transfers),
        **extra,
    }


def _act(instance: SyncInstance, action: Callable[[], str]) -> str | Response:
    """Run ``action`` (it returns what to say), then answer as the request asked."""
    try:
        message, refused = action(), False
    except ValidationError as exc:
        db.session.rollback()
        message, refused = "; ".join(exc.errors.values()), True
    db.session.expire_all()
    instance = db.session.get(SyncInstance, instance.id) or abort(404)
    if is_htmx():
        extra = {"action_message": message, "action_refused": refused}
        if request.form.get("row") == "dashboard":
            from webapp.blueprints.dashboard.views import _row_context

            return render_template("dashboard/_run_row.html", **_row_context(instance), **extra)
        return render_template("runs/_row.html", **_row(instance, **extra))
    flash(message, "error" if refused else "message")
    default = url_for(
        "dashboard.transfer_detail", sync_id=instance.sync_id, instance_id=instance.id
    )
    return redirect(local_path(request.form.get("next"), default))


@bp.route("/runs/<int:instance_id>/cancel", methods=["POST"])
@permission_required(SYNC_RUN)
def cancel_run(instance_id: int) -> str | Response:
    instance = runs.get_instance(instance_id, _user())

    def act() -> str:
        run_actions.cancel_run(instance, user=_user())
        return f"{run_status.run_label(instance)} of {instance.sync.name} was cancelled."

    return _act(instance, act)


def _transfer(transfer_id: int) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        abort(404)
    return transfer


@bp.route("/transfers/<int:transfer_id>/retry", methods=["POST"])
@permission_required(SYNC_RUN)
def retry_transfer(transfer_id: int) -> str | Response:
    transfer = _transfer(transfer_id)

    def act() -> str:
        run_actions.retry_transfer_now(transfer, user=_user())
        return f"Sending to {transfer.destination_name} again now."

    return _act(transfer.instance, act)


@bp.route("/transfers/<int:transfer_id>/cancel", methods=["POST"])
@permission_required(SYNC_RUN)
def cancel_transfer(transfer_id: int) -> str | Response:
    transfer = _transfer(transfer_id)

    def act() -> str:
        run_actions.cancel_transfer(transfer, user=_user())
        return f"The transfer to {transfer.destination_name} was cancelled."

    return _act(transfer.instance, act)
