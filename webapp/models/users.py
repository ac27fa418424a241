"""People who use the module, and the roles that grant them permissions."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from loyalty.db import Base, UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    """The three roles of the design; their permissions are in ``services.permissions``."""

    SUPPORT = "support"
    SYNC_MANAGER = "sync_manager"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return {"support": "Support", "sync_manager": "Sync manager", "viewer": "Viewer"}[
            self.value
        ]


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password or role changes, so that old sessions end (see get_id).
    session_version: Mapped[int] = mapped_column(default=1)

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return value.strip().lower()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        """Session identity carries the version: a role or password change logs the user out."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
