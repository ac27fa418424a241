"""Cursor (keyset) pagination: ``?limit=`` and an opaque ``?cursor=``, newest first.

A page is ``{"items": [...], "next": <url or null>}`` with the same URL in a
``Link: <…>; rel="next"`` header. The cursor is the last id seen, so a page costs one
index range scan however deep it is, and rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar

import marshmallow as ma
from flask import g, request, url_for

from loyalty.text import MAX_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
T = TypeVar("T")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> int:
    """The id a cursor stands for; ma.ValidationError for anything we did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ma.ValidationError("Not a cursor of this API; use the next link.") from None
    version, _, number = raw.partition(":")
    if version != "v1" or not number.isascii() or not number.isdigit() or len(number) > 10:
        raise ma.ValidationError("Not a cursor of this API; use the next link.")
    ident = int(number)
    if not 1 <= ident <= MAX_ID + 1:
        raise ma.ValidationError("Not a cursor of this API; use the next link.")
    return ident


class CursorField(ma.fields.String):
    """A cursor in a query string, loaded as the id it stands for."""

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> int:
        if not isinstance(value, str):
            raise ma.ValidationError("Not a cursor of this API; use the next link.")
        return decode_cursor(value)


class StrictQuery(ma.Schema):
    """A query string. An unknown parameter is refused, not ignored: a typo such as
    ``?stauts=failed`` must not answer with every run as if no filter had been asked."""

    class Meta:
        unknown = ma.RAISE


class PageArgs(StrictQuery):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page (1-{MAX_LIMIT})"},
    )
    cursor = CursorField(
        load_default=None,
        metadata={"description": "From the previous page's next link; omit for the first page"},
    )


def page(rows: Sequence[T], limit: int, id_of: Any = None) -> tuple[list[T], str | None]:
    """The first ``limit`` rows (the query fetched limit + 1) and the next page's URL."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    last = items[-1]
    last_id = id_of(last) if id_of else last.id  # type: ignore[attr-defined]
    args = request.args.to_dict(flat=False)
    args["cursor"] = [encode_cursor(last_id)]
    args["limit"] = [str(limit)]
    assert request.endpoint is not None
    url = url_for(request.endpoint, **(request.view_args or {}), **args)  # type: ignore[arg-type]
    g.api_next_page = url  # the Link header (webapp.api.init_api)
    return items, url


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``{"items": [item], "next": url|null}`` as a named schema for the OpenAPI document."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
            "next": ma.fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "URL of the next page, null on the last"},
            ),
        },
    )
