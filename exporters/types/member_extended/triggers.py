"""The change-log side of a Member Extended run: whose triggers fired in the window.

The change log (kind ``member``, code = record type) is reduced in SQL to one row per
trigger and member, or per trigger, member and subject where a record describes one of
several things (an account id, a club, a ledger entry, a custom field, a child). The
record SELECTs in ``records`` join these rows to the current data.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, and_, literal_column, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from loyalty.models import ChangeKind, ChangeLog, Member, MemberTrigger

# Record types whose records describe one of several things of a member (the change log's
# subject); the others are one record per member.
PER_SUBJECT = (
    MemberTrigger.ACCOUNT_ID,
    MemberTrigger.CLUB,
    MemberTrigger.POINT_CHANGE,
    MemberTrigger.CUSTOM_FIELD,
    MemberTrigger.CHILD,
)


def _fired_rows(condition: ColumnElement[bool], trigger: MemberTrigger) -> Subquery:
    """One row per member (per member and subject for PER_SUBJECT) whose ``trigger`` fired
    in the window.

    One subquery per record type rather than one shared CTE: the planner then estimates
    each from the change log's own statistics (a CTE's filtered rows it guesses, and at a
    million rows the guess picks nested loops where hash joins are several times faster).
    """
    per_subject = trigger in PER_SUBJECT
    subject = ChangeLog.subject_id if per_subject else literal_column("NULL", BigInteger)
    grouping = (
        (ChangeLog.member_id, ChangeLog.subject_id) if per_subject else (ChangeLog.member_id,)
    )
    return (
        select(ChangeLog.member_id.label("member_id"), subject.label("subject_id"))
        .where(
            condition,
            ChangeLog.kind == ChangeKind.MEMBER,
            ChangeLog.code == trigger.value,
            ChangeLog.member_id.is_not(None),
        )
        .group_by(*grouping)
        .subquery(f"fired_{trigger.value}")
    )


class FiredTriggers:
    """The window's fired triggers for one run: each record type's rows built once."""

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition  # the change-log window
        self._rows: dict[MemberTrigger, Subquery] = {}

    def rows(self, trigger: MemberTrigger) -> Subquery:
        if trigger not in self._rows:
            self._rows[trigger] = _fired_rows(self.condition, trigger)
        return self._rows[trigger]

    def members(self, trigger: MemberTrigger, *, deleted: bool = False) -> ColumnElement[bool]:
        """Join condition: this trigger's rows of the window, with their (current) member.

        A member deleted when the run starts joins only the Delete record (``deleted``);
        their other triggers are dropped, since the receiver removes the member anyway."""
        member_state = Member.deleted_at.is_not(None) if deleted else Member.deleted_at.is_(None)
        return and_(self.rows(trigger).c.member_id == Member.id, member_state)
