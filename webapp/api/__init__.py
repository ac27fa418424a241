"""``/api/v1``: the REST API (issue 13), for schedulers, monitoring and deployment scripts.

flask-smorest builds the routes and the OpenAPI 3.1 document from the same marshmallow
schemas that parse requests and dump responses (see docs/api.md for why flask-smorest).
Every view calls the same services as the pages and the CLI, so a rule holds in all
three; this package only translates HTTP to those calls and back.

One module per resource; ``auth`` (tokens, permissions), ``problem`` (errors),
``pagination``, ``etags`` and ``request_id`` hold the conventions they share.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_smorest import Api, Blueprint

from webapp.api import auth
from webapp.api.problem import PROBLEM_TYPE, ProblemSchema

API_PREFIX = "/api/v1"

# webargs drops unknown query parameters by default; here a query string is read by its
# schema's own ``Meta.unknown`` (RAISE in ``PageArgs`` and ``AuditFilter``), so a mistyped
# filter such as ``?stauts=failed`` is a 422 naming it, not a page of every run.
Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION = {
    **Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION,
    "query": None,
    "querystring": None,
}
_PREPARED: set[str] = set()


class LsyncApi(Api):
    """flask-smorest's Api, with errors documented and sent as problem+json, and its
    app-wide error handler left out (the pages keep their HTML errors)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled per API blueprint (``errors.install``), not app-wide."""

    def _register_responses(self) -> None:
        import http

        from flask_smorest.spec import prepare_response

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def blueprints() -> list[Blueprint]:
    from webapp.api import (
        audit,
        destinations,
        docs,
        files,
        runs,
        sync_types,
        syncs,
        tokens,
        transfers,
        users,
    )

    return [
        sync_types.bp,
        syncs.bp,
        destinations.bp,
        runs.bp,
        transfers.bp,
        files.bp,
        users.bp,
        audit.bp,
        tokens.bp,
        docs.bp,
    ]


def init_api(app: Flask) -> None:
    """Mount ``/api/v1`` on ``app`` (called by ``create_app`` after the error pages)."""
    from webapp.api import errors
    from webapp.api.request_id import install_request_ids
    from webapp.extensions import csrf, limiter

    app.config.setdefault("API_TITLE", "Loyalty Sync API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Syncs, destinations, runs, transfers, files, users and the "
                "audit log of Loyalty Sync. Authenticate with an API token: "
                "`Authorization: Bearer lsync_…` (create one under API tokens). "
                "See docs/api.md.",
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API token (lsync_…)",
                    }
                }
            },
        },
    )
    # Requests per token (or per address without a valid token), in Flask-Limiter's
    # notation, counted in Redis like every other limit.
    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    api = LsyncApi(app)
    install_request_ids(app)
    for blueprint in blueprints():
        if blueprint.name not in _PREPARED:
            # Blueprints and extensions are module-level (tests build many apps): their
            # hooks are attached once, before the first registration.
            _PREPARED.add(blueprint.name)
            blueprint.before_request(auth.check_request)
            errors.install(blueprint)
            csrf.exempt(blueprint)
            limiter.limit(
                lambda: current_app.config["API_RATE_LIMIT"],
                key_func=auth.rate_limit_key,
                exempt_when=lambda: auth.required_permissions(request.endpoint) is None,
            )(blueprint)
        api.register_blueprint(blueprint)
    errors.install_fallbacks(app)
    app.extensions["lsync-api"] = api

    @app.after_request
    def _link_next_page(response: Response) -> Response:
        url = g.pop("api_next_page", None)
        if url:
            response.headers["Link"] = f'<{url}>; rel="next"'
        if request.path.startswith(API_PREFIX + "/"):
            token = g.get("api_token")
            # One line per API request; the request id is on the record (request_id).
            app.logger.info(
                "api %s %s -> %s token=%s",
                request.method,
                request.path,
                response.status_code,
                token.id if token is not None else "-",
            )
        return response

    @app.teardown_request
    def _forget_token(_error: BaseException | None) -> None:
        # Tests reuse one app context (and so one ``g``) for many requests.
        if g.pop("api_token", None) is not None:
            g.pop("_login_user", None)
        g.pop("_api_auth_resolved", None)
