"""Issue 13, item 4: ``flask audit list``, the audit page's query (services.audit_view)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.cli_support import invoke, invoke_json
from tests.integration.runs.conftest import make_sync  # noqa: F401
from webapp.services.audit import cli_actor

pytestmark = pytest.mark.integration


def test_audit_list_filters_like_the_audit_page(
    runner: Any, make_sync: Any, make_user: Any, login: Any
) -> None:
    manager = make_user("support")
    first, second = make_sync("First"), make_sync("Second")
    invoke(runner, "sync", "enable", str(first.id))
    invoke(runner, "sync", "enable", str(second.id))
    login(manager).post(f"/syncs/{first.id}/enabled", data={"enabled": "0"})
    rows = invoke_json(runner, "audit", "list", "--sync", str(first.id), "--action", "sync")
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("sync.disable", manager.email),
        ("sync.enable", cli_actor()),
    ]
    by_user = invoke_json(runner, "audit", "list", "--user", manager.email, "--action", "sync")
    assert [r["action"] for r in by_user] == ["sync.disable"]
    mine = invoke_json(runner, "audit", "list", "--actor", cli_actor(), "--limit", "1")
    assert [(r["action"], r["sync_id"]) for r in mine] == [("sync.enable", second.id)]
    csv_text = invoke(runner, "audit", "list", "--sync", str(first.id), "--csv").output
    assert csv_text.splitlines()[0].startswith("id,at_utc,actor,action")
    assert len(csv_text.splitlines()) == 3  # header, the disable, the enable
    page = invoke(runner, "audit", "list", "--sync", str(first.id)).output
    assert "sync.disable" in page and manager.email in page
    # The page shows the same events, newest first.
    html = login(manager).get(f"/support/audit?sync={first.id}&action=sync").text
    assert html.index("sync.disable") < html.index("sync.enable")


def test_audit_list_refuses_bad_filters(runner: Any) -> None:
    assert (
        "No user with the email x@example.com"
        in invoke(runner, "audit", "list", "--user", "x@example.com", code=2).output
    )
    assert (
        "control characters"
        in invoke(runner, "audit", "list", "--action", "sync\x00", code=2).output
    )
    assert invoke(runner, "audit", "list", "--limit", "0", code=2).output.startswith("Usage")
    assert (
        "--since must be a date as YYYY-MM-DD"
        in invoke(runner, "audit", "list", "--since", "yesterday", code=2).output
    )
