"""Survey/trivia/poll answers, interactions, and campaign and promotion membership.

Change log: an answer row writes ``survey``/``ANSW`` (subject = answer, subject2 =
question); an interaction writes ``interaction``/``NEW`` (subject = interaction);
campaign and promotion membership write ``JOIN``/``EXPC``/``LEAV`` (subject = campaign or
promotion). Membership syncs are cumulative, the log is there for whoever needs deltas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.campaigns import Campaign, CampaignMember, Promotion, PromotionMember
from loyalty.models.change_log import (
    ChangeKind,
    InteractionTrigger,
    MembershipTrigger,
    SurveyTrigger,
)
from loyalty.models.interactions import Interaction, InteractionEvent, InteractionType
from loyalty.models.locations import Location
from loyalty.models.members import Member
from loyalty.models.surveys import Question, QuestionAnswer, QuestionChoice
from loyalty.services._common import Checks, check_member_writable, log_change, moment


def answer_question(
    session: Session,
    member: Member,
    question: Question,
    *,
    choices: Sequence[QuestionChoice] = (),
    text: str | None = None,
    location: Location | None = None,
    at: datetime | None = None,
) -> list[QuestionAnswer]:
    """Record a member's answer: chosen choices (several only on a multiple-answer
    question) or free text. One answer row, and one Survey Sync row, per choice."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    clean_text = checks.text("text", text, 120)
    if bool(choices) == bool(clean_text):
        checks.fail("answer", "Answer with choices or with text (one of the two).")
    if len(choices) > 1 and not question.multiple_answers:
        checks.fail("choices", f"Question {question.name!r} takes one answer.")
    if len({c.id for c in choices}) != len(choices):
        checks.fail("choices", "A choice is given twice.")
    for choice in choices:
        if choice.question_id != question.id:
            checks.fail("choices", f"Choice {choice.id} belongs to another question.")
    checks.done()
    picked: list[QuestionChoice | None] = [*choices] or [None]
    answers = [
        QuestionAnswer(
            member_id=member.id,
            question_id=question.id,
            choice_id=choice.id if choice else None,
            answer=choice.text if choice else clean_text,
            answered_at=when,
            location_id=location.id if location else None,
        )
        for choice in picked
    ]
    session.add_all(answers)
    session.flush()
    for answer in answers:
        log_change(
            session,
            ChangeKind.SURVEY,
            SurveyTrigger.ANSWERED,
            when,
            member_id=member.id,
            subject_id=answer.id,
            subject2_id=question.id,
        )
    session.flush()
    return answers


def record_interaction(
    session: Session,
    member: Member,
    interaction_type: InteractionType,
    *,
    audit_user: str,
    location: Location | None = None,
    event: InteractionEvent | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> Interaction:
    """Record an interaction; ``audit_user`` is the user or process that created it."""
    when = moment(at)
    check_member_writable(member)
    checks = Checks()
    clean_user = checks.text("audit_user", audit_user, 120, required=True)
    clean_note = checks.text("note", note, 255)
    checks.done()
    interaction = Interaction(
        member_id=member.id,
        type_id=interaction_type.id,
        location_id=location.id if location else None,
        event_id=event.id if event else None,
        occurred_at=when,
        audit_user=clean_user,
        note=clean_note,
    )
    session.add(interaction)
    session.flush()
    log_change(
        session,
        ChangeKind.INTERACTION,
        InteractionTrigger.CREATED,
        when,
        member_id=member.id,
        subject_id=interaction.id,
    )
    session.flush()
    return interaction


def _join(
    session: Session,
    kind: ChangeKind,
    model: type[CampaignMember] | type[PromotionMember],
    key: dict[str, int],
    member: Member,
    joined_on: date | None,
    expires_on: date | None,
    when: datetime,
) -> bool:
    check_member_writable(member)
    joined = joined_on or when.date()
    if expires_on is not None and expires_on < joined:
        raise ValidationError({"expires_on": "The membership would expire before it starts."})
    found: object = session.get(model, {**key, "member_id": member.id})
    row = cast(CampaignMember | PromotionMember | None, found)
    if row is None:
        session.add(model(**key, member_id=member.id, joined_on=joined, expires_on=expires_on))
        trigger = MembershipTrigger.JOINED
    elif row.expires_on != expires_on:
        row.expires_on = expires_on
        trigger = MembershipTrigger.EXPIRY_CHANGED
    else:
        return False
    session.flush()
    log_change(
        session, kind, trigger, when, member_id=member.id, subject_id=next(iter(key.values()))
    )
    session.flush()
    return True


def _leave(
    session: Session,
    kind: ChangeKind,
    model: type[CampaignMember] | type[PromotionMember],
    key: dict[str, int],
    member: Member,
    when: datetime,
) -> None:
    row = session.get(model, {**key, "member_id": member.id})
    if row is None:
        raise ValidationError({"member": f"Member {member.id} is not a member of it."})
    session.delete(row)
    log_change(
        session,
        kind,
        MembershipTrigger.LEFT,
        when,
        member_id=member.id,
        subject_id=next(iter(key.values())),
    )
    session.flush()


def join_campaign(
    session: Session,
    member: Member,
    campaign: Campaign,
    *,
    joined_on: date | None = None,
    expires_on: date | None = None,
    at: datetime | None = None,
) -> bool:
    """Add a member to a campaign (or change the membership's expiry)."""
    return _join(
        session,
        ChangeKind.CAMPAIGN,
        CampaignMember,
        {"campaign_id": campaign.id},
        member,
        joined_on,
        expires_on,
        moment(at),
    )


def leave_campaign(
    session: Session, member: Member, campaign: Campaign, *, at: datetime | None = None
) -> None:
    _leave(
        session,
        ChangeKind.CAMPAIGN,
        CampaignMember,
        {"campaign_id": campaign.id},
        member,
        moment(at),
    )


def join_promotion(
    session: Session,
    member: Member,
    promotion: Promotion,
    *,
    joined_on: date | None = None,
    expires_on: date | None = None,
    at: datetime | None = None,
) -> bool:
    return _join(
        session,
        ChangeKind.PROMOTION,
        PromotionMember,
        {"promotion_id": promotion.id},
        member,
        joined_on,
        expires_on,
        moment(at),
    )


def leave_promotion(
    session: Session, member: Member, promotion: Promotion, *, at: datetime | None = None
) -> None:
    _leave(
        session,
        ChangeKind.PROMOTION,
        PromotionMember,
        {"promotion_id": promotion.id},
        member,
        moment(at),
    )
