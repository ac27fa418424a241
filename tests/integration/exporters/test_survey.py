"""survey: the spec's header and row byte for byte, one file per question type, increments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import AccountIdType, Member, Question, QuestionChoice, QuestionSet
from loyalty.services import catalog, contacts, engagement, members
from tests.fixtures.exports import give_account_id, member_with_id
from tests.integration.exporters.events_support import check_golden, export_around_write
from webapp.extensions import db

HEADER = (
    "QuestionName|SBInternalMemberId|AccountId|FirstName|LastName|"
    "QuestionSetExternalReference|Answer|AnswerTimestamp|MultipleAnswerType"
)
EXAMPLE = (
    "Favorite Pizza Topping|37796|99955515556|JOHN|VILLANO|PQ|Extra Cheese|"
    "2012-05-18 15:25:13.520|TRUE"
)
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
STAMP = "20261123140509"


def choice(question: Question, text: str) -> QuestionChoice:
    return db.session.execute(
        select(QuestionChoice).filter_by(question_id=question.id, text=text)
    ).scalar_one()


def test_spec_example_row_byte_for_byte(run_export: Any) -> None:
    s = db.session()
    john = member_with_id(37796, first_name="JOHN", last_name="VILLANO")
    give_account_id(john, "99955515556")
    pq = catalog.create(s, QuestionSet, ext_ref="PQ", name="Pizza questions")
    pizza = catalog.create_question(
        s,
        pq,
        kind="survey",
        name="Favorite Pizza Topping",
        choices=["Pepperoni", "Extra Cheese", "Mushrooms"],
        multiple_answers=True,
    )
    engagement.answer_question(
        s,
        john,
        pizza,
        choices=[choice(pizza, "Extra Cheese")],
        at=datetime(2012, 5, 18, 15, 25, 13, 520000, tzinfo=UTC),
    )
    db.session.commit()
    exported = run_export("survey", started=datetime(2012, 5, 19, 2, 0, tzinfo=UTC))
    assert exported.names == ["SurveyResultsSync_20120519020000_01.txt"]
    assert exported.bytes() == (f"{HEADER}\r\n{EXAMPLE}\r\n").encode()


class Program:
    def __init__(self) -> None:
        s = db.session()
        self.set = catalog.create(s, QuestionSet, ext_ref="PQ", name="Pizza questions")
        self.toppings = catalog.create_question(
            s,
            self.set,
            kind="survey",
            name="Favorite Pizza Topping",
            choices=["Pepperoni", "Extra Cheese", "Mushrooms"],
            multiple_answers=True,
        )
        self.comment = catalog.create_question(
            s, self.set, kind="survey", name="Anything else?", choices=[]
        )
        self.capital = catalog.create_question(
            s,
            self.set,
            kind="trivia",
            name="Capital of Italy",
            choices=[("Rome", True), ("Milan", False)],
        )
        self.poll = catalog.create_question(
            s, self.set, kind="poll", name="Open on Sundays?", choices=["Yes", "No"]
        )
        card = catalog.create(s, AccountIdType, ext_ref="CARD", name="Card", display_rank=1)
        self.anna = members.enrol_member(s, first_name="Anna", last_name="O'Neil", at=T0)
        contacts.add_account_id(s, self.anna, card, "1000A", at=T0)
        self.zoe = members.enrol_member(s, first_name="Zoë", last_name="Ærø", at=T0)
        db.session.commit()

    def answer(
        self, member: Member, question: Question, minutes: int, *picked: str, **kw: Any
    ) -> None:
        engagement.answer_question(
            db.session(),
            member,
            question,
            choices=[choice(question, text) for text in picked],
            at=T0 + timedelta(minutes=minutes, milliseconds=kw.pop("millis", 0)),
            **kw,
        )
        db.session.commit()


def files(exported: Any) -> dict[str, list[str]]:
    return {name: exported.lines(i) for i, name in enumerate(exported.names)}


def test_one_file_per_question_type_with_answers(run_export: Any) -> None:
    p = Program()
    p.answer(p.anna, p.toppings, 1, "Pepperoni", "Mushrooms")  # multi-select: two rows
    p.answer(p.zoe, p.capital, 2, "Rome", millis=7)
    p.answer(p.zoe, p.comment, 3, text="More | olives\r\nplease")
    exported = run_export("survey")
    assert files(exported) == {
        f"SurveyResultsSync_{STAMP}_01.txt": [
            HEADER,
            "Favorite Pizza Topping|1|1000A|Anna|O'Neil|PQ|Pepperoni|2026-05-04 10:01:00.000|TRUE",
            "Favorite Pizza Topping|1|1000A|Anna|O'Neil|PQ|Mushrooms|2026-05-04 10:01:00.000|TRUE",
            "Anything else?|2||Zoë|Ærø|PQ|More ¦ olives  please|2026-05-04 10:03:00.000|FALSE",
        ],
        f"TriviaResultsSync_{STAMP}_01.txt": [
            HEADER,
            "Capital of Italy|2||Zoë|Ærø|PQ|Rome|2026-05-04 10:02:00.007|FALSE",
        ],
    }  # no poll answers: no PollResultsSync file
    assert exported.result.row_counts() == {"survey": 3, "trivia": 1}


def test_a_run_without_answers_has_no_file(run_export: Any) -> None:
    p = Program()
    p.answer(p.anna, p.poll, 1, "Yes")
    first = run_export("survey")
    assert first.names == [f"PollResultsSync_{STAMP}_01.txt"]
    members.update_member(db.session(), p.anna, last_name="Smith", at=T0)  # not a survey change
    db.session.commit()
    second = run_export("survey", watermark=first.result.watermark)
    assert second.result.files == []
    assert second.result.watermark is not None  # nothing held back: the window moves on


def test_increments_lose_nothing_and_repeat_nothing(run_export: Any) -> None:
    p = Program()
    p.answer(p.anna, p.poll, 1, "Yes")
    first = run_export("survey")
    p.answer(p.zoe, p.poll, 2, "No")
    p.answer(p.zoe, p.capital, 3, "Milan")
    second = run_export("survey", watermark=first.result.watermark)
    assert {name: lines[1:] for name, lines in files(second).items()} == {
        f"TriviaResultsSync_{STAMP}_01.txt": [
            "Capital of Italy|2||Zoë|Ærø|PQ|Milan|2026-05-04 10:03:00.000|FALSE"
        ],
        f"PollResultsSync_{STAMP}_01.txt": [
            "Open on Sundays?|2||Zoë|Ærø|PQ|No|2026-05-04 10:02:00.000|FALSE"
        ],
    }
    assert run_export("survey", watermark=second.result.watermark).result.files == []


def test_a_change_committed_during_the_export_comes_in_the_next_one(
    app: Any, tmp_path: Path, run_export: Any
) -> None:
    p = Program()
    p.answer(p.anna, p.poll, 1, "Yes")
    exported = export_around_write(
        app, tmp_path / "during", "survey", lambda: p.answer(p.zoe, p.poll, 2, "No")
    )
    assert [line.split("|")[6] for line in exported.lines()[1:]] == ["Yes"]
    following = run_export("survey", watermark=exported.result.watermark)
    assert [line.split("|")[6] for line in following.lines()[1:]] == ["No"]


@pytest.mark.parametrize(("maximum", "sizes"), [(3, [3]), (2, [2, 1])])
def test_max_records_per_file(run_export: Any, maximum: int, sizes: list[int]) -> None:
    p = Program()
    p.answer(p.anna, p.toppings, 1, "Pepperoni", "Extra Cheese", "Mushrooms")
    p.answer(p.zoe, p.poll, 2, "Yes")
    exported = run_export("survey", options={"max_records": maximum})
    survey_names = [f"SurveyResultsSync_{STAMP}_{n:02d}.txt" for n in range(1, len(sizes) + 1)]
    assert exported.names == [*survey_names, f"PollResultsSync_{STAMP}_01.txt"]
    assert [len(exported.lines(i)) - 1 for i in range(len(sizes))] == sizes
    assert all(exported.lines(i)[0] == HEADER for i in range(len(exported.names)))


def test_repeat_run_in_the_same_second_gets_free_names(run_export: Any) -> None:
    p = Program()
    p.answer(p.anna, p.poll, 1, "Yes")
    exported = run_export("survey", taken={f"PollResultsSync_{STAMP}_01.txt"})
    assert exported.names == ["PollResultsSync_20261123140510_01.txt"]


def golden_data() -> None:
    p = Program()
    p.answer(p.anna, p.toppings, 1, "Pepperoni", "Extra Cheese")
    p.answer(p.zoe, p.toppings, 2, "Mushrooms", millis=999)
    p.answer(p.zoe, p.comment, 3, text="Thin crust, ¡por favor!")
    p.answer(p.anna, p.capital, 4, "Rome")
    p.answer(p.zoe, p.capital, 5, "Milan")
    p.answer(p.anna, p.poll, 6, "No")


def test_golden_default(run_export: Any) -> None:
    golden_data()
    exported = run_export("survey")
    assert exported.names == [
        f"SurveyResultsSync_{STAMP}_01.txt",
        f"TriviaResultsSync_{STAMP}_01.txt",
        f"PollResultsSync_{STAMP}_01.txt",
    ]
    for index, kind in enumerate(("survey", "trivia", "poll")):
        check_golden(exported.bytes(index), "survey", f"default_{kind}")


def test_golden_max_records_per_file(run_export: Any) -> None:
    golden_data()
    exported = run_export("survey", options={"max_records": 2})
    assert exported.names == [
        f"SurveyResultsSync_{STAMP}_01.txt",
        f"SurveyResultsSync_{STAMP}_02.txt",
        f"TriviaResultsSync_{STAMP}_01.txt",
        f"PollResultsSync_{STAMP}_01.txt",
    ]
    check_golden(exported.bytes(0), "survey", "max_records_2_survey_01")
    check_golden(exported.bytes(1), "survey", "max_records_2_survey_02")
