"""Test connection against the real sshd and vsftpd from the destination form, pinning on
save, and creating a sync bound to a scope object chosen from a list."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.models import Descriptor
from webapp.extensions import db
from webapp.models.syncs import Destination, Sync

pytestmark = pytest.mark.integration


@pytest.fixture
def sync(app: Any) -> Sync:
    descriptor = Descriptor(ext_ref="GOLD", name="Gold")
    db.session.add(descriptor)
    db.session.flush()
    sync = Sync(
        type_key="member_descriptor", name="Gold to CRM", scope={"descriptor_id": descriptor.id}
    )
    db.session.add(sync)
    db.session.commit()
    return sync


def sftp_form(sshd: Any, folder: str, **overrides: str) -> dict[str, str]:
    data = {
        "name": "Partner",
        "host": sshd.host,
        "protocol": "sftp",
        "port": str(sshd.port),
        "directory": folder,
        "username": sshd.username,
        "password": sshd.password,
        "password_confirm": sshd.password,
        "retries": "1",
    }
    data.update(overrides)
    return data


def test_sftp_test_shows_the_host_key_and_save_pins_it(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    result = client.post(
        f"/syncs/{sync.id}/destinations/test",
        data=sftp_form(sshd_server, remote),
        headers={"HX-Request": "true"},
    )
    assert result.status_code == 200
    assert "Connected" in result.text
    assert sshd_server.host_key_fingerprint in result.text
    assert (
        f'name="host_key_fingerprint" value="{sshd_server.host_key_fingerprint}" checked'
        in result.text
    )
    # Saving the form with the accepted key pins it.
    saved = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            **sftp_form(sshd_server, remote),
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "host_key_type": sshd_server.host_key_type,
        },
    )
    assert saved.status_code == 302
    destination = db.session.scalar(select(Destination))
    assert destination.host_key_fingerprint == sshd_server.host_key_fingerprint
    assert destination.host_key_type == sshd_server.host_key_type


def test_sftp_test_with_wrong_password_says_so(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    form = sftp_form(
        sshd_server, remote, password="wrong-password-1", password_confirm="wrong-password-1"
    )
    result = client.post(f"/syncs/{sync.id}/destinations/test", data=form)
    assert "Failed" in result.text
    assert "password" in result.text.lower() or "authentication" in result.text.lower()


def test_test_of_a_saved_destination_uses_the_stored_password(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            **sftp_form(sshd_server, remote),
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
        },
    )
    destination = db.session.scalar(select(Destination))
    form = {
        **sftp_form(sshd_server, remote, password="", password_confirm=""),
        "destination_id": str(destination.id),
    }
    result = client.post(f"/syncs/{sync.id}/destinations/test", data=form)
    assert "Connected" in result.text
    assert "already pinned" in result.text


def test_ftps_test_shows_the_self_signed_certificate(
    sync: Sync, vsftpd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = vsftpd_server.fresh_dir()
    form = {
        "name": "FTPS",
        "host": vsftpd_server.host,
        "protocol": "ftps_explicit",
        "port": str(vsftpd_server.port),
        "directory": remote,
        "username": vsftpd_server.username,
        "password": vsftpd_server.password,
        "password_confirm": vsftpd_server.password,
    }
    result = client.post(f"/syncs/{sync.id}/destinations/test", data=form)
    assert vsftpd_server.cert_fingerprint in result.text  # shown for pinning, though not trusted
    pinned = client.post(
        f"/syncs/{sync.id}/destinations/test",
        data={**form, "tls_fingerprint": vsftpd_server.cert_fingerprint},
    )
    assert "Connected" in pinned.text


def test_create_sync_with_a_scope_chosen_from_the_list(
    app: Any, make_user: Any, login: Any
) -> None:
    gold = Descriptor(ext_ref="GOLD", name="Gold members")
    db.session.add(gold)
    db.session.commit()
    client = login(make_user("support"))
    form = client.get("/syncs/new?type_key=member_descriptor").text
    assert f'<option value="{gold.id}">GOLD — Gold members</option>' in form
    partial = client.get(
        "/syncs/new?type_key=member_descriptor", headers={"HX-Request": "true"}
    ).text
    assert partial.lstrip().startswith('<div id="scope-field">') and "GOLD" in partial
    bad = client.post(
        "/syncs/new", data={"type_key": "member_descriptor", "name": "Gold", "scope_id": "99999"}
    )
    assert "No member descriptor with id 99999" in bad.text
    good = client.post(
        "/syncs/new",
        data={"type_key": "member_descriptor", "name": "Gold", "scope_id": str(gold.id)},
    )
    assert good.status_code == 302
    created = db.session.scalar(select(Sync).where(Sync.name == "Gold"))
    assert created.scope == {"descriptor_id": gold.id}
