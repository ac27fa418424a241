"""Daily housekeeping, claimed once per day in the database.

``(task, day)`` is unique: every scheduler's minute tick may try to claim today's purge,
the first insert wins and the others lose the race on the constraint and do nothing,
like the scheduled-minute uniqueness of runs. The row also tells the console when the
purge last ran and what it removed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow


class MaintenanceRun(Base):
    __tablename__ = "maintenance_runs"
    __table_args__ = (UniqueConstraint("task", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
