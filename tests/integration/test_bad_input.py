"""Issue 17, items 9 and 10: bad input gets a clear message, never a 500, and stores nothing.

Each case here was a 500, a traceback or stored garbage before the fix; they run on
SQLite and PostgreSQL (where NUL bytes and ids beyond int4 used to reach the database).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from exporters.base import SyncType
from webapp.extensions import db
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations, syncs

FULL_WIDTH_0330 = "\uff10\uff13:\uff13\uff10"


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _sync(platform_test_type: SyncType, **fields: Any) -> Sync:
    sync = Sync(type_key=platform_test_type.key, name=fields.pop("name", "Bad input"), **fields)
    db.session.add(sync)
    db.session.commit()
    return sync


def _destination_fields(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Receiver",
        "host": "ftp.example.com",
        "protocol": "ftps_explicit",
        "directory": "in",
        "username": "loyalty",
        "password": "s3cret-pass",
        "password_confirm": "s3cret-pass",
        "retries": "1",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"host": "a" * 64 + ".example.com"}, "host"),
        ({"host": "bad\x00host"}, "host"),
        ({"directory": "in\r\nDELE x"}, "directory"),
        ({"directory": "in\x00"}, "directory"),
        ({"username": "loyalty\r\nPASS x"}, "username"),
        ({"password": "pw\r\nDELE x", "password_confirm": "pw\r\nDELE x"}, "password"),
        ({"name": "Receiver\r\nBcc: everyone@example.com"}, "name"),
        ({"name": "R" * 121}, "name"),
        ({"host_key_fingerprint": "SHA256:" + "A" * 10_000}, "host_key_fingerprint"),
        ({"host_key_fingerprint": "not a fingerprint"}, "host_key_fingerprint"),
        ({"tls_fingerprint": "ab" * 5_000}, "tls_fingerprint"),
        ({"retries": "\uff11"}, "retries"),
        ({"port": "\uff12\uff11"}, "port"),
    ],
)
def test_destination_garbage_is_refused_and_nothing_stored(
    app: Flask, platform_test_type: SyncType, override: dict[str, Any], field: str
) -> None:
    from loyalty.errors import ValidationError

    sync = _sync(platform_test_type)
    with pytest.raises(ValidationError) as info:
        destinations.add_destination(sync, _destination_fields(**override), user=None)
    db.session.rollback()
    assert field in info.value.errors, info.value.errors
    assert "s3cret" not in str(info.value) and "DELE" not in info.value.errors.get("password", "")
    assert _count(Destination) == 0


def test_fingerprints_are_stored_in_their_canonical_form(
    app: Flask, platform_test_type: SyncType
) -> None:
    sync = _sync(platform_test_type)
    destination = destinations.add_destination(
        sync, _destination_fields(tls_fingerprint="AB:" * 31 + "AB"), user=None
    )
    assert destination.tls_fingerprint == "ab" * 32


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"execution_time": FULL_WIDTH_0330}, "execution_time"),
        ({"timezone": "Europe/" + "x" * 300}, "timezone"),
        ({"timezone": "UTC\x00"}, "timezone"),
        ({"notify_emails": ", ".join(f"u{i}@example.com" for i in range(20_000))}, "notify_emails"),
        ({"notify_emails": "ops@example.com\x00"}, "notify_emails"),
        ({"notify_emails": ["ops@example.com\x07"]}, "notify_emails"),
        ({"options": {"max_records": str(10**40)}}, "options.max_records"),
        ({"options": {"rows": "\uff15"}}, "options.rows"),
    ],
)
def test_settings_garbage_is_refused(
    app: Flask, platform_test_type: SyncType, changes: dict[str, Any], field: str
) -> None:
    from loyalty.errors import ValidationError

    sync = _sync(platform_test_type)
    before = (sync.execution_time, sync.timezone, list(sync.notify_emails), dict(sync.options))
    with pytest.raises(ValidationError) as info:
        syncs.update_settings(sync, changes, user=None)
    db.session.rollback()
    assert field in info.value.errors, info.value.errors
    db.session.refresh(sync)
    assert (sync.execution_time, sync.timezone, sync.notify_emails, sync.options) == before


@pytest.mark.parametrize("name", ["Nightly\r\nBcc: x@example.com", "Nightly\x00", "N" * 121])
def test_sync_names_with_control_characters_are_refused(
    app: Flask, platform_test_type: SyncType, name: str
) -> None:
    from loyalty.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        syncs.create_sync(platform_test_type.key, name, {}, user=None)
    db.session.rollback()
    assert "name" in info.value.errors
    assert _count(Sync) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/syncs/2147483648/settings",
        "/syncs/99999999999999999999/dashboard",
        "/destinations/2147483648/edit",
        "/files/9223372036854775808/download",
        "/support/users/2147483648",
    ],
)
def test_ids_beyond_the_integer_range_are_not_found(make_user: Any, login: Any, path: str) -> None:
    client = login(make_user("support"))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "query", ["page=99999999999999999999", "page=abc", "sync=2147483648", "user=1e99"]
)
def test_query_ids_out_of_range_are_a_clear_400(
    make_user: Any, login: Any, platform_test_type: SyncType, query: str
) -> None:
    sync = _sync(platform_test_type)
    client = login(make_user("support"))
    for path in (f"/support/audit?{query}", f"/syncs/{sync.id}/dashboard?{query}"):
        if path.startswith("/syncs") and not query.startswith("page"):
            continue
        response = client.get(path)
        assert response.status_code == 400, path
        assert query.split("=")[0] in response.text


def test_test_connection_with_a_text_destination_id_is_not_found(
    make_user: Any, login: Any, platform_test_type: SyncType
) -> None:
    sync = _sync(platform_test_type)
    client = login(make_user("support"))
    response = client.post(
        f"/syncs/{sync.id}/destinations/test",
        data={**_destination_fields(), "destination_id": "abc"},
    )
    assert response.status_code == 404


def test_retransfer_with_a_huge_destination_id_is_not_found(
    make_user: Any, login: Any, platform_test_type: SyncType
) -> None:
    from webapp.models.runs import SyncInstance, Trigger

    sync = _sync(platform_test_type)
    instance = SyncInstance(sync_id=sync.id, trigger=Trigger.MANUAL)
    db.session.add(instance)
    db.session.commit()
    client = login(make_user("support"))
    response = client.post(
        f"/syncs/{sync.id}/runs/{instance.id}/retransfer", data={"destination_id": str(2**40)}
    )
    assert response.status_code == 404


def test_a_nul_byte_in_the_login_form_is_a_400(client: Any, make_user: Any) -> None:
    make_user("support")
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert "NUL" in response.text


def test_schedule_preview_with_a_300_character_timezone(
    make_user: Any, login: Any, platform_test_type: SyncType
) -> None:
    sync = _sync(platform_test_type)
    client = login(make_user("support"))
    response = client.get(
        f"/syncs/{sync.id}/settings/preview", query_string={"timezone": "x" * 300}
    )
    assert response.status_code == 200
    assert "choose a timezone" in response.text
    response = client.get(
        f"/syncs/{sync.id}/settings/preview", query_string={"execution_time": FULL_WIDTH_0330}
    )
    assert "Enter a time as HH:MM" in response.text


@pytest.mark.parametrize(
    "args",
    [
        ["set", "{id}", "--timezone", "x" * 300],
        ["set", "{id}", "--time", FULL_WIDTH_0330],
        ["set", "2147483648", "--timezone", "UTC"],
        ["next-runs", "{id}", "--count", "99999999999"],
        ["next-runs", "{id}", "--after", "9999-12-31T23:59"],
        ["instances", "{id}", "--limit", "99999999999999999999"],
        ["create", "--type", "platform_test", "--name", "x\r\ny"],
        ["retransfer", "99999999999"],
    ],
)
def test_cli_refuses_bad_input_without_a_traceback(
    runner: FlaskCliRunner, platform_test_type: SyncType, args: list[str]
) -> None:
    sync = _sync(platform_test_type)
    before = _count(Sync), sync.timezone, sync.execution_time
    result = runner.invoke(args=["sync", *[a.replace("{id}", str(sync.id)) for a in args]])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert (_count(Sync), sync.timezone, sync.execution_time) == before


def test_max_records_and_option_numbers_take_ascii_digits_in_range() -> None:
    from exporters.options import max_records_option

    option = max_records_option("_1, _2")
    assert option.clean("5000") == 5000
    for bad in (str(10**40), "\uff15\uff10", "1e9", "10" * 3000):
        with pytest.raises(ValueError, match="Max records per file"):
            option.clean(bad)


def test_the_models_refuse_line_breaks_whatever_the_caller(app: Flask) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        Sync(type_key="platform_test", name="Nightly\r\nBcc: x@example.com")
    with pytest.raises(ValueError, match="line breaks"):
        Destination(directory="in\r\nDELE x")
    with pytest.raises(ValueError, match="line breaks"):
        Destination(username="u\nPASS")
