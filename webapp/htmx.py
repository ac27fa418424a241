"""htmx request detection. Every HTML response carries ``Vary: HX-Request`` (see
``blueprints.register_blueprints``), because pages and their partials share URLs."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"
