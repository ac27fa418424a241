"""The reference queries (run by the benchmark through sqlite3 / COPY) give the files' rows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.exporters import (
    test_case_event,
    test_interaction,
    test_reward,
    test_reward_type,
    test_survey,
)
from tests.integration.exporters.events_support import reference_lines


def body(exported: Any, index: int, header: bool) -> list[str]:
    lines: list[str] = exported.lines(index)
    return lines[1:] if header else lines


@pytest.mark.parametrize(
    ("key", "build", "options", "header"),
    [
        ("reward", test_reward.golden_data, {}, False),
        ("reward", test_reward.golden_data, {"custom_field_values": True}, False),
        ("reward", test_reward.golden_data, {"include_source_dates": True}, False),
        ("reward_type", test_reward_type.golden_data, {}, True),
        ("interaction", test_interaction.golden_data, {}, True),
        ("case_event", test_case_event.golden_data, {}, True),
        ("survey", test_survey.golden_data, {}, True),
    ],
)
def test_reference_queries_give_the_files_rows(
    app: Any, run_export: Any, key: str, build: Any, options: dict[str, Any], header: bool
) -> None:
    app.config["DATABASE_TIMEZONE"] = "America/Toronto"
    build()
    exported = run_export(key, options=options)
    expected = [body(exported, i, header) for i in range(len(exported.names))]
    assert reference_lines(app, key, options=options) == expected
    assert sum(len(lines) for lines in expected) > 2  # the data set is not empty
