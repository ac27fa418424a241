"""Functions and filters templates use (permission checks, dates in a zone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for
from flask_login import current_user

from webapp.services.permissions import ALL_PERMISSIONS, has_permission


def install_template_helpers(app: Flask) -> None:
    from webapp.services.run_status import register_template_helpers

    register_template_helpers(app)  # the one run status vocabulary (issue 14)

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        # Pages ask "can the user ...?" on every row: decide the user's permissions once.
        granted = frozenset(p for p in ALL_PERMISSIONS if has_permission(current_user, p))
        return {"can": granted.__contains__, "page_url": page_url}

    @app.template_filter("when")
    def _when(value: datetime | None, zone: str = "UTC") -> str:
        if value is None:
            return ""
        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    @app.template_filter("error_kind_label")
    def _error_kind_label(kind: str | None) -> str:
        return error_kind_label(kind)

    @app.template_filter("filesize")
    def _filesize(size: int | None) -> str:
        if size is None:
            return ""
        value = float(size)
        for unit in ("B", "KiB", "MiB", "GiB"):
            if value < 1024 or unit == "GiB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024
        return f"{size} B"


def page_url(page: int) -> str:
    """The current page's URL with its filters kept and another page number.

    The query string is appended as plain text, never passed to ``url_for`` as keywords:
    there ``endpoint`` clashes with its first argument and ``_anchor``, ``_external`` or
    ``_scheme`` would change the link itself.
    """
    path = url_for(request.endpoint or "syncs.index", **(request.view_args or {}))
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return f"{path}?{urlencode([*args, ('page', str(page))])}"


# What a viewer reads about a failed transfer: the kind of error, in words, and nothing of
# the destination (host, port, user, directory are in the full text sync managers see).
_KIND_LABELS = {
    "dns": "The server name could not be found.",
    "refused": "The server refused the connection.",
    "unreachable": "The server could not be reached.",
    "timeout": "The server did not answer in time.",
    "auth": "The server rejected the login.",
    "bad_key": "The private key could not be used.",
    "host_key_changed": "The server's host key has changed.",
    "host_key_unknown": "The server's host key has not been accepted yet.",
    "tls": "The TLS handshake failed.",
    "cert_untrusted": "The server's certificate is not trusted.",
    "cert_mismatch": "The server's certificate does not match.",
    "permission": "The server did not allow writing the file.",
    "no_directory": "The server directory does not exist.",
    "disk_full": "The server has no space left.",
    "remote_exists": "The file already exists on the server.",
    "size_mismatch": "The copy on the server was incomplete.",
    "server_error": "The server reported an error.",
    "protocol": "The server answered in an unexpected way.",
    "connection_lost": "The connection was lost.",
    "encryption": "PGP encryption failed.",
    "local": "A local file could not be used.",
    "config": "The destination settings are not usable.",
}


def error_kind_label(kind: str | None) -> str:
    if not kind:
        return "The transfer failed."
    return _KIND_LABELS.get(str(kind), "The transfer failed.")
