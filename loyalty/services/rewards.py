"""Issued rewards and their life: issue, redeem, reverse a redemption, cancel, expire,
change the expiration date.

Lifecycle (Reward Types article): an issued reward is Active; it becomes Redeemed; a
redemption can be reversed (back to Active); an active or redeemed reward can be
cancelled, and a reward bought with points gives them back; an active reward past its
date expires. Every step is a ``reward_events`` row and a change-log row (kind ``reward``,
code = Reward Sync record type, subject = reward, subject2 = event).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, RewardTrigger
from loyalty.models.enums import LedgerKind, RewardEventKind, RewardMasterType, RewardStatus
from loyalty.models.locations import Location
from loyalty.models.members import Member
from loyalty.models.points import PointLedgerEntry
from loyalty.models.rewards import Reward, RewardEvent, RewardType
from loyalty.services._common import Checks, check_member_writable, log_change, moment, touch
from loyalty.services.points import balance_of, post_ledger

_TRIGGERS = {
    RewardEventKind.ISSUED: RewardTrigger.ISSUED,
    RewardEventKind.REDEEMED: RewardTrigger.REDEEMED,
    RewardEventKind.CANCELLED: RewardTrigger.CANCELLED,
    RewardEventKind.REDEMPTION_REVERSED: RewardTrigger.REDEMPTION_REVERSAL,
    RewardEventKind.EXPIRED: RewardTrigger.EXPIRED,
    RewardEventKind.EXPIRATION_CHANGED: RewardTrigger.EXPIRATION_DATE_CHANGE,
}


def _event(
    session: Session,
    reward: Reward,
    kind: RewardEventKind,
    when: datetime,
    *,
    location: Location | None = None,
    actor: str | None = None,
    **extra: object,
) -> RewardEvent:
    event = RewardEvent(
        reward_id=reward.id,
        kind=kind,
        occurred_at=when,
        location_id=location.id if location else None,
        actor=actor,
        **extra,
    )
    session.add(event)
    reward.updated_at = when
    session.flush()
    log_change(
        session,
        ChangeKind.REWARD,
        _TRIGGERS[kind],
        when,
        member_id=reward.member_id,
        subject_id=reward.id,
        subject2_id=event.id,
    )
    session.flush()
    return event


def _actor(actor: str | None) -> str | None:
    checks = Checks()
    clean = checks.text("actor", actor, 120)
    checks.done()
    return clean


def issue_reward(
    session: Session,
    member: Member,
    reward_type: RewardType,
    *,
    charge_points: bool | None = None,
    barcode: str | None = None,
    expires_on: date | None = None,
    location: Location | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> Reward:
    """Issue a reward of ``reward_type``; writes Issued (1).

    ``charge_points`` (default: for Choice rewards with a point value) spends the type's
    point value, refused if the balance does not cover it. ``expires_on`` defaults to the
    type's validity.
    """
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    clean_actor = checks.text("actor", actor, 120)
    clean_barcode = checks.text("barcode", barcode, 40)
    if not reward_type.active:
        checks.fail("reward_type", f"Reward type {reward_type.id} is not active.")
    if clean_barcode and session.scalar(select(Reward.id).where(Reward.barcode == clean_barcode)):
        checks.fail("barcode", f"Barcode {clean_barcode!r} is already issued.")
    if expires_on is None and reward_type.valid_days is not None:
        expires_on = when.date() + timedelta(days=reward_type.valid_days)
    if expires_on is not None and expires_on < when.date():
        checks.fail("expires_on", "The expiry date is in the past.")
    point_value = Decimal(str(reward_type.point_value or 0))
    charge = (
        charge_points
        if charge_points is not None
        else reward_type.master_type == RewardMasterType.CHOICE and point_value > 0
    )
    if charge and point_value <= 0:
        checks.fail("charge_points", "This reward type has no point value to charge.")
    if charge and balance_of(session, member.id) < point_value:
        checks.fail("points", f"Member {member.id} has fewer than {point_value} points.")
    checks.done()
    reward = Reward(
        member_id=member.id,
        reward_type_id=reward_type.id,
        barcode=clean_barcode or secrets.token_hex(10).upper(),
        status=RewardStatus.ACTIVE,
        retail_value=reward_type.retail_value,
        point_value=point_value,
        issued_at=when,
        issued_location_id=location.id if location else None,
        expires_on=expires_on,
        updated_at=when,
    )
    session.add(reward)
    session.flush()
    if charge:
        post_ledger(
            session,
            member,
            LedgerKind.REDEEM,
            -point_value,
            when,
            require_cover=True,
            reward_id=reward.id,
            location_id=reward.issued_location_id,
            description=reward_type.name[:120],
        )
    touch(member, when)
    _event(session, reward, RewardEventKind.ISSUED, when, location=location, actor=clean_actor)
    return reward


def _require(reward: Reward, allowed: tuple[RewardStatus, ...], action: str) -> None:
    if reward.status not in allowed:
        raise ValidationError(
            {"reward": f"Reward {reward.id} is {reward.status}; it cannot be {action}."}
        )


def redeem_reward(
    session: Session,
    reward: Reward,
    *,
    location: Location | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> RewardEvent:
    when = moment(at)
    _require(reward, (RewardStatus.ACTIVE,), "redeemed")
    if reward.expires_on is not None and reward.expires_on < when.date():
        raise ValidationError({"reward": f"Reward {reward.id} expired on {reward.expires_on}."})
    clean_actor = _actor(actor)
    reward.status = RewardStatus.REDEEMED
    reward.redeemed_at = when
    reward.redeemed_location_id = location.id if location else None
    return _event(
        session, reward, RewardEventKind.REDEEMED, when, location=location, actor=clean_actor
    )


def reverse_redemption(
    session: Session, reward: Reward, *, actor: str | None = None, at: datetime | None = None
) -> RewardEvent:
    when = moment(at)
    _require(reward, (RewardStatus.REDEEMED,), "reversed")
    clean_actor = _actor(actor)
    reward.status = RewardStatus.ACTIVE
    reward.redeemed_at = None
    reward.redeemed_location_id = None
    return _event(session, reward, RewardEventKind.REDEMPTION_REVERSED, when, actor=clean_actor)


def cancel_reward(
    session: Session, reward: Reward, *, actor: str | None = None, at: datetime | None = None
) -> RewardEvent:
    """Cancel an active or redeemed reward; points it was bought with are given back."""
    when = moment(at)
    _require(reward, (RewardStatus.ACTIVE, RewardStatus.REDEEMED), "cancelled")
    clean_actor = _actor(actor)
    charged = session.scalar(
        select(func.sum(PointLedgerEntry.points)).where(
            PointLedgerEntry.reward_id == reward.id, PointLedgerEntry.kind == LedgerKind.REDEEM
        )
    )
    refund = -Decimal(str(charged)).quantize(Decimal("0.01")) if charged else Decimal(0)
    reward.status = RewardStatus.CANCELLED
    reward.cancelled_at = when
    if refund > 0:
        member = session.get_one(Member, reward.member_id)
        post_ledger(
            session,
            member,
            LedgerKind.REFUND,
            refund,
            when,
            reward_id=reward.id,
            description="Reward cancelled",
        )
    return _event(
        session,
        reward,
        RewardEventKind.CANCELLED,
        when,
        actor=clean_actor,
        points_returned=refund if refund > 0 else None,
    )


def expire_reward(session: Session, reward: Reward, *, at: datetime | None = None) -> RewardEvent:
    when = moment(at)
    _require(reward, (RewardStatus.ACTIVE,), "expired")
    reward.status = RewardStatus.EXPIRED
    reward.expired_at = when
    return _event(session, reward, RewardEventKind.EXPIRED, when, actor="batch")


def change_reward_expiration(
    session: Session,
    reward: Reward,
    expires_on: date | None,
    *,
    actor: str | None = None,
    at: datetime | None = None,
) -> RewardEvent | None:
    """Move (or clear) an active reward's expiration date; writes Expiration Date Change (7)."""
    when = moment(at)
    _require(reward, (RewardStatus.ACTIVE,), "given a new expiration date")
    if expires_on is not None and (
        not isinstance(expires_on, date) or isinstance(expires_on, datetime)
    ):
        raise ValidationError({"expires_on": "expires_on must be a date."})
    if reward.expires_on == expires_on:
        return None
    if expires_on is not None and expires_on < when.date():
        raise ValidationError({"expires_on": "The expiry date is in the past."})
    clean_actor = _actor(actor)
    previous = reward.expires_on
    reward.expires_on = expires_on
    return _event(
        session,
        reward,
        RewardEventKind.EXPIRATION_CHANGED,
        when,
        actor=clean_actor,
        previous_expires_on=previous,
        new_expires_on=expires_on,
    )


def expire_due_rewards(
    session: Session, as_of: date, *, at: datetime | None = None, limit: int | None = None
) -> int:
    """The batch: expire active rewards whose last valid day is before ``as_of``."""
    statement = (
        select(Reward)
        .where(Reward.status == RewardStatus.ACTIVE, Reward.expires_on < as_of)
        .order_by(Reward.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    due = session.scalars(statement).all()
    for reward in due:
        expire_reward(session, reward, at=at)
    return len(due)
