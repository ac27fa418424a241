"""Request ids: ``X-Request-Id`` taken from the client when sane, else generated, sent
back on every response and put on every log record written while the request runs, so a
user's error report and the server's log lines can be matched."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context

HEADER = "X-Request-Id"
SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` ("-" outside a request) for formatters to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def install_request_ids(app: Flask) -> None:
    from flask import request

    @app.before_request
    def _take_request_id() -> None:
        offered = request.headers.get(HEADER, "")
        g.request_id = offered if SANE.fullmatch(offered) else uuid.uuid4().hex

    @app.after_request
    def _send_request_id(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers.setdefault(HEADER, request_id)
        return response

    @app.teardown_request
    def _forget_request_id(_error: BaseException | None) -> None:
        g.pop("request_id", None)

    log_filter = RequestIdFilter()
    app.logger.addFilter(log_filter)
    for handler in app.logger.handlers:
        handler.addFilter(log_filter)
