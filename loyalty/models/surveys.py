"""Question sets with survey, trivia and poll questions, their choices, and members' answers.

A multi-select question stores one answer row per selected choice, which is also one row
of the Survey Sync. ``answer`` keeps the text the member gave (the choice's text at the
time, or free text), so renaming a choice later does not rewrite past answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, str_enum, utcnow
from loyalty.models._types import BigId, ExtRef, Name
from loyalty.models.enums import QuestionKind


class QuestionSet(Base):
    __tablename__ = "question_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_ref: Mapped[str] = mapped_column(ExtRef, unique=True)
    name: Mapped[str] = mapped_column(Name)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(
        ForeignKey("question_sets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    name: Mapped[str] = mapped_column(Name)  # Survey Sync "QuestionName"
    text: Mapped[str | None] = mapped_column(String(500))
    multiple_answers: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(SmallInteger, default=1)


class QuestionChoice(Base):
    __tablename__ = "question_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(120))
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False)  # trivia
    position: Mapped[int] = mapped_column(SmallInteger, default=1)


class QuestionAnswer(Base):
    __tablename__ = "question_answers"
    __table_args__ = (
        Index("ix_question_answers_question_id", "question_id"),
        Index("ix_question_answers_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_choices.id", ondelete="SET NULL")
    )
    answer: Mapped[str] = mapped_column(String(120))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
