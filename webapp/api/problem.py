"""Errors as ``application/problem+json`` (RFC 9457), with field-level details.

Every refusal of the API has the same shape: ``type`` (a stable URI naming the kind),
``title``, ``status``, ``detail`` and, for bad input, ``errors`` mapping each field to
its message, exactly the messages the services' ``ValidationError`` carries (the form
shows them next to the input, the CLI prints them, the API returns them here).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response, g, json

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://loyalty-sync.invalid/problems/"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "URI of the problem kind"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String(metadata={"description": "The request path"})
    request_id = ma.fields.String(metadata={"description": "X-Request-Id of the request"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Field (dotted for nested values) -> message"},
    )


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    from flask import request

    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": phrase,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow/webargs messages ({"json": {"options": {"rows": ["..."]}}}) as
    ``{"options.rows": "..."}``: one message per field, dotted paths, no location."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "__all__"] = " ".join(messages)
        else:
            for index, value in enumerate(messages):
                out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "__all__"] = str(messages)
    return out


def validation_problem(errors: dict[str, str], detail: str | None = None) -> Response:
    return problem(
        422,
        detail or "The request was refused; nothing was changed. See errors for each field.",
        kind="validation",
        errors=errors,
    )
