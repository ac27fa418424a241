"""``/files/{id}/content``: an original file, streamed, with ``Range`` support and its
sha256 in ``X-Checksum-SHA256`` (and RFC 9530 ``Repr-Digest``); audited like the page's
download."""

from __future__ import annotations

import base64

from flask import Response, send_file
from flask_smorest import Blueprint

from webapp.api.auth import acting_user, api_permission
from webapp.services import runs
from webapp.services.permissions import SYNC_DOWNLOAD

bp = Blueprint("api_files", __name__, url_prefix="/api/v1/files", description="Files")


@bp.route("/<int:file_id>/content")
@api_permission(SYNC_DOWNLOAD)
@bp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    headers={
        "X-Checksum-SHA256": {"schema": {"type": "string"}, "description": "hex sha256"},
        "Repr-Digest": {"schema": {"type": "string"}},
    },
)
@bp.alt_response(
    206,
    schema={"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    description="A byte range (Range: bytes=…)",
)
@bp.alt_response(416, description="The range is outside the file")
def download_file(file_id: int) -> Response:
    """Download an original file (the bytes the exporter wrote, before packaging)."""
    sync_file, path = runs.file_for_download(file_id, acting_user())
    response = send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=sync_file.name,
        conditional=True,
        etag=sync_file.sha256,
    )
    response.headers["X-Checksum-SHA256"] = sync_file.sha256
    digest = base64.b64encode(bytes.fromhex(sync_file.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response
