"""API tokens: how scripts and schedulers authenticate to ``/api/v1``.

Only a hash of the secret is stored (sha256: the secret has 238 random bits, so a slow
password hash would add nothing but latency to every request), with a short display
prefix so a person can tell their tokens apart. A token acts for its owner and never for
more than its scopes allow; its effective permissions are computed on every request
(``webapp.services.tokens``), so a role change or a disabled owner takes effect at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, UTCDateTime, utcnow
from webapp.models.users import User


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the token ("lsync_Ab3dE9"), shown in lists; not a secret.
    display_prefix: Mapped[str] = mapped_column(String(16))
    # sha256 (hex) of the whole token text; the token itself is shown once and never kept.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Permission names (webapp.services.permissions), a subset of the owner's at creation.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_addr: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:  # never the hash
        return f"<ApiToken {self.id} {self.display_prefix}… of user {self.user_id}>"
