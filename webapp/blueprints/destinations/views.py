"""FTP Destinations of a sync: list, add, edit, delete, test connection."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    Response as FlaskResponse,
)
from flask_login import current_user
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.blueprints.destinations.forms import DestinationForm
from webapp.extensions import db, limiter
from webapp.forms import apply_errors
from webapp.models.syncs import MAX_DESTINATIONS, Destination, Protocol
from webapp.services import connection_test, destinations, syncs
from webapp.services.permissions import SYNC_CONFIGURE, permission_required

bp = Blueprint("destinations", __name__)


def _user() -> Any:
    return current_user._get_current_object()


def _form_data(form: DestinationForm) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in destinations.FIELDS if hasattr(form, name)}
    # The stored pin (hidden input) comes first, a key accepted after a test comes last.
    data["host_key_fingerprint"] = (request.form.getlist("host_key_fingerprint") or [""])[-1]
    data["host_key_type"] = (request.form.getlist("host_key_type") or [""])[-1]
    data["tls_fingerprint"] = (request.form.getlist("tls_fingerprint") or [""])[-1]
    data["tls_not_after"] = (request.form.getlist("tls_not_after") or [""])[-1]
    return data


def _forget_secrets(form: DestinationForm) -> None:
    """A form shown again after an error never carries a pasted private key back to the
    browser (password fields never render their value)."""
    form.private_key.data = ""


def _saved(destination: Destination, raw: dict[str, Any]) -> Response:
    """Commit a saved destination; a test of exactly these settings (pressed on the form)
    becomes its last test. An untested, failed or unpinned one is saved with a warning and
    the form again, where Test connection is: its first transfer would fail otherwise."""
    connection_test.record_from_token(destination, request.form.get("test_token"), raw, _user())
    db.session.commit()
    problem = destinations.trust_problem(destination)
    if problem is None:
        flash(f"Destination “{destination.name}” saved.")
        return redirect(url_for("destinations.destination_list", sync_id=destination.sync_id))
    flash(
        f"Destination “{destination.name}” saved, but {problem} Press Test connection.", "warning"
    )
    return redirect(
        url_for("destinations.edit", destination_id=destination.id) + "#test-connection"
    )


@bp.route("/syncs/<int:sync_id>/destinations")
@permission_required(SYNC_CONFIGURE)
def destination_list(sync_id: int) -> str:
    sync = syncs.get_sync(sync_id, _user())
    return render_template(
        "destinations/list.html", sync=sync, max_destinations=MAX_DESTINATIONS, Protocol=Protocol
    )


@bp.route("/syncs/<int:sync_id>/destinations/new", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def add(sync_id: int) -> str | Response:
    sync = syncs.get_sync(sync_id, _user())
    if len(sync.destinations) >= MAX_DESTINATIONS and request.method == "GET":
        flash(f"This sync already has {MAX_DESTINATIONS} destinations, the most allowed.", "error")
        return redirect(url_for("destinations.destination_list", sync_id=sync.id))
    form = DestinationForm()
    if form.validate_on_submit():
        try:
            destination = destinations.add_destination(sync, _form_data(form), user=_user())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            return _saved(destination, _form_data(form))
    _forget_secrets(form)
    return render_template(
        "destinations/form.html", sync=sync, form=form, destination=None, Protocol=Protocol
    )


@bp.route("/destinations/<int:destination_id>/edit", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def edit(destination_id: int) -> str | Response:
    destination = destinations.get_destination(destination_id)
    sync = syncs.get_sync(destination.sync_id, _user())
    form = DestinationForm(obj=destination) if request.method == "GET" else DestinationForm()
    if request.method == "GET":
        form.protocol.data = str(destination.protocol)
        form.retries.data = str(destination.retries)
        form.port.data = str(destination.port or "")
        form.marker.data = str(destination.marker or "none")
    if form.validate_on_submit():
        try:
            destinations.update_destination(destination, _form_data(form), user=_user())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            return _saved(destination, _form_data(form))
    _forget_secrets(form)
    return render_template(
        "destinations/form.html", sync=sync, form=form, destination=destination, Protocol=Protocol
    )


@bp.route("/destinations/<int:destination_id>/delete", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def delete(destination_id: int) -> str | Response:
    """GET: what deleting changes, and the confirm button; POST with ``confirm``: delete."""
    destination = destinations.get_destination(destination_id)
    sync = syncs.get_sync(destination.sync_id, _user())
    if request.method == "POST" and request.form.get("confirm") == "delete":
        name = destination.name
        destinations.delete_destination(destination, user=_user())
        db.session.commit()
        flash(f"Destination “{name}” deleted.")
        return redirect(url_for("destinations.destination_list", sync_id=sync.id))
    return render_template(
        "destinations/delete.html",
        sync=sync,
        destination=destination,
        impact=destinations.deletion_impact(destination),
        Protocol=Protocol,
    )


@bp.route("/destinations/<int:destination_id>/pin", methods=["GET", "POST"])
@permission_required(SYNC_CONFIGURE)
def renew_pin(destination_id: int) -> str | Response:
    """Renew a pinned host key or certificate after the receiver changed it on purpose.

    GET: the current pin and a Test connection of the stored settings (the pinned key is
    checked first, so the password never reaches a server showing another key). POST:
    pin what that test saw, only if this user's finished test of this destination
    presented exactly the ticked fingerprint.
    """
    destination = destinations.get_destination(destination_id)
    sync = syncs.get_sync(destination.sync_id, _user())
    if request.method == "POST":
        sftp = Protocol(destination.protocol) is Protocol.SFTP
        ticked = (request.form.get("host_key_fingerprint") if sftp else None) or (
            request.form.get("tls_fingerprint") or ""
        )
        seen = connection_test.finished_outcome(request.form.get("test_token"), _user())
        presented = (seen.host_key_fingerprint if sftp else seen.tls_fingerprint) if seen else None
        try:
            if seen is None or seen.destination_id != destination.id or not presented:
                raise ValidationError(
                    {"test": "Press Test connection first: the pin is renewed to what it shows."}
                )
            if ticked.strip() != presented:
                raise ValidationError(
                    {"fingerprint": "Tick the key or certificate the test showed to pin it."}
                )
            detail = destinations.renew_pin(
                destination,
                presented,
                key_type=seen.host_key_type,
                not_after=seen.tls_not_after,
                user=_user(),
            )
        except ValidationError as exc:
            db.session.rollback()
            flash("Pin not renewed: " + "; ".join(exc.errors.values()), "error")
            return redirect(url_for("destinations.renew_pin", destination_id=destination.id))
        db.session.commit()
        flash(
            f"Pin renewed: {detail['to']} replaces {detail['from']}. Press Test connection "
            "to check that the login works with it.",
            "warning",
        )
        return redirect(url_for("destinations.destination_list", sync_id=sync.id))
    return render_template(
        "destinations/renew_pin.html", sync=sync, destination=destination, Protocol=Protocol
    )


def _test_limit_key() -> str:
    return f"connection-test-user:{getattr(current_user, 'id', None)}"


def _test_limited(limit: Any) -> FlaskResponse:
    """Too many tests: say so in the result box (htmx swaps this 429, see app.js)."""
    outcome = connection_test.Outcome(
        ok=False, message="Too many connection tests; wait a minute before the next one."
    )
    response = FlaskResponse(
        render_template("destinations/_test_result.html", outcome=outcome, poll_url=None),
        status=429,
    )
    response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    return response


@bp.route("/syncs/<int:sync_id>/destinations/test", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
@limiter.limit(
    lambda: current_app.config["CONNECTION_TEST_LIMIT"],
    key_func=_test_limit_key,
    on_breach=_test_limited,
)
def test(sync_id: int) -> str:
    """Test connection with the form's values (the stored password when left empty and
    the endpoint unchanged): enqueued; the result box polls ``test_result``."""
    sync = syncs.get_sync(sync_id, _user())
    existing: Destination | None = None
    if request.form.get("destination_id"):
        # get_destination takes the raw text: "abc" or 2**40 is a NotFound (404), not a 500.
        existing = destinations.get_destination(request.form["destination_id"])
        if existing.sync_id != sync.id:
            abort(404)
    form = DestinationForm()
    data = _form_data(form)
    started = connection_test.start(data, existing, sync_id=sync.id, user=_user())
    if isinstance(started, connection_test.Outcome):
        return render_template("destinations/_test_result.html", outcome=started, poll_url=None)
    outcome = connection_test.Outcome(ok=False, message="Testing…", pending=True)
    poll_url = url_for("destinations.test_result", sync_id=sync.id, token=started)
    return render_template("destinations/_test_result.html", outcome=outcome, poll_url=poll_url)


@bp.route("/syncs/<int:sync_id>/destinations/test/<token>")
@permission_required(SYNC_CONFIGURE)
def test_result(sync_id: int, token: str) -> str:
    """The result box: polls itself every second while the test runs."""
    sync = syncs.get_sync(sync_id, _user())
    outcome = connection_test.outcome(token, _user())
    if outcome is None:
        abort(404)
    poll_url = (
        url_for("destinations.test_result", sync_id=sync.id, token=token)
        if outcome.pending
        else None
    )
    return render_template(
        "destinations/_test_result.html", outcome=outcome, poll_url=poll_url, token=token
    )
