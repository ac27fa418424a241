"""``/runs``: list across syncs (filters by status, sync, trigger, date), get, the live
status, start ("Process New Sync"), cancel, re-transfer to all or one destination."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from loyalty.errors import ValidationError
from webapp.api import API_PREFIX
from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware, Strict
from webapp.api.pagination import PageArgs, page, page_schema
from webapp.api.problem import problem
from webapp.extensions import db
from webapp.models.runs import RunOutcome, SyncInstance, Trigger
from webapp.services import run_actions, run_status, runs, syncs
from webapp.services.permissions import SYNC_RUN, SYNC_VIEW

bp = Blueprint("api_runs", __name__, url_prefix="/api/v1", description="Runs")


class FileSchema(ma.Schema):
    id = ma.fields.Integer()
    run_id = ma.fields.Integer(attribute="instance_id")
    role = ma.fields.Function(lambda f: str(f.role))
    kind = ma.fields.String()
    name = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    rows = ma.fields.Integer(allow_none=True)
    original_id = ma.fields.Integer(allow_none=True)
    download_url = ma.fields.Method("_download", allow_none=True)

    def _download(self, sync_file: Any) -> str | None:
        if str(sync_file.role) != "original":
            return None
        return url_for("api_files.download_file", file_id=sync_file.id)


class TransferSchema(ma.Schema):
    id = ma.fields.Integer()
    run_id = ma.fields.Integer(attribute="instance_id")
    destination_id = ma.fields.Integer(allow_none=True)
    destination_name = ma.fields.String()
    round = ma.fields.Integer()
    status = ma.fields.Function(lambda t: str(t.status))
    max_attempts = ma.fields.Integer()
    bytes_total = ma.fields.Integer()
    bytes_sent = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)
    created_at = Aware()
    started_at = Aware(allow_none=True)
    finished_at = Aware(allow_none=True)
    next_attempt_at = Aware(allow_none=True)


class StatusSchema(ma.Schema):
    run_id = ma.fields.Integer()
    outcome = ma.fields.String(
        metadata={
            "description": "waiting, running, retrying, delivered, partly_failed, "
            "failed, no_data or cancelled"
        }
    )
    label = ma.fields.String(metadata={"description": "As the pages say it"})
    creation_status = ma.fields.String()
    final = ma.fields.Boolean(metadata={"description": "Nothing more will happen by itself"})
    delivered = ma.fields.Integer()
    failed = ma.fields.Integer()
    retrying = ma.fields.Integer()
    active = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    total = ma.fields.Integer()


class RunSchema(ma.Schema):
    id = ma.fields.Integer()
    sync_id = ma.fields.Integer()
    sequence = ma.fields.Integer(allow_none=True, metadata={"description": "Run N of its sync"})
    trigger = ma.fields.Function(lambda r: str(r.trigger))
    outcome = ma.fields.Function(lambda r: str(r.outcome))
    creation_status = ma.fields.Function(lambda r: str(r.creation_status))
    scheduled_for = Aware(allow_none=True)
    created_at = Aware()
    run_started_at = Aware(allow_none=True)
    creation_started_at = Aware(allow_none=True)
    creation_finished_at = Aware(allow_none=True)
    rows_written = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    status_url = ma.fields.Function(lambda r: f"{API_PREFIX}/runs/{r.id}/status")


class RunDetailSchema(RunSchema):
    files = ma.fields.List(ma.fields.Nested(FileSchema))
    transfers = ma.fields.List(ma.fields.Nested(TransferSchema))
    latest_transfers = ma.fields.Function(
        lambda r: TransferSchema(many=True).dump(runs.latest_transfers(r))
    )


RunPage = page_schema(RunSchema, "RunPage")


class RunListArgs(PageArgs):
    status = ma.fields.String(
        validate=ma.validate.OneOf([o.value for o in RunOutcome]),
        metadata={"description": "The run's outcome"},
    )
    sync = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=2**31 - 1), metadata={"description": "A sync id"}
    )
    trigger = ma.fields.String(validate=ma.validate.OneOf([t.value for t in Trigger]))
    since = Aware(metadata={"description": "Created at or after (ISO 8601 with offset)"})
    until = Aware(metadata={"description": "Created before (ISO 8601 with offset)"})


class RetransferBody(Strict):
    destination_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Only this destination; all when left out"}
    )


class TransferList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TransferSchema))


def _status(instance: SyncInstance) -> dict[str, Any]:
    status = run_status.status_of(instance)
    return {
        "run_id": instance.id,
        "outcome": str(status.outcome),
        "label": status.label,
        "creation_status": str(instance.creation_status),
        "final": status.active == 0
        and status.retrying == 0
        and str(status.outcome) not in ("waiting", "running", "retrying"),
        "delivered": status.delivered,
        "failed": status.failed,
        "retrying": status.retrying,
        "active": status.active,
        "cancelled": status.cancelled,
        "total": status.total,
    }


@bp.route("/runs")
@api_permission(SYNC_VIEW)
@bp.arguments(RunListArgs, location="query")
@bp.response(200, RunPage)
def list_runs(args: dict[str, Any]) -> dict[str, Any]:
    """Runs of every sync, newest first: ``?status=failed``, ``?sync=``, ``?since=``…"""
    query = select(SyncInstance).order_by(SyncInstance.id.desc()).limit(args["limit"] + 1)
    if args.get("status"):
        query = query.where(SyncInstance.outcome == RunOutcome(args["status"]))
    if args.get("sync"):
        query = query.where(SyncInstance.sync_id == args["sync"])
    if args.get("trigger"):
        query = query.where(SyncInstance.trigger == Trigger(args["trigger"]))
    if args.get("since"):
        query = query.where(SyncInstance.created_at >= args["since"])
    if args.get("until"):
        query = query.where(SyncInstance.created_at < args["until"])
    if args.get("cursor"):
        query = query.where(SyncInstance.id < args["cursor"])
    rows, next_url = page(db.session.scalars(query).all(), args["limit"])
    return {"items": rows, "next": next_url}


@bp.route("/syncs/<int:sync_id>/runs", methods=["POST"])
@api_permission(SYNC_RUN)
@bp.response(202, RunSchema)
def start_run(sync_id: int) -> Any:
    """Process New Sync: a manual run, built as soon as no other run of the sync builds."""
    sync = syncs.get_sync(sync_id, acting_user())
    instance = runs.start_manual_run(sync, user=acting_user())
    return instance, 202, {"Location": url_for("api_runs.get_run", run_id=instance.id)}


@bp.route("/runs/<int:run_id>")
@api_permission(SYNC_VIEW)
@bp.response(200, RunDetailSchema)
def get_run(run_id: int) -> SyncInstance:
    """A run with its files and every transfer round."""
    return runs.get_instance(run_id, acting_user())


@bp.route("/runs/<int:run_id>/status")
@api_permission(SYNC_VIEW)
@bp.response(200, StatusSchema)
def get_run_status(run_id: int) -> dict[str, Any]:
    """The run's combined status, cheap enough to poll every second."""
    instance = db.session.scalar(
        select(SyncInstance)
        .options(selectinload(SyncInstance.transfers))
        .where(SyncInstance.id == run_id)
    )
    if instance is None:
        runs.get_instance(run_id, acting_user())  # the NotFound, worded as everywhere
    assert instance is not None
    return _status(instance)


@bp.route("/runs/<int:run_id>/files")
@api_permission(SYNC_VIEW)
@bp.response(
    200,
    ma.Schema.from_dict({"items": ma.fields.List(ma.fields.Nested(FileSchema))}, name="FileList"),
)
def list_files(run_id: int) -> dict[str, Any]:
    """The run's files: originals (downloadable) and the deliverables made from them."""
    return {"items": runs.get_instance(run_id, acting_user()).files}


@bp.route("/runs/<int:run_id>/cancel", methods=["POST"])
@api_permission(SYNC_RUN)
@bp.response(200, StatusSchema)
def cancel_run(run_id: int) -> Any:
    """Cancel a run that waits (its build, or its transfers not started); 409 with the
    reason when it has moved on."""
    instance = runs.get_instance(run_id, acting_user())
    try:
        run_actions.cancel_run(instance, user=acting_user())
    except ValidationError as exc:
        db.session.rollback()
        return problem(409, "; ".join(exc.errors.values()), kind="conflict")
    db.session.expire_all()
    return _status(runs.get_instance(run_id, acting_user()))


@bp.route("/runs/<int:run_id>/retransfer", methods=["POST"])
@api_permission(SYNC_RUN)
@bp.arguments(RetransferBody)
@bp.response(202, TransferList)
def retransfer(body: dict[str, Any], run_id: int) -> Any:
    """Transfer File(s): send the stored files again, to every destination or one."""
    instance = runs.get_instance(run_id, acting_user())
    started = runs.request_retransfer(
        instance, user=acting_user(), destination_id=body.get("destination_id")
    )
    return {"items": started}, 202
