"""Request input the database could not even be asked about, refused before any view runs.

- An ``<int:...>`` route argument beyond the database's integer range (``/syncs/2147483648``)
  names no row; PostgreSQL would refuse the lookup (int4 out of range) and the user would
  see a 500. It is a 404, like any other id that does not exist.
- A NUL byte in any query or form value (the login form included, which anyone may post)
  cannot reach PostgreSQL either; the request is a 400 that says so.
- ``?page=``, ``?sync=``, ``?user=``: :func:`query_int` reads them, with a range.
- ``?next=`` and a form's ``next``: :func:`local_path` lets only a path on this site through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, request

from loyalty.text import MAX_ID, clean_int

# 10 million pages of 50 rows: beyond anything stored, small enough for any OFFSET.
MAX_PAGE = 10_000_000


def install_request_guards(app: Flask) -> None:
    @app.url_value_preprocessor
    def ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        for value in (values or {}).values():
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ID:
                abort(404)

    @app.before_request
    def no_nul_bytes() -> None:
        for source in (request.args, request.form):
            for key, values in source.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    abort(400, "The request contains a NUL character; remove it and try again.")


def query_int(name: str, default: int | None, *, maximum: int = MAX_ID) -> int | None:
    """The query argument ``name`` as a whole number from 1 to ``maximum``.

    Missing or empty gives ``default``; anything else (text, 0, full-width digits, a number
    beyond the range) is a 400 that names the argument.
    """
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return clean_int(raw, name, minimum=1, maximum=maximum)
    except ValueError as exc:
        abort(400, str(exc))


def local_path(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: never an open redirect.

    Browsers read ``/\\host`` as ``//host`` and drop tabs and newlines inside a URL
    (``/<tab>/host`` becomes ``//host``), so a backslash or any control character or space
    refuses the target, as a scheme, a host or a leading ``//`` do.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ch <= " " or ch == "\x7f" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
