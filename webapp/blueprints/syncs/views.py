"""Tools / Sync: the list with inline Enable/Disable, creating syncs, settings, layouts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers.response import Response
from wtforms import SelectChoice

import exporters
from exporters.base import OptionKind
from loyalty.errors import ValidationError
from webapp.blueprints.syncs.forms import (
    CreateSyncForm,
    RecipientKeyForm,
    SettingsForm,
    zone_choices,
)
from webapp.extensions import db
from webapp.forms import apply_errors
from webapp.htmx import is_htmx
from webapp.models.syncs import check_execution_time, check_timezone
from webapp.services import notices, recipients, retention, run_status, schedule, syncs
from webapp.services.permissions import (
    SYNC_CONFIGURE,
    SYNC_CREATE,
    SYNC_MANAGE,
    SYNC_VIEW,
    has_permission,
    permission_required,
)

bp = Blueprint("syncs", __name__)


def _user() -> Any:
    return current_user._get_current_object()


@bp.route("/")
@permission_required(SYNC_VIEW)
def index() -> Response:
    return redirect(url_for("syncs.sync_list"))


@bp.route("/syncs")
@permission_required(SYNC_VIEW)
def sync_list() -> str:
    items = syncs.list_syncs(_user())
    last_runs = syncs.last_runs(items)
    return render_template(
        "syncs/list.html",
        syncs=items,
        last_runs=last_runs,
        last_statuses=run_status.statuses_of(db.session, last_runs.values()),
        destination_counts=syncs.destination_counts(items),
        notices=notices.for_syncs(items),
        labels=_labels(),
        stored_total=sum(retention.stored_bytes_by_sync().values()),
        scope_labels=syncs.scope_labels(items),
    )


@bp.route("/syncs/<int:sync_id>/enabled", methods=["POST"])
@permission_required(SYNC_MANAGE)
def toggle_enabled(sync_id: int) -> str | Response:
    sync = syncs.get_sync(sync_id, _user())
    wanted = request.form.get("enabled")
    if wanted not in ("0", "1"):
        abort(400, "enabled must be 0 or 1")
    syncs.set_enabled(sync, wanted == "1", user=_user())
    db.session.commit()
    if is_htmx():
        return render_template(
            "syncs/_row.html",
            sync=sync,
            last_run=syncs.last_runs([sync]).get(sync.id),
            destination_count=syncs.destination_counts([sync]).get(sync.id, 0),
            notices=notices.for_syncs([sync]),
            labels=_labels(),
            scope_labels=syncs.scope_labels([sync]),
        )
    return redirect(url_for("syncs.sync_list"))


@bp.route("/syncs/new", methods=["GET", "POST"])
@permission_required(SYNC_CREATE)
def create() -> str | Response:
    form = CreateSyncForm()
    types = exporters.all_types()
    form.type_key.choices = [SelectChoice(t.key, f"{t.label} ({t.key})") for t in types]
    chosen = request.values.get("type_key") or (types[0].key if types else "")
    scope = exporters.registry()[chosen].scope if chosen in exporters.registry() else None
    form.scope_id.choices = _scope_choices(scope)
    if scope is not None:
        form.scope_id.label.text = scope.label
    if request.method == "POST" and form.validate():
        params = {scope.key: form.scope_id.data} if scope is not None else {}
        try:
            sync = syncs.create_sync(chosen, form.name.data or "", params, user=_user())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(
                form,
                exc,
                aliases={"type": "type_key", **({scope.key: "scope_id"} if scope else {})},
            )
        else:
            db.session.commit()
            flash(f"Sync “{sync.name}” created. It is disabled until someone enables it.")
            return redirect(url_for("syncs.settings", sync_id=sync.id))
    template = (
        "syncs/_scope_field.html" if is_htmx() and request.method == "GET" else "syncs/create.html"
    )
    return render_template(template, form=form, scope=scope, types=types)


@bp.route("/syncs/<int:sync_id>/settings", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def settings(sync_id: int) -> str | Response:
    sync = syncs.get_sync(sync_id, _user())
    sync_type = syncs.sync_type_of(sync)
    form = SettingsForm(obj=sync) if request.method == "GET" else SettingsForm()
    if request.method == "GET":
        form.notify_emails.data = "\n".join(sync.notify_emails or [])
        form.compression.data = str(sync.compression)
        form.encryption.data = str(sync.encryption)
    form.timezone.choices = zone_choices(form.timezone.data or sync.timezone)
    option_values: dict[str, Any] = {**sync_type.default_options(), **(sync.options or {})}
    option_errors: dict[str, str] = {}
    if request.method == "POST" and form.validate():
        submitted = _submitted_options(sync_type)
        option_values.update(submitted)
        changes = {
            "execution_time": form.execution_time.data or "",
            "timezone": form.timezone.data or "",
            "compression": form.compression.data,
            "encryption": form.encryption.data,
            "pgp_armor": bool(form.pgp_armor.data),
            "notify_emails": form.notify_emails.data or "",
            "delivery_deadline": form.delivery_deadline.data or "",
            "options": submitted,
        }
        for key in ("retention_days", "retention_runs"):
            if key in request.form:  # a form without them leaves the policy as it is
                changes[key] = request.form[key]
        try:
            changed = syncs.update_settings(sync, changes, user=_user())
        except ValidationError as exc:
            db.session.rollback()
            option_errors = {
                k.removeprefix("options."): v
                for k, v in exc.errors.items()
                if k.startswith("options.")
            }
            apply_errors(
                form,
                ValidationError(
                    {k: v for k, v in exc.errors.items() if not k.startswith("options.")} or {}
                ),
            )
        else:
            db.session.commit()
            flash("Settings saved." if changed else "Nothing changed.")
            return redirect(url_for("syncs.settings", sync_id=sync.id))
    preview = _schedule_preview(
        form.execution_time.data or sync.execution_time, form.timezone.data or sync.timezone
    )
    return render_template(
        "syncs/settings.html",
        sync=sync,
        sync_type=sync_type,
        form=form,
        key_form=RecipientKeyForm(formdata=None),
        option_values=option_values,
        option_errors=option_errors,
        OptionKind=OptionKind,
        preview=preview,
        scope_label=syncs.scope_label(sync),
        scope=sync_type.scope,
        # Only support may change the scope: others get no list of every object.
        scope_choices=_scope_choices(sync_type.scope)
        if has_permission(_user(), SYNC_CREATE)
        else [],
        scope_value=str((sync.scope or {}).get(sync_type.scope.key, "")) if sync_type.scope else "",
    )


@bp.route("/syncs/<int:sync_id>/settings/preview")
@permission_required(SYNC_CONFIGURE)
def settings_preview(sync_id: int) -> str:
    sync = syncs.get_sync(sync_id, _user())
    preview = _schedule_preview(
        request.args.get("execution_time", sync.execution_time),
        request.args.get("timezone", sync.timezone),
    )
    return render_template("syncs/_schedule_preview.html", preview=preview)


@bp.route("/syncs/<int:sync_id>/keys", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def add_key(sync_id: int) -> Response | str:
    sync = syncs.get_sync(sync_id, _user())
    form = RecipientKeyForm()
    text = form.public_key.data or ""
    upload = request.files.get("key_file")
    if upload and upload.filename:
        text = upload.read(256 * 1024).decode("utf-8", errors="replace")
    try:
        added = recipients.add_recipient_key(sync, text, user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("Key not added: " + "; ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        flash(f"Added {len(added)} key(s)." if added else "That key is already a recipient.")
    return redirect(url_for("syncs.settings", sync_id=sync.id) + "#encryption")


@bp.route("/syncs/<int:sync_id>/keys/<int:key_id>/delete", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def remove_key(sync_id: int, key_id: int) -> Response:
    sync = syncs.get_sync(sync_id, _user())
    try:
        recipients.remove_recipient_key(sync, key_id, user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        flash("Key removed.")
    return redirect(url_for("syncs.settings", sync_id=sync.id) + "#encryption")


@bp.route("/syncs/<int:sync_id>/delete", methods=["GET", "POST"])
@permission_required(SYNC_CREATE)
def delete(sync_id: int) -> str | Response:
    """GET: what would be lost, and the confirm button. POST with ``confirm``: delete.

    A POST without ``confirm`` (an old one-click form, a replayed request) only shows the
    confirmation page. The files go after the commit, never before.
    """
    sync = syncs.get_sync(sync_id, _user())
    if request.method == "POST" and request.form.get("confirm") == "delete":
        name = sync.name
        folder = syncs.delete_sync(sync, user=_user())
        db.session.commit()
        syncs.remove_export_folder(folder)
        flash(f"Sync “{name}” deleted, with its runs and files.")
        return redirect(url_for("syncs.sync_list"))
    return render_template(
        "syncs/delete.html",
        sync=sync,
        impact=syncs.deletion_impact(sync),
        scope_label=syncs.scope_label(sync),
    )


@bp.route("/sync-types/<key>")
@permission_required(SYNC_VIEW)
def layout(key: str) -> str:
    sync_type = exporters.registry().get(key)
    if sync_type is None:
        abort(404)
    return render_template("syncs/layout.html", sync_type=sync_type)


def _scope_choices(scope: Any) -> list[SelectChoice]:
    """The scope select: an empty "choose" entry first, so that nothing is chosen unseen
    (the browser would otherwise submit the first object in the list)."""
    if scope is None:
        return []
    objects = scope.choices(db.session())
    prompt = f"— Choose a {scope.label.lower()} —"
    return [
        SelectChoice("", prompt),
        *(SelectChoice(str(i), label) for i, label in objects),
    ]


@bp.route("/syncs/<int:sync_id>/scope", methods=["POST"])
@permission_required(SYNC_CREATE)
def change_scope(sync_id: int) -> Response:
    """Support binds the sync to another scope object (audited; the watermark is reset)."""
    sync = syncs.get_sync(sync_id, _user())
    try:
        changed = syncs.change_scope(sync, request.form.get("scope_id"), user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("Scope not changed: " + "; ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        if changed:
            flash(
                f"Scope changed to {changed['scope']['to']}. The next run exports the new "
                "scope in full."
            )
        else:
            flash("Nothing changed.")
    return redirect(url_for("syncs.settings", sync_id=sync.id) + "#scope")


def _submitted_options(sync_type: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option in sync_type.options:
        field = f"option_{option.key}"
        if option.kind is OptionKind.BOOL:
            values[option.key] = field in request.form
        elif option.kind is OptionKind.MULTI:
            values[option.key] = request.form.getlist(field)
        elif field in request.form:
            values[option.key] = request.form[field]
    return values


def _schedule_preview(execution_time: str, zone: str) -> dict[str, Any]:
    try:
        # The model's own checks: ASCII HH:MM, a zone name of sane length (ZoneInfo raises
        # OSError on a 300-character name).
        wall = schedule.parse_time(check_execution_time(execution_time))
        zone = check_timezone(zone)
        slots = schedule.next_slots(wall, zone, datetime.now(UTC), 3)
        notes = schedule.dst_notes(wall, zone, datetime.now(UTC).year) + schedule.dst_notes(
            wall, zone, datetime.now(UTC).year + 1
        )
    except (ValueError, KeyError, LookupError):
        return {"error": "Enter a time as HH:MM and choose a timezone to see the next runs."}
    return {"slots": slots, "notes": notes[:4], "zone": zone}


def _labels() -> dict[str, str]:
    return {t.key: t.label for t in exporters.all_types()}


from webapp.blueprints.syncs import signing as _signing  # noqa: E402,F401  (its routes on bp)
