"""How a job's unexpected error reads on its run or transfer row (and in the notice)."""

from __future__ import annotations

from delivery.errors import DeliveryError
from jobs.lease import LeaseLost


def describe(exc: BaseException) -> str:
    """The message of a lost lease or a delivery error as it is; else ``Type: message``."""
    if isinstance(exc, LeaseLost | DeliveryError):
        return str(getattr(exc, "message", None) or exc)
    return f"{type(exc).__name__}: {exc}"
