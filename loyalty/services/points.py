"""The point ledger: earning, spending, expiring, adjusting, and expiration projections.

Every movement is one ledger row plus an atomic update of the member's balance row
(``UPDATE ... SET balance = balance + :points``), so concurrent writers never lose an
update; a debit that needs cover is conditional (``WHERE balance >= :points``).
Change log: every ledger row writes Member Extended Point Change (8, subject = ledger
entry); expirations also write the Transaction Sync's Point Expirations (``PEXP``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, MemberTrigger, TransactionTrigger
from loyalty.models.enums import LedgerKind, MemberStatus
from loyalty.models.members import Member
from loyalty.models.points import PointBalance, PointExpirationProjection, PointLedgerEntry
from loyalty.services import expiry
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch

# Which lifetime counter an entry moves, by (kind, is it a credit), and with which sign of
# its (signed) points; the balance itself always moves by the signed points.
_COUNTERS: dict[tuple[LedgerKind, bool], tuple[str, int]] = {
    (LedgerKind.EARN, True): ("lifetime_earned", 1),
    (LedgerKind.BONUS, True): ("lifetime_earned", 1),
    (LedgerKind.ADJUST, True): ("lifetime_earned", 1),
    (LedgerKind.REVERSAL, False): ("lifetime_earned", 1),  # takes earned points back
    (LedgerKind.REDEEM, False): ("lifetime_redeemed", -1),
    (LedgerKind.REFUND, True): ("lifetime_redeemed", -1),  # gives redeemed points back
    (LedgerKind.EXPIRE, False): ("lifetime_expired", -1),
}


def balance_of(session: Session, member_id: int) -> Decimal:
    value = session.scalar(select(PointBalance.balance).where(PointBalance.member_id == member_id))
    return Decimal(str(value)) if value is not None else Decimal(0)


def post_ledger(
    session: Session,
    member: Member,
    kind: LedgerKind,
    points: Decimal,
    when: datetime,
    *,
    require_cover: bool = False,
    transaction_id: int | None = None,
    bonus_id: int | None = None,
    reward_id: int | None = None,
    location_id: int | None = None,
    description: str | None = None,
) -> PointLedgerEntry:
    """Write one ledger entry and move the balance (services call this; it does not
    validate amounts, its callers do). ``points`` is signed."""
    if points == 0:
        raise ValidationError({"points": "A point movement cannot be zero."})
    values: dict[str, object] = {"balance": PointBalance.balance + points, "updated_at": when}
    counter = _COUNTERS.get((kind, points > 0))
    if counter is not None:
        column, sign = counter
        values[column] = getattr(PointBalance, column) + sign * points
    statement = update(PointBalance).where(PointBalance.member_id == member.id)
    if require_cover:
        statement = statement.where(PointBalance.balance >= -points)
    result = session.execute(statement.values(values).execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 1) != 1:
        if require_cover:
            raise ValidationError(
                {"points": f"Member {member.id} has fewer than {-points} points."}
            )
        raise ValidationError({"member": f"Member {member.id} has no point balance."})
    entry = PointLedgerEntry(
        member_id=member.id,
        kind=kind,
        points=points,
        occurred_at=when,
        expires_on=expiry.points_expire_on(when.date()) if points > 0 else None,
        transaction_id=transaction_id,
        bonus_id=bonus_id,
        reward_id=reward_id,
        location_id=location_id,
        description=description,
    )
    session.add(entry)
    session.flush()
    touch(member, when)
    log_change(
        session,
        ChangeKind.MEMBER,
        MemberTrigger.POINT_CHANGE,
        when,
        member_id=member.id,
        subject_id=entry.id,
    )
    if kind == LedgerKind.EXPIRE:
        log_change(
            session,
            ChangeKind.TRANSACTION,
            TransactionTrigger.POINTS_EXPIRED,
            when,
            member_id=member.id,
            subject_id=entry.id,
        )
    # A copy of the balance row this session already holds must show the database's value.
    held = session.identity_map.get(identity_key(PointBalance, member.id))
    if held is not None:
        session.expire(held)
    return entry


def _description(checks: Checks, description: str | None) -> str | None:
    return checks.text("description", description, 120)


def adjust_points(
    session: Session,
    member: Member,
    points: Decimal | int | str,
    *,
    description: str | None = None,
    at: datetime | None = None,
) -> PointLedgerEntry:
    """A manual adjustment (either sign); a negative one needs the points to be there."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    amount = checks.amount("points", points, allow_zero=False)
    text = _description(checks, description)
    checks.done()
    return post_ledger(
        session, member, LedgerKind.ADJUST, amount, when, require_cover=amount < 0, description=text
    )


def redeem_points(
    session: Session,
    member: Member,
    points: Decimal | int | str,
    *,
    description: str | None = None,
    reward_id: int | None = None,
    location_id: int | None = None,
    at: datetime | None = None,
) -> PointLedgerEntry:
    """Spend points (a redemption); refused when the balance does not cover them."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    amount = checks.amount("points", points, positive=True, allow_zero=False)
    text = _description(checks, description)
    checks.done()
    if balance_of(session, member.id) < amount:
        raise ValidationError({"points": f"Member {member.id} has fewer than {amount} points."})
    return post_ledger(
        session,
        member,
        LedgerKind.REDEEM,
        -amount,
        when,
        require_cover=True,
        reward_id=reward_id,
        location_id=location_id,
        description=text,
    )


def expire_points(
    session: Session,
    member: Member,
    points: Decimal | int | str,
    *,
    description: str | None = None,
    at: datetime | None = None,
) -> PointLedgerEntry:
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    amount = checks.amount("points", points, positive=True, allow_zero=False)
    text = _description(checks, description)
    checks.done()
    if balance_of(session, member.id) < amount:
        raise ValidationError({"points": f"Member {member.id} has fewer than {amount} points."})
    return post_ledger(
        session, member, LedgerKind.EXPIRE, -amount, when, require_cover=True, description=text
    )


def _buckets(session: Session, member_ids: Iterable[int]) -> dict[int, list[tuple[date, Decimal]]]:
    rows = session.execute(
        select(
            PointLedgerEntry.member_id,
            PointLedgerEntry.expires_on,
            func.sum(PointLedgerEntry.points),
        )
        .where(
            PointLedgerEntry.member_id.in_(list(member_ids)),
            PointLedgerEntry.points > 0,
            PointLedgerEntry.expires_on.is_not(None),
        )
        .group_by(PointLedgerEntry.member_id, PointLedgerEntry.expires_on)
    )
    found: dict[int, list[tuple[date, Decimal]]] = {}
    for member_id, expires_on, points in rows:
        if expires_on is None:
            continue
        found.setdefault(member_id, []).append(
            (expires_on, Decimal(str(points)).quantize(Decimal("0.01")))
        )
    return found


def expire_due_points(
    session: Session, member: Member, as_of: date, *, at: datetime | None = None
) -> PointLedgerEntry | None:
    """The automatic expiration for one member: expire what FIFO says is past its day."""
    when = moment(at)
    if member.status == MemberStatus.DELETED:
        return None
    balance = balance_of(session, member.id)
    due = expiry.due_for_expiry(_buckets(session, [member.id]).get(member.id, []), balance, as_of)
    if due <= 0:
        return None
    return post_ledger(
        session,
        member,
        LedgerKind.EXPIRE,
        -due,
        when,
        require_cover=True,
        description="Automatic point expiration",
    )


def project_point_expirations(
    session: Session,
    member_ids: list[int],
    *,
    processed_at: datetime | None = None,
    cycles: int = expiry.PROJECTED_CYCLES,
) -> int:
    """Recompute the future-expiration projections of some members (the batch job's work;
    cumulative data, so not change-logged). Returns the number of projection rows."""
    when = moment(processed_at)
    if not 1 <= cycles <= 12:
        raise ValidationError({"cycles": "Between 1 and 12 cycles are projected."})
    written = 0
    for start in range(0, len(member_ids), 2000):
        ids = member_ids[start : start + 2000]
        buckets = _buckets(session, ids)
        balances = dict(
            session.execute(
                select(PointBalance.member_id, PointBalance.balance).where(
                    PointBalance.member_id.in_(ids)
                )
            ).all()
        )
        session.execute(
            delete(PointExpirationProjection).where(PointExpirationProjection.member_id.in_(ids))
        )
        ends = expiry.cycle_dates(when.date(), cycles)
        rows = []
        for member_id in ids:
            balance = Decimal(str(balances.get(member_id) or 0))
            for cycle, points in expiry.project(
                buckets.get(member_id, []), balance, when.date(), cycles
            ).items():
                rows.append(
                    {
                        "member_id": member_id,
                        "cycle": cycle,
                        "expires_on": ends[cycle - 1],
                        "points": points,
                        "processed_at": when,
                    }
                )
        if rows:
            session.execute(insert(PointExpirationProjection), rows)
        written += len(rows)
    session.flush()
    return written
