"""Error pages. htmx requests get a small fragment instead of a whole page."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from redis import RedisError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response as BaseResponse

from loyalty.errors import NotFound
from webapp.services.permissions import PermissionDenied


def install_error_handlers(app: Flask) -> None:
    def render(status: int, title: str, message: str) -> tuple[str, int]:
        template = (
            "errors/_fragment.html" if request.headers.get("HX-Request") else "errors/page.html"
        )
        return render_template(template, status=status, title=title, message=message), status

    @app.errorhandler(403)
    def forbidden(_error: HTTPException) -> tuple[str, int]:
        return render(403, "Not allowed", "Your role does not allow this action.")

    @app.errorhandler(PermissionDenied)
    def denied(_error: PermissionDenied) -> tuple[str, int]:
        return render(403, "Not allowed", "Your role does not allow this action.")

    @app.errorhandler(404)
    def not_found(_error: HTTPException) -> tuple[str, int]:
        return render(404, "Not found", "There is nothing at this address.")

    @app.errorhandler(NotFound)
    def service_not_found(error: NotFound) -> tuple[str, int]:
        return render(404, "Not found", str(error))

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int] | BaseResponse:
        # A session that ended (logout elsewhere, expiry) loses its CSRF token too: that is
        # a login problem, so send the user to log in rather than show "bad request".
        if not current_user.is_authenticated and request.endpoint != "auth.login":
            from webapp.extensions import login_manager

            return login_manager.unauthorized()
        if request.headers.get("HX-Request"):
            response = Response("The page expired; it is being reloaded.", status=400)
            response.headers["HX-Refresh"] = "true"
            return response
        return render(
            400, "The form expired", f"{error.description} Reload the page and try again."
        )

    @app.errorhandler(RedisError)
    def redis_down(_error: RedisError) -> tuple[str, int]:
        # Redis (the job queue) restarting must not show as a crash; what was saved in the
        # database stays saved, and the minute sweep queues its work once Redis is back.
        app.logger.warning("Redis did not answer", exc_info=True)
        return render(
            503,
            "Job queue unavailable",
            "The job queue (Redis) is not answering. Anything already saved is kept and "
            "starts when Redis is back; try again in a minute.",
        )

    @app.errorhandler(429)
    def too_many(error: HTTPException) -> Response:
        # Flask-Limiter adds Retry-After (and the X-RateLimit headers) to this response.
        # The text is the same whichever limit (account or address) was reached and
        # whether or not the account exists.
        embedded = getattr(error, "response", None)
        if embedded is not None:  # a limit's own answer (Test connection's result box)
            return embedded
        body, status = render(
            429,
            "Too many attempts",
            "Too many attempts. Wait a few minutes before you try again.",
        )
        response = Response(body, status=status, mimetype="text/html")
        retry = getattr(error, "retry_after", None)
        if retry is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(int(retry))
        return response

    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> tuple[str, int]:
        return render(
            400, "Bad request", error.description or "The request could not be understood."
        )
