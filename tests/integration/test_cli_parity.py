"""Issue 13, item 4: UI, CLI and API call the same services, so a rule gives the same
refusal through each of them, and none of them stores anything.

Each rule below is pressed through the page (the test client, as a logged-in user) and
through the command line, and the refusal's words are compared. The API's third of each
cross-check is ``_api_refusal`` (engineer "api" builds /api/v1 in parallel; it is filled
in when webapp/api is on main).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.integration.cli_support import invoke
from tests.integration.runs.conftest import make_sync, sftp_destination  # noqa: F401
from tests.integration.test_fuzz_inputs import snapshot
from webapp.models.syncs import MAX_DESTINATIONS
from webapp.services import destinations

pytestmark = pytest.mark.integration

LIMIT = f"A sync has at most {MAX_DESTINATIONS} destinations; delete one first."
LAST_SUPPORT = "The last active support user cannot lose the support role."


def _page_says(response: Any, message: str) -> bool:
    assert response.status_code == 200, response.status_code  # shown again, not stored
    return message in html.unescape(response.text)


def _cli_says(runner: Any, args: list[str], message: str, stdin: str | None = None) -> bool:
    """The command exits 2 with ``Error: [field: ]<message>`` (the CLI may add a hint)."""
    result = invoke(runner, *args, stdin=stdin, code=2)
    return re.search(rf"^Error: (\w+: )?{re.escape(message)}", result.output, re.M) is not None


def test_the_six_destination_limit_is_the_same_refusal_in_ui_and_cli(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any, make_user: Any, login: Any
) -> None:
    sync = make_sync()
    for _ in range(MAX_DESTINATIONS):
        sftp_destination(sync)
    client = login(make_user("sync_manager"))
    before = snapshot()
    form = {
        "name": "Seventh",
        "host": sshd_server.host,
        "protocol": "sftp",
        "port": str(sshd_server.port),
        "username": sshd_server.username,
        "password": sshd_server.password,
        "password_confirm": sshd_server.password,
        "retries": "0",
    }
    ui = client.post(f"/syncs/{sync.id}/destinations/new", data=form)
    cli = [
        "sync",
        "destination-add",
        str(sync.id),
        "--name",
        "Seventh",
        "--host",
        sshd_server.host,
        "--protocol",
        "sftp",
        "--port",
        str(sshd_server.port),
        "--user",
        sshd_server.username,
    ]
    assert _page_says(ui, LIMIT)
    assert _cli_says(runner, cli, LIMIT, stdin=f"{sshd_server.password}\n")
    assert _api_refusal("six_destinations", sync=sync, form=form) in (None, LIMIT)
    assert snapshot() == before


def test_the_endpoint_secret_rule_is_the_same_refusal_in_ui_and_cli(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any, make_user: Any, login: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    client = login(make_user("sync_manager"))
    before = snapshot()
    moved = {
        "name": destination.name,
        "host": destination.host,
        "protocol": "sftp",
        "port": "2200",  # another port: the stored password must not follow it
        "directory": destination.directory,
        "username": destination.username,
        "retries": "0",
        "password": "",
        "password_confirm": "",
    }
    ui = client.post(f"/destinations/{destination.id}/edit", data=moved)
    assert _page_says(ui, destinations.SECRET_AGAIN)
    assert _cli_says(
        runner,
        ["sync", "destination-edit", str(destination.id), "--port", "2200"],
        destinations.SECRET_AGAIN,
    )
    assert _api_refusal("endpoint_secret", destination=destination, form=moved) in (
        None,
        destinations.SECRET_AGAIN,
    )
    assert snapshot() == before


def test_the_last_support_user_rule_is_the_same_refusal_in_ui_and_cli(
    runner: Any, make_user: Any, login: Any
) -> None:
    support = make_user("support")
    client = login(support)
    before = snapshot()
    ui = client.post(f"/support/users/{support.id}", data={"role": "viewer", "active": "y"})
    assert _page_says(ui, LAST_SUPPORT)
    assert _cli_says(runner, ["users", "set-role", support.email, "viewer"], LAST_SUPPORT)
    assert snapshot() == before


def _api_refusal(rule: str, **context: Any) -> str | None:
    """The API's third of the cross-check: the refusal's ``detail`` (or field message)
    from /api/v1 for ``rule``; None while the API is not in this branch."""
    return None
