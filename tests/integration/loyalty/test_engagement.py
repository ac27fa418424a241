"""Descriptors, rankings, RFM, custom fields, surveys, interactions, cases, campaigns."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from loyalty.errors import ValidationError
from loyalty.models import (
    CampaignMember,
    CaseEvent,
    DescriptorAssignment,
    Member,
    MemberCustomValue,
    MemberRanking,
)
from loyalty.services import (
    cases,
    catalog,
    custom_fields,
    descriptors,
    engagement,
    rankings,
    transactions,
)
from tests.integration.loyalty.conftest import T0, Program


def test_descriptor_expiry_end_of_day_and_batch_removal(program: Program, member: Member) -> None:
    s = program.session
    at = T0.replace(month=2, day=2)
    assignment = descriptors.assign_descriptor(s, member, program.vip, at=at)
    assert assignment.expires_on == date(2026, 5, 3)  # 90 days, as the product's example
    descriptors.assign_descriptor(s, member, program.vip, expires_on=date(2026, 6, 1), at=at)
    with pytest.raises(ValidationError, match="Import assignments"):
        descriptors.assign_descriptor(
            s, member, program.gold_perks, expires_on=date(2026, 6, 1), source="import"
        )
    imported = descriptors.assign_descriptor(s, member, program.gold_perks, source="import", at=at)
    assert imported.expires_on is None
    assert descriptors.expire_descriptor_assignments(s, date(2026, 6, 1), at=at) == 0
    assert descriptors.expire_descriptor_assignments(s, date(2026, 6, 2), at=at) == 1
    s.commit()
    held = s.scalars(select(DescriptorAssignment.descriptor_id)).all()
    assert held == [program.gold_perks.id]
    records = [(c.code, c.subject_id, c.payload) for c in program.changes(kind="descriptor")]
    assert records == [
        ("ASGN", program.vip.id, None),
        ("EXPC", program.vip.id, None),
        ("ASGN", program.gold_perks.id, None),
        ("RMVD", program.vip.id, {"reason": "expired"}),
    ]


def test_rerank_moves_level_and_level_descriptor(program: Program, member: Member) -> None:
    s = program.session
    assert rankings.set_member_level(s, member, program.level("SILVER"), at=T0)
    assert not rankings.set_member_level(s, member, program.level("SILVER"), at=T0)
    rankings.set_member_level(s, member, program.level("GOLD"), at=T0 + timedelta(days=1))
    s.commit()
    ranking = s.scalar(select(MemberRanking))
    assert ranking.level_id == program.level(
        "GOLD"
    ).id and ranking.level_joined_at == T0 + timedelta(days=1)
    assert ranking.set_joined_at == T0
    rankings.set_member_level(s, member, program.level("BRONZE"), at=T0 + timedelta(days=2))
    rankings.remove_from_ranking_set(s, member, program.tier, at=T0 + timedelta(days=3))
    s.commit()
    codes = [(c.kind, c.code) for c in program.changes() if c.kind in ("ranking", "descriptor")]
    assert codes == [
        ("ranking", "ENTR"),
        ("ranking", "LEVL"),
        ("descriptor", "ASGN"),
        ("descriptor", "RMVD"),
        ("ranking", "LEVL"),
        ("ranking", "EXIT"),
    ]
    with pytest.raises(ValidationError):
        rankings.remove_from_ranking_set(s, member, program.tier)


def test_rfm_scores(program: Program, member: Member) -> None:
    s = program.session
    scores = rankings.set_rfm_scores(s, member, 4, 2, 3, at=T0)
    assert scores.score == "423"
    with pytest.raises(ValidationError) as caught:
        rankings.set_rfm_scores(s, member, 6, -1, 3)
    assert set(caught.value.errors) == {"recency", "frequency"}


def test_custom_fields_are_typed_and_logged_per_entity(program: Program, member: Member) -> None:
    s = program.session
    favourite = custom_fields.define_custom_field(s, "member", "FAV_STORE", "Favourite store")
    born = custom_fields.define_custom_field(s, "member", "ANNIV", "Anniversary", "date")
    lane = custom_fields.define_custom_field(s, "transaction", "LANE", "Lane", "number")
    vip_flag = custom_fields.define_custom_field(s, "reward", "GIFTED", "Gifted", "boolean")
    with pytest.raises(ValidationError, match="exists"):
        custom_fields.define_custom_field(s, "member", "FAV_STORE", "Again")
    assert custom_fields.set_member_custom_field(s, member, favourite, "Main | Street", at=T0)
    assert not custom_fields.set_member_custom_field(s, member, favourite, "Main | Street", at=T0)
    with pytest.raises(ValidationError, match="date"):
        custom_fields.set_member_custom_field(s, member, born, "31/12/2020")
    with pytest.raises(ValidationError, match="not a member field"):
        custom_fields.set_member_custom_field(s, member, lane, "3")
    custom_fields.set_member_custom_field(s, member, born, date(2020, 12, 31), at=T0)
    custom_fields.set_member_custom_field(s, member, favourite, None, at=T0)
    txn = transactions.post_transaction(
        s, member, program.purchase, occurred_at=T0, amount=10, custom_fields={lane: "03.50"}, at=T0
    )
    custom_fields.set_transaction_custom_field(s, txn, lane, 4, at=T0)
    from loyalty.services.rewards import issue_reward

    reward = issue_reward(s, member, program.forced, at=T0)
    custom_fields.set_reward_custom_field(s, reward, vip_flag, "yes", at=T0)
    s.commit()
    values = dict(s.execute(select(MemberCustomValue.field_id, MemberCustomValue.value)).all())
    assert values == {born.id: "2020-12-31"}
    assert [
        (c.kind, c.code, c.subject_id, c.subject2_id)
        for c in program.changes()
        if c.code in ("10", "CUST", "6")
    ] == [
        ("member", "10", favourite.id, None),
        ("member", "10", born.id, None),
        ("member", "10", favourite.id, None),
        ("transaction", "CUST", txn.id, lane.id),
        ("reward", "6", reward.id, vip_flag.id),
    ]


def test_survey_answers_one_row_per_choice(program: Program, member: Member) -> None:
    s = program.session
    toppings = catalog.create_question(
        s,
        program.questions,
        kind="survey",
        name="Favorite Pizza Topping",
        choices=["Extra Cheese", "Olives", "Ham"],
        multiple_answers=True,
    )
    capital = catalog.create_question(
        s,
        program.questions,
        kind="trivia",
        name="Capital of Canada",
        choices=[("Toronto", False), ("Ottawa", True)],
    )
    s.flush()
    cheese, olives, _ = sorted(toppings_choices(s, toppings.id), key=lambda c: c.position)
    answers = engagement.answer_question(s, member, toppings, choices=[cheese, olives], at=T0)
    assert [a.answer for a in answers] == ["Extra Cheese", "Olives"]
    ottawa = toppings_choices(s, capital.id)[1]
    with pytest.raises(ValidationError, match="takes one answer"):
        engagement.answer_question(s, member, capital, choices=toppings_choices(s, capital.id))
    with pytest.raises(ValidationError, match="another question"):
        engagement.answer_question(s, member, capital, choices=[cheese])
    with pytest.raises(ValidationError, match="one of the two"):
        engagement.answer_question(s, member, capital)
    engagement.answer_question(s, member, capital, choices=[ottawa], at=T0)
    s.commit()
    assert [(c.code, c.subject2_id) for c in program.changes(kind="survey")] == [
        ("ANSW", toppings.id),
        ("ANSW", toppings.id),
        ("ANSW", capital.id),
    ]


def toppings_choices(session, question_id):
    from loyalty.models import QuestionChoice

    return list(
        session.scalars(
            select(QuestionChoice)
            .where(QuestionChoice.question_id == question_id)
            .order_by(QuestionChoice.position)
        )
    )


def test_interactions(program: Program, member: Member) -> None:
    s = program.session
    interaction = engagement.record_interaction(
        s, member, program.email_added, audit_user="Anna", at=T0
    )
    with pytest.raises(ValidationError, match="audit_user"):
        engagement.record_interaction(s, member, program.email_added, audit_user=" ")
    s.commit()
    assert [(c.code, c.subject_id, c.occurred_at) for c in program.changes(kind="interaction")] == [
        ("NEW", interaction.id, T0)
    ]


def test_case_events_carry_action_codes_and_the_handling_user(
    program: Program, member: Member
) -> None:
    s = program.session
    case = cases.open_case(
        s,
        "Missing points",
        user="kim",
        member=member,
        category=program.category,
        queue=program.queue,
        at=T0,
    )
    cases.touch_case(s, case, user="lee", note="Called member", at=T0 + timedelta(minutes=1))
    cases.change_case_category(s, case, program.other_category, at=T0 + timedelta(minutes=2))
    assert cases.change_case_category(s, case, program.other_category) is None
    cases.change_case_queue(s, case, program.other_queue, at=T0 + timedelta(minutes=3))
    cases.add_case_descriptor(s, case, program.vip, at=T0 + timedelta(minutes=4))
    cases.remove_case_descriptor(s, case, program.vip, at=T0 + timedelta(minutes=5))
    cases.close_case(s, case, user="lee", at=T0 + timedelta(minutes=6))
    with pytest.raises(ValidationError, match="closed"):
        cases.touch_case(s, case, user="kim")
    cases.reopen_case(s, case, user="kim", at=T0 + timedelta(minutes=7))
    s.commit()
    events = s.execute(select(CaseEvent.action, CaseEvent.user_name).order_by(CaseEvent.id)).all()
    assert [(str(a), u) for a, u in events] == [
        ("OPEN", "kim"),
        ("TOCH", "lee"),
        ("CCAT", "lee"),
        ("CQUE", "lee"),
        ("ADDD", "lee"),
        ("RMVD", "lee"),
        ("CLSD", "lee"),
        ("REOP", "kim"),
    ]
    assert [c.code for c in program.changes(kind="case")] == [str(a) for a, _ in events]
    assert all(
        c.member_id == member.id and c.subject_id == case.id for c in program.changes(kind="case")
    )


def test_campaign_and_promotion_membership(program: Program, member: Member) -> None:
    s = program.session
    assert engagement.join_campaign(
        s, member, program.campaign, expires_on=date(2026, 6, 30), at=T0
    )
    assert not engagement.join_campaign(
        s, member, program.campaign, expires_on=date(2026, 6, 30), at=T0
    )
    assert engagement.join_campaign(s, member, program.campaign, expires_on=None, at=T0)
    with pytest.raises(ValidationError, match="before it starts"):
        engagement.join_promotion(
            s, member, program.promo, joined_on=date(2026, 3, 1), expires_on=date(2026, 2, 1)
        )
    engagement.join_promotion(s, member, program.promo, at=T0)
    engagement.leave_promotion(s, member, program.promo, at=T0)
    s.commit()
    row = s.scalar(select(CampaignMember))
    assert (row.joined_on, row.expires_on) == (date(2026, 3, 1), None)
    assert [(c.kind, c.code) for c in program.changes() if c.kind in ("campaign", "promotion")] == [
        ("campaign", "JOIN"),
        ("campaign", "EXPC"),
        ("promotion", "JOIN"),
        ("promotion", "LEAV"),
    ]


def test_reference_data_checks_come_from_the_model(program: Program) -> None:
    s = program.session
    with pytest.raises(ValidationError) as caught:
        catalog.create_location(s, name="x" * 121, ext_ref="LOC001", timezone="Mars/Base")
    assert set(caught.value.errors) == {"name", "ext_ref", "timezone", "business_unit_id"}
    changed = catalog.update(s, program.store, inactive=True, valid_for_feedback=False, at=T0)
    assert sorted(changed) == ["inactive", "valid_for_feedback"] and program.store.updated_at == T0
    with pytest.raises(ValidationError, match="Unknown"):
        catalog.update(s, program.store, colour="red")
