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
