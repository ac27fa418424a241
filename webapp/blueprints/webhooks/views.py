"""Webhooks: a sync's own (``sync.configure``) and global ones (``webhooks.manage``, support).

Routes carry the weaker of the two permissions; the service checks the right one for
the webhook in hand (a global webhook's page is refused to a sync manager)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug import Response

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.syncs import Sync
from webapp.services import syncs, webhooks
from webapp.services.permissions import SYNC_CONFIGURE, WEBHOOKS_MANAGE, permission_required

bp = Blueprint("webhooks", __name__)


def _user() -> Any:
    return current_user._get_current_object()


def _list_page(sync: Sync | None) -> str | Response:
    errors: dict[str, str] = {}
    secret = None
    created = None
    if request.method == "POST":
        fields = {
            "name": request.form.get("name", ""),
            "url": request.form.get("url", ""),
            "events": request.form.getlist("events"),
        }
        if not fields["events"]:
            errors["events"] = "Choose at least one event."
        else:
            try:
                created, secret = webhooks.create_webhook(sync, fields, user=_user())
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                db.session.commit()
    return render_template(
        "webhooks/list.html",
        sync=sync,
        items=webhooks.list_webhooks(sync, user=_user()),
        events=webhooks.SUBSCRIBABLE,
        labels=webhooks.EVENT_LABELS,
        defaults=webhooks.DEFAULT_EVENTS,
        errors=errors,
        form=request.form if errors else {},
        created=created,
        secret=secret,  # shown this once; never stored in clear, never shown again
    )


@bp.route("/syncs/<int:sync_id>/webhooks", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def sync_webhooks(sync_id: int) -> str | Response:
    return _list_page(syncs.get_sync(sync_id, _user()))


@bp.route("/webhooks", methods=["GET", "POST"])
@permission_required(WEBHOOKS_MANAGE)
def global_webhooks() -> str | Response:
    return _list_page(None)


@bp.route("/webhooks/<int:webhook_id>")
@permission_required(SYNC_CONFIGURE)
def detail(webhook_id: int) -> str:
    webhook = webhooks.get_webhook(webhook_id, user=_user())
    sync = db.session.get(Sync, webhook.sync_id) if webhook.sync_id else None
    return render_template(
        "webhooks/detail.html",
        webhook=webhook,
        sync=sync,
        deliveries=webhooks.recent_deliveries(webhook),
        labels=webhooks.EVENT_LABELS,
    )


@bp.route("/webhooks/<int:webhook_id>/test", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def send_test(webhook_id: int) -> Response:
    webhook = webhooks.get_webhook(webhook_id, user=_user())
    try:
        delivery = webhooks.send_test(webhook, user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        flash(f"Test event queued (delivery #{delivery.id}); its result appears in the log below.")
    return redirect(url_for("webhooks.detail", webhook_id=webhook.id))


@bp.route("/webhooks/<int:webhook_id>/enabled", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def set_enabled(webhook_id: int) -> Response:
    webhook = webhooks.get_webhook(webhook_id, user=_user())
    enabled = request.form.get("enabled") == "1"
    changed = webhooks.set_enabled(webhook, enabled, user=_user())
    db.session.commit()
    if changed:
        flash("Webhook enabled." if enabled else "Webhook disabled: it is sent nothing.")
    return redirect(url_for("webhooks.detail", webhook_id=webhook.id))


@bp.route("/webhooks/<int:webhook_id>/delete", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def delete(webhook_id: int) -> Response:
    webhook = webhooks.get_webhook(webhook_id, user=_user())
    sync_id = webhook.sync_id
    webhooks.delete_webhook(webhook, user=_user())
    db.session.commit()
    flash("Webhook deleted.")
    if sync_id is None:
        return redirect(url_for("webhooks.global_webhooks"))
    return redirect(url_for("webhooks.sync_webhooks", sync_id=sync_id))
