"""Ranking sets, their levels, members' levels, and RFM scores.

A member holds at most one level per ranking set. A set may name a *configured descriptor*
(Member Ranking Extended field 15 exports the expiry of the member's assignment to it), and
a level may carry a descriptor that members on that level are given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import ExtRef, Name


class RankingSet(Base):
    __tablename__ = "ranking_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    descriptor_id: Mapped[int | None] = mapped_column(
        ForeignKey("descriptors.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RankingLevel(Base):
    __tablename__ = "ranking_levels"
    __table_args__ = (UniqueConstraint("ranking_set_id", "ext_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ranking_set_id: Mapped[int] = mapped_column(ForeignKey("ranking_sets.id", ondelete="CASCADE"))
    ext_ref: Mapped[str] = mapped_column(ExtRef)
    name: Mapped[str] = mapped_column(Name)
    position: Mapped[int] = mapped_column(SmallInteger, default=1)  # 1 = lowest level
    descriptor_id: Mapped[int | None] = mapped_column(
        ForeignKey("descriptors.id", ondelete="SET NULL")
    )


class MemberRanking(Base):
    __tablename__ = "member_rankings"
    __table_args__ = (
        UniqueConstraint("member_id", "ranking_set_id"),
        Index("ix_member_rankings_set_member", "ranking_set_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    ranking_set_id: Mapped[int] = mapped_column(ForeignKey("ranking_sets.id", ondelete="CASCADE"))
    level_id: Mapped[int] = mapped_column(ForeignKey("ranking_levels.id", ondelete="CASCADE"))
    set_joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Ranking Set Level Join Date: when the member entered the level they hold now.
    level_joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberRfm(Base):
    """Recency, frequency and monetary scores (0-5 each); no row: no score yet."""

    __tablename__ = "member_rfm_scores"
    __table_args__ = (
        CheckConstraint("recency BETWEEN 0 AND 5", name="recency"),
        CheckConstraint("frequency BETWEEN 0 AND 5", name="frequency"),
        CheckConstraint("monetary BETWEEN 0 AND 5", name="monetary"),
    )

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    recency: Mapped[int] = mapped_column(SmallInteger)
    frequency: Mapped[int] = mapped_column(SmallInteger)
    monetary: Mapped[int] = mapped_column(SmallInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def score(self) -> str:
        """Member RFM: the three digits concatenated (``423``)."""
        return f"{self.recency}{self.frequency}{self.monetary}"
