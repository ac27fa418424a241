"""Issue 13, item 4: UI, CLI and API call the same services, so a rule gives the same
refusal through each of them, and none of them stores anything.

Each rule below is pressed through the page (the test client, as a logged-in user),
through the command line and through /api/v1 with a token (``_api_refusal``: the
problem+json ``errors`` of the refusal), and the refusal's words are compared.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.integration.api.conftest import Api, api_as, make_token  # noqa: F401
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


def test_the_six_destination_limit_is_the_same_refusal_in_ui_cli_and_api(
    runner: Any,
    make_sync: Any,
    sftp_destination: Any,
    sshd_server: Any,
    make_user: Any,
    login: Any,
    api_as: Any,
) -> None:
    sync = make_sync()
    api = api_as("sync_manager")
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
    assert (
        _api_refusal(
            api.post(
                f"/syncs/{sync.id}/destinations", json={**_api_body(form), "port": sshd_server.port}
            )
        )
        == LIMIT
    )
    assert snapshot() == before


def test_the_endpoint_secret_rule_is_the_same_refusal_in_ui_cli_and_api(
    runner: Any,
    make_sync: Any,
    sftp_destination: Any,
    sshd_server: Any,
    make_user: Any,
    login: Any,
    api_as: Any,
) -> None:
    sync = make_sync()
    api = api_as("sync_manager")
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
    current = api.get(f"/destinations/{destination.id}")
    assert current.status_code == 200, current.text
    assert (
        _api_refusal(
            api.patch(
                f"/destinations/{destination.id}",
                json={"port": 2200},
                headers={"If-Match": current.headers["ETag"]},
            )
        )
        == destinations.SECRET_AGAIN
    )
    assert snapshot() == before


def test_the_last_support_user_rule_is_the_same_refusal_in_ui_cli_and_api(
    runner: Any, make_user: Any, login: Any, make_token: Any, client: Any
) -> None:
    support = make_user("support")
    api = Api(client, make_token(user=support)[1])
    assert _api_refusal(api.patch(f"/users/{support.id}", json={"role": "viewer"})) == (
        LAST_SUPPORT
    )
    client = login(support)
    before = snapshot()
    ui = client.post(f"/support/users/{support.id}", data={"role": "viewer", "active": "y"})
    assert _page_says(ui, LAST_SUPPORT)
    assert _cli_says(runner, ["users", "set-role", support.email, "viewer"], LAST_SUPPORT)
    assert snapshot() == before


def _api_body(form: dict[str, str]) -> dict[str, Any]:
    """The page's form as the API's JSON body (typed, no confirmation field)."""
    body: dict[str, Any] = {k: v for k, v in form.items() if k != "password_confirm"}
    body["retries"] = int(body.get("retries") or 0)
    return body


def _api_refusal(response: Any) -> str:
    """The API's third: a 4xx problem+json whose ``errors`` carry the service's message
    (one rule, one message: the refusal's field is whichever the service names)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.mimetype == "application/problem+json"
    messages = list((response.json.get("errors") or {}).values())
    assert len(messages) == 1, response.json
    return str(messages[0])
