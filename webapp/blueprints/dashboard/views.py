"""A sync's dashboard: its runs with live status, run details, downloads, re-transfer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from loyalty.text import parse_id
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.models.runs import CreationStatus, SyncInstance, TransferStatus
from webapp.request_guards import MAX_PAGE, query_int
from webapp.services import notices, progress, retention, run_status, runs, syncs
from webapp.services.permissions import SYNC_DOWNLOAD, SYNC_RUN, SYNC_VIEW, permission_required

bp = Blueprint("dashboard", __name__)


def _user() -> Any:
    return current_user._get_current_object()


def _row_context(instance: SyncInstance) -> dict[str, Any]:
    """What a run's row (and its detail pages) show; live values come from Redis only
    while the run is not final, in one round trip."""
    transfers = runs.latest_transfers(instance)
    moving = [t.id for t in transfers if not TransferStatus(t.status).is_final]
    building = not CreationStatus(instance.creation_status).is_final
    live = building or bool(moving)
    build_progress, transfer_progress = (
        progress.read_run(instance.id if building else None, moving) if live else ({}, {})
    )
    return {
        "run": instance,
        "sync": instance.sync,
        "transfers": transfers,
        "live": live,
        "summary": runs.transfer_summary(instance, transfers),
        "status": run_status.status_of(instance, transfers),
        "build_progress": build_progress,
        "transfer_progress": transfer_progress,
    }


def _run_of(sync_id: int, instance_id: int) -> SyncInstance:
    instance = runs.get_instance(instance_id, _user())
    if instance.sync_id != sync_id:
        abort(404)
    return instance


@bp.route("/syncs/<int:sync_id>/dashboard")
@permission_required(SYNC_VIEW)
def dashboard(sync_id: int) -> str:
    sync = syncs.get_sync(sync_id, _user())
    page = query_int("page", 1, maximum=MAX_PAGE) or 1
    items, has_next = runs.list_instances(sync, _user(), page=page)
    return render_template(
        "dashboard/dashboard.html",
        sync=sync,
        rows=[_row_context(i) for i in items],
        page=page,
        has_next=has_next,
        scope_label=syncs.scope_label(sync),
        notices=notices.for_syncs([sync]).get(sync.id),
        stored_bytes=retention.stored_bytes(sync.id),
    )


@bp.route("/runs/<int:instance_id>/row")
@permission_required(SYNC_VIEW)
def run_row(instance_id: int) -> str:
    """The live status partial: the run's dashboard row, polling while the run is not final."""
    instance = runs.get_instance(instance_id, _user(), with_row=True)
    return render_template("dashboard/_run_row.html", **_row_context(instance))


@bp.route("/syncs/<int:sync_id>/runs", methods=["POST"])
@permission_required(SYNC_RUN)
def process_new_sync(sync_id: int) -> Response:
    sync = syncs.get_sync(sync_id, _user())
    try:
        instance = runs.start_manual_run(sync, user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        if runs.queue_was_down(instance):
            flash(
                f"{run_status.run_label(instance)} is saved, but the job queue (Redis) is not "
                "answering: it starts by itself when Redis is back."
            )
        else:
            flash(f"{run_status.run_label(instance)} started.")
    return redirect(url_for("dashboard.dashboard", sync_id=sync.id))


@bp.route("/syncs/<int:sync_id>/runs/<int:instance_id>/creation")
@permission_required(SYNC_VIEW)
def creation_detail(sync_id: int, instance_id: int) -> str:
    instance = _run_of(sync_id, instance_id)
    context = _row_context(instance)
    template = "dashboard/_creation_live.html" if is_htmx() else "dashboard/creation.html"
    return render_template(template, **context)


@bp.route("/syncs/<int:sync_id>/runs/<int:instance_id>/transfers")
@permission_required(SYNC_VIEW)
def transfer_detail(sync_id: int, instance_id: int) -> str:
    instance = _run_of(sync_id, instance_id)
    context = _row_context(instance)
    template = "dashboard/_transfers_live.html" if is_htmx() else "dashboard/transfers.html"
    return render_template(template, **context, all_transfers=list(reversed(instance.transfers)))


@bp.route("/syncs/<int:sync_id>/runs/<int:instance_id>/retransfer", methods=["POST"])
@permission_required(SYNC_RUN)
def retransfer(sync_id: int, instance_id: int) -> Response:
    instance = _run_of(sync_id, instance_id)
    raw_destination = (request.form.get("destination_id") or "").strip()
    destination_id = parse_id(raw_destination) if raw_destination else None
    if raw_destination and destination_id is None:
        abort(404)
    try:
        started = runs.request_retransfer(instance, user=_user(), destination_id=destination_id)
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        names = ", ".join(t.destination_name for t in started)
        if runs.queue_was_down(*started):
            flash(
                f"The transfer(s) to {names} are saved, but the job queue (Redis) is not "
                "answering: they start by themselves when Redis is back."
            )
        else:
            flash(f"Transferring the stored file(s) again to {names}.")
    return redirect(url_for("dashboard.transfer_detail", sync_id=sync_id, instance_id=instance_id))


@bp.route("/files/<int:file_id>/download")
@permission_required(SYNC_DOWNLOAD)
def download(file_id: int) -> Response:
    """An original file, by database id only; the path never comes from the request."""
    sync_file, path = runs.file_for_download(file_id, _user())
    return send_file(path, as_attachment=True, download_name=sync_file.name, mimetype="text/plain")
