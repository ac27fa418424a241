"""Issue 17, "done when": a bounded property-based fuzz of every form and the CLI's arguments.

Hypothesis draws nasty text (control characters, NUL, CR/LF, huge strings, full-width
digits, numbers beyond every integer range) for each field of each POST form, posted
through the test client with real CSRF tokens, logged in as support (the login form
anonymously), and for the ``flask`` commands' arguments. Whatever comes in: no status
500, no traceback, and a refused input leaves the stored rows exactly as they were.

Bounded and reproducible: a few dozen examples per target, ``derandomize=True``, no
deadline. Not ``nodb``: it runs in the SQLite and the PostgreSQL pass (NUL bytes and
int4 overflows are PostgreSQL's own failures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from exporters.base import SyncType
from tests.conftest import PASSWORD
from webapp import create_app
from webapp.extensions import db
from webapp.models.runs import SyncInstance, Trigger
from webapp.models.syncs import Destination, RecipientKey, Sync
from webapp.models.users import User
from webapp.services import destinations

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "a\r\nb",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\u2028",
    "\uff10\uff13:\uff13\uff10",
    "\uff15",
    "03:30",
    "Europe/London",
    "x" * 300,
    "a" * 64 + ".example.com",
    "-1",
    "0",
    "abc",
    str(2**31),
    str(2**63),
    str(10**40),
    "1e99",
    "ops@example.com",
    "ops@example.com\r\nBcc: x@example.com",
    "SHA256:" + "A" * 43,
    "SHA256:" + "A" * 10_000,
    "../../etc/passwd",
    "sftp",
    "ftps_explicit",
    "gzip",
    "pgp",
    "support",
]

nasty_text = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Cc", "Nd", "Zs", "Zl"]), max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.builds(
        lambda piece, n: piece * n,
        st.sampled_from(["a", "\x00", "é", "9"]),
        st.integers(100, 25_000),
    ),
    st.lists(st.sampled_from(["u@example.com", "x", "\n", ","]), max_size=60).map("".join),
)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row a form or command could change (the audit log and users' last
    login excepted: failed logins are audited, which is no stored change of input)."""
    db.session.expire_all()
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for model in (Sync, Destination, RecipientKey, SyncInstance):
        columns = [c for c in model.__table__.columns if c.name not in ("updated_at",)]
        tables[model.__tablename__] = [
            tuple(row) for row in db.session.execute(select(*columns).order_by(columns[0]))
        ]
    users = [c for c in User.__table__.columns if c.name not in ("last_login_at",)]
    tables["users"] = [tuple(r) for r in db.session.execute(select(*users).order_by(users[0]))]
    db.session.rollback()
    return tables


def check(response: Any, before: dict[str, Any]) -> None:
    assert response.status_code < 500, response.text[:2000]
    assert "Traceback" not in response.text
    if response.status_code != 302:  # every form redirects when it stores something
        assert snapshot() == before


@pytest.fixture
def csrf_app(app_config: dict[str, Any], app: Flask) -> Iterator[Flask]:
    fuzzed = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield fuzzed
    with fuzzed.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(page: Any) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    assert marker in page.text, page.text[:500]
    return str(page.text.split(marker)[1].split('"')[0])


@pytest.fixture
def world(
    csrf_app: Flask, make_user: Callable[..., Any], platform_test_type: SyncType
) -> dict[str, Any]:
    """A support user logged in with a CSRF token, and one of everything to edit."""
    support = make_user("support")
    other = make_user("viewer")
    sync = Sync(type_key=platform_test_type.key, name="Fuzzed")
    db.session.add(sync)
    db.session.commit()
    destination = destinations.add_destination(
        sync,
        {
            "name": "Receiver",
            "host": "127.0.0.1",
            "protocol": "sftp",
            "username": "u",
            "password": "p4ssword-long",
            "password_confirm": "p4ssword-long",
        },
        user=None,
    )
    instance = SyncInstance(sync_id=sync.id, trigger=Trigger.MANUAL)
    db.session.add(instance)
    db.session.commit()
    client = csrf_app.test_client()
    token = _token(client.get("/login"))
    response = client.post(
        "/login", data={"email": support.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    token = _token(client.get("/syncs/new"))
    # The token works: a good form is stored (so refusals below are the fields' doing).
    accepted = client.post(f"/syncs/{sync.id}/enabled", data={"enabled": "1", "csrf_token": token})
    assert accepted.status_code == 302, accepted.text
    return {
        "client": client,
        "anonymous": csrf_app.test_client(),
        "token": token,
        "sync": sync.id,
        "destination": destination.id,
        "instance": instance.id,
        "user": other.id,
    }


def _post(
    world: dict[str, Any], path: str, data: dict[str, Any], client: FlaskClient | None = None
) -> None:
    before = snapshot()
    response = (client or world["client"]).post(path, data={**data, "csrf_token": world["token"]})
    check(response, before)


DESTINATION_FIELDS = (
    "name",
    "host",
    "protocol",
    "directory",
    "port",
    "username",
    "password",
    "password_confirm",
    "private_key",
    "retries",
    "host_key_fingerprint",
    "host_key_type",
    "tls_fingerprint",
)
SETTINGS_FIELDS = (
    "execution_time",
    "timezone",
    "compression",
    "encryption",
    "notify_emails",
    "option_rows",
    "option_row_width",
    "option_delay_ms",
)


def fields(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=dict.fromkeys(names, nasty_text))


@FUZZ
@given(data=fields(("type_key", "name", "scope_id")))
def test_fuzz_create_sync(world: dict[str, Any], data: dict[str, str]) -> None:
    _post(world, "/syncs/new", {"type_key": "platform_test", **data})


@FUZZ
@given(data=fields(SETTINGS_FIELDS))
def test_fuzz_settings(world: dict[str, Any], data: dict[str, str]) -> None:
    base = {
        "execution_time": "03:00",
        "timezone": "UTC",
        "compression": "none",
        "encryption": "none",
    }
    _post(world, f"/syncs/{world['sync']}/settings", {**base, **data})


@FUZZ
@given(data=fields(DESTINATION_FIELDS))
def test_fuzz_destination_add(world: dict[str, Any], data: dict[str, str]) -> None:
    _post(world, f"/syncs/{world['sync']}/destinations/new", {"protocol": "sftp", **data})


@FUZZ
@given(data=fields(DESTINATION_FIELDS))
def test_fuzz_destination_edit(world: dict[str, Any], data: dict[str, str]) -> None:
    _post(world, f"/destinations/{world['destination']}/edit", {"protocol": "sftp", **data})


@FUZZ
@given(enabled=nasty_text, key=nasty_text, destination_id=nasty_text)
def test_fuzz_small_forms(
    world: dict[str, Any], enabled: str, key: str, destination_id: str
) -> None:
    _post(world, f"/syncs/{world['sync']}/enabled", {"enabled": enabled})
    _post(world, f"/syncs/{world['sync']}/keys", {"public_key": key})
    _post(
        world,
        f"/syncs/{world['sync']}/runs/{world['instance']}/retransfer",
        {"destination_id": destination_id},
    )


@FUZZ
@given(data=fields(("email", "name", "role", "password")))
def test_fuzz_create_user(world: dict[str, Any], data: dict[str, str]) -> None:
    _post(world, "/support/users", data)


@FUZZ
@given(data=fields(("role", "active", "password")))
def test_fuzz_edit_user(world: dict[str, Any], data: dict[str, str]) -> None:
    _post(world, f"/support/users/{world['user']}", data)


@FUZZ
@given(data=fields(("email", "password")))
def test_fuzz_anonymous_login(world: dict[str, Any], data: dict[str, str]) -> None:
    anonymous = world["anonymous"]
    token = _token(anonymous.get("/login"))
    before = snapshot()
    response = anonymous.post("/login", data={**data, "csrf_token": token})
    check(response, before)


ids = st.one_of(
    st.integers(min_value=0, max_value=2**70).map(str),
    st.sampled_from(["abc", "-1", "\uff11", str(2**31), "1e3"]),
)


@FUZZ
@given(number=ids, query=fields(("page", "sync", "user", "action", "timezone", "execution_time")))
def test_fuzz_ids_in_paths_and_queries(
    world: dict[str, Any], number: str, query: dict[str, str]
) -> None:
    client = world["client"]
    before = snapshot()
    for path in (
        f"/syncs/{number}/settings",
        f"/syncs/{number}/dashboard",
        f"/destinations/{number}/edit",
        f"/files/{number}/download",
        f"/support/users/{number}",
        f"/syncs/{world['sync']}/runs/{number}/creation",
        "/support/audit",
        f"/syncs/{world['sync']}/dashboard",
        f"/syncs/{world['sync']}/settings/preview",
    ):
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.text[:1000])
        assert "Traceback" not in response.text
    assert snapshot() == before


def _invoke(runner: Any, args: list[str], stdin: str = "") -> None:
    before = snapshot()
    result = runner.invoke(args=args, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
        result.output[-2000:],
    )
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert snapshot() == before, args


cli_text = nasty_text.filter(lambda text: not text.startswith("-"))


@FUZZ
@given(
    name=cli_text,
    param=cli_text,
    time=cli_text,
    zone=cli_text,
    notify=cli_text,
    option=cli_text,
    number=ids,
    count=ids,
)
def test_fuzz_cli_arguments(
    world: dict[str, Any],
    csrf_app: Flask,
    name: str,
    param: str,
    time: str,
    zone: str,
    notify: str,
    option: str,
    number: str,
    count: str,
) -> None:
    runner = csrf_app.test_cli_runner()
    sync = str(world["sync"])
    _invoke(runner, ["sync", "create", "--type", "platform_test", "--name", name, "--param", param])
    _invoke(runner, ["sync", "set", sync, "--time", time])
    _invoke(runner, ["sync", "set", sync, "--timezone", zone, "--notify", notify])
    _invoke(runner, ["sync", "set", sync, "--option", option, "--option", f"rows={count}"])
    _invoke(runner, ["sync", "set", number, "--enable"])
    _invoke(runner, ["sync", "next-runs", sync, "--count", count, "--after", time])
    _invoke(runner, ["sync", "instances", number, "--limit", count])
    _invoke(runner, ["sync", "retransfer", number, "--destination", count])
    _invoke(
        runner,
        [
            "sync",
            "destination-add",
            sync,
            "--name",
            name,
            "--host",
            param,
            "--protocol",
            "ftps_explicit",
            "--directory",
            time,
            "--user",
            zone,
            "--port",
            count,
            "--retries",
            count,
            "--host-key-fingerprint",
            option,
        ],
        stdin=f"{notify}\n",
    )
    _invoke(
        runner,
        ["users", "create", "--email", notify, "--role", option, "--name", name],
        stdin=f"{param}\n",
    )


@FUZZ
@given(name=cli_text, text=cli_text, secret=cli_text, number=ids, count=ids)
def test_fuzz_cli_parity_commands(
    world: dict[str, Any],
    csrf_app: Flask,
    name: str,
    text: str,
    secret: str,
    number: str,
    count: str,
) -> None:
    """Issue 13's commands (webapp/cli/destinations.py, sync_actions.py, runs.py,
    users.py, webhooks.py, audit.py): deletes are answered "no", never ``--yes``."""
    runner = csrf_app.test_cli_runner()
    sync, destination = str(world["sync"]), str(world["destination"])
    edit = ["sync", "destination-edit", destination, "--name", name, "--directory", text]
    _invoke(runner, [*edit, "--port", count, "--retries", count])
    _invoke(runner, [*edit, "--host", text, "--user", name, "--password-stdin"], f"{secret}\n")
    _invoke(runner, ["sync", "destination-edit", number, "--tls-fingerprint", text])
    _invoke(runner, ["sync", "destination-edit", destination, "--key-file", text])
    _invoke(runner, ["sync", "set", sync, "--pgp-key-file", text, "--deadline", count])
    _invoke(runner, ["sync", "destination-list", number])
    _invoke(runner, ["sync", "destination-test", number, "--host", text, "--port", count])
    _invoke(runner, ["sync", "destination-remove", number], "n\n")
    _invoke(runner, ["sync", "delete", number], "\n")
    _invoke(runner, ["sync", "show", number, "--json"])
    _invoke(runner, ["sync", "enable", number])
    _invoke(runner, ["sync", "key-remove", sync, number])
    _invoke(runner, ["sync", "set-scope", sync, text])
    _invoke(runner, ["sync", "scope-choices", name])
    _invoke(runner, ["sync", "download", number, "--out", text, "--file", count])
    _invoke(runner, ["runs", "cancel", number])
    _invoke(runner, ["runs", "show", number])
    _invoke(runner, ["runs", "list", "--status", text, "--from", name, "--to", secret])
    _invoke(runner, ["runs", "list", "--sync", number, "--before", count, "--limit", count])
    _invoke(runner, ["transfers", "retry", number])
    _invoke(runner, ["transfers", "cancel", count])
    _invoke(runner, ["users", "set-role", name, text])
    _invoke(runner, ["users", "disable", name])
    _invoke(runner, ["users", "reset-password", text, "--password-stdin"], f"{secret}\n")
    _invoke(runner, ["audit", "list", "--action", text, "--actor", name, "--user", secret])
    _invoke(runner, ["audit", "list", "--sync", number, "--limit", count, "--page", count])
    _invoke(runner, ["webhooks", "create", "--sync", sync, "--name", name, "--url", text])
    _invoke(runner, ["webhooks", "delete", number], "n\n")
    _invoke(runner, ["webhooks", "disable", number])
    _invoke(runner, ["sync", "signing-key-set", sync, text], f"{secret}\n")
    _invoke(runner, ["sync", "destination-edit", destination, "--marker-name", text])
