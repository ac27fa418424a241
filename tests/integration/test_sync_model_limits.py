"""Limits live in the model and the database, not only in forms."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from loyalty.errors import ValidationError
from webapp.extensions import db
from webapp.models.syncs import Destination, Protocol, Sync
from webapp.services import destinations


def new_sync() -> Sync:
    sync = Sync(type_key="platform_test", name="Limits")
    db.session.add(sync)
    db.session.commit()
    return sync


def fields(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Receiver",
        "host": "sftp.example.com",
        "protocol": "sftp",
        "username": "loyalty",
        "password": "s3cret-pass",
        "password_confirm": "s3cret-pass",
        "retries": "3",
    }
    data.update(overrides)
    return data


def destination_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Destination)) or 0


def test_six_destinations_and_no_seventh(app: Any) -> None:
    sync = new_sync()
    for i in range(6):
        destinations.add_destination(sync, fields(name=f"D{i}"), user=None)
    db.session.commit()
    with pytest.raises(ValidationError, match="at most 6"):
        destinations.add_destination(sync, fields(name="D7"), user=None)
    db.session.rollback()
    assert destination_count() == 6
    # The model itself refuses, whatever the caller.
    with pytest.raises(ValueError, match="at most 6"):
        sync.destinations.append(
            Destination(position=6, name="x", protocol=Protocol.SFTP, host="h", username="u")
        )


def test_database_refuses_a_seventh_position(app: Any) -> None:
    sync = new_sync()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO destinations (sync_id, position, name, protocol, host, directory, username, retries, created_at, updated_at)"
                " VALUES (:s, 7, 'x', 'sftp', 'h', '', 'u', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"s": sync.id},
        )
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"retries": "6"}, "retries", "between 0 and 5"),
        ({"retries": "-1"}, "retries", "between 0 and 5"),
        ({"port": "0"}, "port", "between 1 and 65535"),
        ({"port": "70000"}, "port", "between 1 and 65535"),
        ({"port": "ssh"}, "port", "number"),
        ({"host": ""}, "host", "required"),
        ({"host": "sftp://x.example"}, "host", "without spaces"),
        ({"password_confirm": "other"}, "password_confirm", "do not match"),
        ({"password": "", "password_confirm": ""}, "password", "password"),
        ({"protocol": "ftp"}, "protocol", "sFTP or SSL FTP"),
        ({"name": " "}, "name", "required"),
    ],
)
def test_bad_destination_input(
    app: Any, override: dict[str, str], field: str, message: str
) -> None:
    sync = new_sync()
    with pytest.raises(ValidationError) as info:
        destinations.add_destination(sync, fields(**override), user=None)
    assert message in info.value.errors[field]
    db.session.rollback()
    assert destination_count() == 0


def test_model_validators_refuse_out_of_range_values(app: Any) -> None:
    with pytest.raises(ValueError, match="between 0 and 5"):
        Destination(retries=6)
    with pytest.raises(ValueError, match="65535"):
        Destination(port=70000)
    with pytest.raises(ValueError, match="required"):
        Destination(host="  ")


def test_database_checks_retries(app: Any) -> None:
    sync = new_sync()
    destinations.add_destination(sync, fields(), user=None)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE destinations SET retries = 9"))
        db.session.flush()
    db.session.rollback()


def test_default_ports(app: Any) -> None:
    sync = new_sync()
    sftp = destinations.add_destination(sync, fields(), user=None)
    explicit = destinations.add_destination(sync, fields(protocol="ftps_explicit"), user=None)
    implicit = destinations.add_destination(
        sync, fields(protocol="ftps_implicit", port=""), user=None
    )
    custom = destinations.add_destination(sync, fields(port="2222"), user=None)
    assert [d.effective_port for d in (sftp, explicit, implicit, custom)] == [22, 21, 990, 2222]


def test_bad_sync_settings(app: Any) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        Sync(type_key="x", name="n", execution_time="25:00")
    with pytest.raises(ValueError, match="Unknown timezone"):
        Sync(type_key="x", name="n", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="name"):
        Sync(type_key="x", name="")
