"""The installation: one row naming this install, shared by every process that uses its
database (the web app, and workers and schedulers on any host)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow


class Installation(Base):
    """Exactly one row (id 1). Its ``uuid`` is what makes this install's Redis names its
    own (``lsync-<first 12 hex digits>``, see webapp.services.installation): two installs
    on one Redis have two databases, hence two ids."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
