"""``/transfers/{id}``: one transfer with its attempts; retry now; cancel."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from loyalty.errors import NotFound, ValidationError
from loyalty.text import parse_id
from webapp.api.auth import acting_user, api_permission
from webapp.api.common import Aware
from webapp.api.problem import problem
from webapp.api.runs import TransferSchema
from webapp.extensions import db
from webapp.models.runs import Transfer
from webapp.services import run_actions, runs
from webapp.services.permissions import SYNC_RUN, SYNC_VIEW

bp = Blueprint("api_transfers", __name__, url_prefix="/api/v1/transfers", description="Transfers")


class AttemptSchema(ma.Schema):
    number = ma.fields.Integer()
    started_at = Aware()
    finished_at = Aware(allow_none=True)
    bytes_sent = ma.fields.Integer()
    succeeded = ma.fields.Boolean(allow_none=True)
    error = ma.fields.String(allow_none=True)
    error_kind = ma.fields.String(allow_none=True)
    retryable = ma.fields.Boolean(allow_none=True)


class TransferDetailSchema(TransferSchema):
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema))


def _load(transfer_id: int) -> Transfer:
    ident = parse_id(transfer_id)
    transfer = db.session.get(Transfer, ident) if ident is not None else None
    if transfer is None:
        raise NotFound(f"No transfer with id {transfer_id}.")
    runs.get_instance(transfer.instance_id, acting_user())  # the run's visibility rule
    return transfer


@bp.route("/<int:transfer_id>")
@api_permission(SYNC_VIEW)
@bp.response(200, TransferDetailSchema)
def get_transfer(transfer_id: int) -> Transfer:
    """A transfer to one destination, with each attempt."""
    return _load(transfer_id)


def _act(transfer_id: int, action: Any) -> Any:
    transfer = _load(transfer_id)
    try:
        action(transfer, user=acting_user())
    except ValidationError as exc:
        db.session.rollback()
        return problem(409, "; ".join(exc.errors.values()), kind="conflict")
    db.session.expire_all()
    return _load(transfer_id)


@bp.route("/<int:transfer_id>/retry", methods=["POST"])
@api_permission(SYNC_RUN)
@bp.response(200, TransferDetailSchema)
def retry_transfer(transfer_id: int) -> Any:
    """Retry now a failed or retrying transfer (its attempts are kept); 409 otherwise."""
    return _act(transfer_id, run_actions.retry_transfer_now)


@bp.route("/<int:transfer_id>/cancel", methods=["POST"])
@api_permission(SYNC_RUN)
@bp.response(200, TransferDetailSchema)
def cancel_transfer(transfer_id: int) -> Any:
    """Cancel a transfer that waits or retries; 409 when it is sending or done."""
    return _act(transfer_id, run_actions.cancel_transfer)
