"""Activity operations on how members engage: descriptors, rankings and RFM scores,
survey answers, interactions, cases, campaign memberships.

Each takes the ``Simulator`` and the moment of the change, makes it through the domain
services and returns a label for the tally, or None when it found nothing to change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from loyalty.demo import names
from loyalty.demo.simulator import Simulator
from loyalty.errors import ValidationError
from loyalty.models import Case, CaseStatus, DescriptorAssignment
from loyalty.services import cases, descriptors, engagement, rankings


def descriptor(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.descriptors:
        return None
    descriptor = sim.pick(sim.c.descriptors)
    held = sim.s.scalar(
        select(DescriptorAssignment.id).where(
            DescriptorAssignment.member_id == member.id,
            DescriptorAssignment.descriptor_id == descriptor.id,
        )
    )
    if held is not None and sim.rng.random() < 0.5:
        descriptors.remove_descriptor(sim.s, member, descriptor, at=at)
        label = "descriptor removed"
    else:
        descriptors.assign_descriptor(sim.s, member, descriptor, at=at)
        label = "descriptor assigned"
    sim.touched.add(member.id)
    return label


def rerank(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.levels:
        return None
    if not rankings.set_member_level(sim.s, member, sim.pick(sim.c.levels), at=at):
        return None
    if sim.rng.random() < 0.5:
        rankings.set_rfm_scores(
            sim.s, member, *(int(sim.rng.random() * 6) for _ in range(3)), at=at
        )
    sim.touched.add(member.id)
    return "re-rank"


def answer(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.questions:
        return None
    question, choices = sim.pick(sim.c.questions)
    picked = [sim.pick(choices)]
    if question.multiple_answers:
        picked += [c for c in choices if c not in picked and sim.rng.random() < 0.3]
    engagement.answer_question(sim.s, member, question, choices=picked, at=at)
    return "survey answer"


def interaction(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.interaction_types:
        return None
    kind = sim.pick(sim.c.interaction_types)
    event = sim.pick(sim.c.events) if sim.c.events and sim.rng.random() < 0.05 else None
    location = sim.pick(sim.c.locations) if sim.rng.random() < 0.3 else None
    user = sim.pick((member.first_name or "Member", "System", *names.CSR_USERS))
    engagement.record_interaction(
        sim.s, member, kind, audit_user=user, location=location, event=event, at=at
    )
    return "interaction"


def case(sim: Simulator, at: datetime) -> str | None:
    r = sim.rng.random
    user = sim.pick(names.CSR_USERS)
    existing = sim.s.scalars(
        select(Case).where(Case.updated_at <= at).order_by(Case.id.desc()).limit(50)
    ).all()
    if not existing or r() < 0.35:
        member = sim.member(at)
        if member is None:
            return None
        cases.open_case(
            sim.s,
            "Missing points" if r() < 0.5 else "Reward question",
            user=user,
            member=member,
            category=sim.pick(sim.c.categories) if sim.c.categories else None,
            queue=sim.pick(sim.c.queues) if sim.c.queues else None,
            note="Member called",
            at=at,
        )
        return "case opened"
    case = sim.pick(existing)
    if case.status == CaseStatus.CLOSED:
        cases.reopen_case(sim.s, case, user=user, at=at)
        return "case reopened"
    roll = r()
    if roll < 0.3:
        cases.touch_case(sim.s, case, user=user, note="Follow-up", at=at)
    elif roll < 0.4 and sim.c.categories:
        cases.change_case_category(sim.s, case, sim.pick(sim.c.categories), at=at)
    elif roll < 0.5 and sim.c.queues:
        cases.change_case_queue(sim.s, case, sim.pick(sim.c.queues), at=at)
    elif roll < 0.6 and sim.c.descriptors:
        cases.add_case_descriptor(sim.s, case, sim.pick(sim.c.descriptors), at=at)
    else:
        cases.close_case(sim.s, case, user=user, note="Resolved", at=at)
        return "case closed"
    return "case updated"


def membership(sim: Simulator, at: datetime) -> str | None:
    member = sim.member(at)
    if member is None or not sim.c.campaigns:
        return None
    campaign = sim.pick(sim.c.campaigns)
    if sim.rng.random() < 0.2:
        try:
            engagement.leave_campaign(sim.s, member, campaign, at=at)
        except ValidationError:
            return None
        return "campaign left"
    engagement.join_campaign(
        sim.s,
        member,
        campaign,
        expires_on=campaign.ends_on if campaign.ends_on and campaign.ends_on >= at.date() else None,
        at=at,
    )
    return "campaign joined"
