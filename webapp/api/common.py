"""Small pieces the resource modules share: the id type of path parameters, datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


class Aware(ma.fields.AwareDateTime):
    """An ISO 8601 instant with an offset (``2026-12-03T10:00:00Z``), always UTC inside."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        result: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not 1970 <= result.year <= 9998:
            raise ma.ValidationError("Give a date between 1970 and 9998.")
        return result.astimezone(UTC)


class Strict(ma.Schema):
    """Request bodies: an unknown field is an error (a typo must not be silently dropped)."""

    class Meta:
        unknown = ma.RAISE
