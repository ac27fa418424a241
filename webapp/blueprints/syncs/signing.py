"""Settings: the sync's PGP signing key (set, replace, remove).

Post-redirect-get like the recipient keys: a refused key is reported in a flash message
and the page is rendered afresh, so a pasted private key or passphrase is never sent back
to the browser, not even after an error.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers.response import Response

from loyalty.errors import ValidationError
from webapp.blueprints.syncs.views import _user, bp
from webapp.extensions import db
from webapp.services import signing, syncs
from webapp.services.permissions import SYNC_CONFIGURE, permission_required


@bp.route("/syncs/<int:sync_id>/signing-key", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def set_signing_key(sync_id: int) -> Response:
    sync = syncs.get_sync(sync_id, _user())
    text = request.form.get("private_key") or ""
    upload = request.files.get("key_file")
    if upload and upload.filename:
        text = upload.read(256 * 1024).decode("utf-8", errors="replace")
    try:
        fingerprint = signing.set_signing_key(
            sync, text, request.form.get("passphrase") or "", user=_user()
        )
    except ValidationError as exc:
        db.session.rollback()
        flash("Signing key not saved: " + "; ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        flash(f"Signing key {fingerprint} saved; files are signed from the next run.")
    return redirect(url_for("syncs.settings", sync_id=sync.id) + "#signing")


@bp.route("/syncs/<int:sync_id>/signing-key/delete", methods=["POST"])
@permission_required(SYNC_CONFIGURE)
def remove_signing_key(sync_id: int) -> Response:
    sync = syncs.get_sync(sync_id, _user())
    try:
        signing.remove_signing_key(sync, user=_user())
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        flash("Signing key removed; files are no longer signed.")
    return redirect(url_for("syncs.settings", sync_id=sync.id) + "#signing")
