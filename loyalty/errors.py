"""The one error type services raise for bad input.

It carries messages per field so that a form can show each next to its input and the
CLI can print them; services raise it before anything is written, so bad input never
changes what is stored.
"""

from __future__ import annotations


class ValidationError(Exception):
    def __init__(self, errors: dict[str, str] | str, field: str = "__all__") -> None:
        self.errors: dict[str, str] = {field: errors} if isinstance(errors, str) else dict(errors)
        super().__init__("; ".join(self.errors.values()))


class NotFound(Exception):
    """The object asked for does not exist (or is not visible to the user)."""
