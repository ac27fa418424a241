"""The OpenAPI document (``/api/v1/openapi.json``) and a readable reference page
(``/api/v1/docs``, the vendored Swagger UI: no CDN, no inline script, so it works under
the app's Content-Security-Policy). Both are public: they describe the API, hold no data,
and a script must be able to read the document before it has a token."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, current_app, json, render_template
from flask_smorest import Blueprint

from webapp.services.permissions import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1", description="This document")

# Answers every secured operation may give besides its own (see docs/api.md).
_COMMON = (400, 401, 403, 429)
_BY_ID = (404,)
_WRITES = (409, 413, 415, 422)
_PATCH = (412, 428)


def spec_dict() -> dict[str, Any]:
    """The document, with the shared error answers added to every operation (once per app)."""
    cached = current_app.extensions.get("lsync-api-spec")
    if cached is not None:
        return dict(cached)
    api = current_app.extensions["lsync-api"]
    for code in (*_COMMON, *_BY_ID, *_WRITES, *_PATCH):
        # Materialise the lazily registered components the operations will point to.
        api.spec.components.get_ref("response", HTTPStatus(code).name)
    spec: dict[str, Any] = api.spec.to_dict()
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            if path.endswith(("/openapi.json", "/docs")):
                operation["security"] = []
                continue
            extra = list(_COMMON)
            if "{" in path:
                extra += _BY_ID
            if method in ("post", "patch", "put", "delete"):
                extra += _WRITES
            if method in ("patch", "delete"):
                extra += _PATCH
            if method == "get" and "parameters" in operation:
                extra.append(422)
            for code in extra:
                name = HTTPStatus(code).name
                responses.setdefault(str(code), {"$ref": f"#/components/responses/{name}"})
            responses.pop("default", None)
    current_app.extensions["lsync-api-spec"] = spec
    return dict(spec)


@bp.route("/openapi.json")
@public
@bp.doc(summary="This OpenAPI 3.1 document", security=[])
@bp.response(200, {"type": "object"}, description="The OpenAPI document")
def openapi_json() -> Response:
    return Response(json.dumps(spec_dict()), mimetype="application/json")


@bp.route("/docs")
@public
@bp.doc(summary="The API reference page (HTML)", security=[])
@bp.response(200, {"type": "string"}, content_type="text/html", description="An HTML page")
def reference() -> Response:
    return Response(render_template("api/reference.html"), mimetype="text/html")
