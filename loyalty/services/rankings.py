"""Members' levels in ranking sets, and RFM scores.

Change log (kind ``ranking``, subject = ranking set, subject2 = level): ``ENTR`` entered the
set, ``LEVL`` level changed, ``EXIT`` left it. A level's descriptor is given to members on
that level and taken away when they leave it (through the descriptor service, so those
changes are logged too). RFM scores are cumulative data and are not logged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import ValidationError
from loyalty.models.change_log import ChangeKind, RankingTrigger
from loyalty.models.descriptors import Descriptor, DescriptorAssignment
from loyalty.models.members import Member
from loyalty.models.rankings import MemberRanking, MemberRfm, RankingLevel, RankingSet
from loyalty.services._common import check_member_writable, log_change, moment, touch
from loyalty.services.descriptors import assign_descriptor, remove_descriptor


def _level_descriptor_off(
    session: Session, member: Member, level: RankingLevel, when: datetime
) -> None:
    if level.descriptor_id is None:
        return
    descriptor = session.get_one(Descriptor, level.descriptor_id)
    held = session.scalar(
        select(DescriptorAssignment.id).where(
            DescriptorAssignment.member_id == member.id,
            DescriptorAssignment.descriptor_id == descriptor.id,
        )
    )
    if held is not None:
        remove_descriptor(session, member, descriptor, at=when)


def set_member_level(
    session: Session, member: Member, level: RankingLevel, *, at: datetime | None = None
) -> bool:
    """Put a member on ``level`` of its ranking set (entering the set if needed).

    Returns False when the member already holds that level (nothing is written).
    """
    when = moment(at)
    check_member_writable(member)
    ranking = session.scalar(
        select(MemberRanking).where(
            MemberRanking.member_id == member.id,
            MemberRanking.ranking_set_id == level.ranking_set_id,
        )
    )
    if ranking is not None and ranking.level_id == level.id:
        return False
    if ranking is None:
        ranking = MemberRanking(
            member_id=member.id,
            ranking_set_id=level.ranking_set_id,
            level_id=level.id,
            set_joined_at=when,
            level_joined_at=when,
        )
        session.add(ranking)
        trigger = RankingTrigger.ENTERED
    else:
        _level_descriptor_off(
            session, member, session.get_one(RankingLevel, ranking.level_id), when
        )
        ranking.level_id = level.id
        ranking.level_joined_at = when
        trigger = RankingTrigger.LEVEL_CHANGED
    session.flush()
    touch(member, when)
    log_change(
        session,
        ChangeKind.RANKING,
        trigger,
        when,
        member_id=member.id,
        subject_id=level.ranking_set_id,
        subject2_id=level.id,
    )
    if level.descriptor_id is not None:
        assign_descriptor(
            session,
            member,
            session.get_one(Descriptor, level.descriptor_id),
            source="ranking",
            at=when,
        )
    session.flush()
    return True


def remove_from_ranking_set(
    session: Session, member: Member, ranking_set: RankingSet, *, at: datetime | None = None
) -> None:
    when = moment(at)
    ranking = session.scalar(
        select(MemberRanking).where(
            MemberRanking.member_id == member.id, MemberRanking.ranking_set_id == ranking_set.id
        )
    )
    if ranking is None:
        raise ValidationError(
            {"ranking_set": f"Member {member.id} is not in {ranking_set.ext_ref}."}
        )
    level = session.get_one(RankingLevel, ranking.level_id)
    session.delete(ranking)
    _level_descriptor_off(session, member, level, when)
    touch(member, when)
    log_change(
        session,
        ChangeKind.RANKING,
        RankingTrigger.LEFT,
        when,
        member_id=member.id,
        subject_id=ranking_set.id,
        subject2_id=level.id,
    )
    session.flush()


def set_rfm_scores(
    session: Session,
    member: Member,
    recency: int,
    frequency: int,
    monetary: int,
    *,
    at: datetime | None = None,
) -> MemberRfm:
    """Store a member's RFM digits (0-5 each), as the analytics rebuild does."""
    when = moment(at)
    errors = {
        name: f"{name} is a whole number from 0 to 5."
        for name, value in (("recency", recency), ("frequency", frequency), ("monetary", monetary))
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 5
    }
    if errors:
        raise ValidationError(errors)
    scores = session.get(MemberRfm, member.id)
    if scores is None:
        scores = MemberRfm(member_id=member.id)
        session.add(scores)
    scores.recency, scores.frequency, scores.monetary = recency, frequency, monetary
    scores.computed_at = when
    session.flush()
    return scores
