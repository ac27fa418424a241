"""``ETag`` / ``If-Match``: two editors cannot silently overwrite each other.

The ETag of a sync or destination is a hash of its API representation, so any change
(by the API, the web pages or the CLI) changes it. A PATCH must send ``If-Match`` with
the ETag it read (428 without one); a stale one is 412 and nothing is written. The
check runs on the row locked for the update (``SELECT … FOR UPDATE`` on PostgreSQL), so
two PATCHes with the same ETag cannot both pass.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import json, request

from webapp.api.problem import problem

# The OpenAPI parameter of a PATCH that needs ``If-Match`` (``require_if_match``).
IF_MATCH_REQUIRED = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
}


def etag_of(representation: Any) -> str:
    payload = json.dumps(representation, sort_keys=True, default=str)
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


class PreconditionError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Any:
        kind = "precondition-required" if self.status == 428 else "precondition-failed"
        return problem(self.status, self.detail, kind=kind)


def require_if_match(current: str, *, required: bool = True) -> None:
    """Raise PreconditionError unless ``If-Match`` names ``current`` (or ``*``)."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionError(
                428,
                "Send If-Match with the ETag of your last GET of this resource, so that a "
                "change made by someone else since then is not overwritten.",
            )
        return
    offered = {part.strip().removeprefix("W/") for part in header.split(",")}
    if "*" in offered or current in offered:
        return
    raise PreconditionError(
        412,
        "This resource changed since you read it (its ETag is not the one in If-Match); "
        "GET it again, re-apply your change and retry. Nothing was changed.",
    )
