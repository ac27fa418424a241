"""Test connection against the real sshd and vsftpd from the destination form, pinning on
save, and creating a sync bound to a scope object chosen from a list."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.models import Descriptor
from tests.fixtures.sshd import ed25519_keypair
from tests.integration.web.press_test import ftps_form, press_test
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
    result = press_test(client, sync.id, sftp_form(sshd_server, remote))
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
    result = press_test(client, sync.id, form)
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
    result = press_test(client, sync.id, form)
    assert "Connected" in result.text
    assert "already pinned" in result.text


def _saved_destination(client: FlaskClient, sync: Sync, form: dict[str, str]) -> Destination:
    saved = client.post(f"/syncs/{sync.id}/destinations/new", data=form)
    assert saved.status_code == 302, saved.text
    destination = db.session.scalar(select(Destination))
    assert destination is not None
    return destination


def _test_saved(
    client: FlaskClient, sync: Sync, destination: Destination, form: dict[str, str]
) -> str:
    """Press "Test connection" on the edit page of ``destination`` (stored pin in the form)."""
    data = {**form, "destination_id": str(destination.id)}
    if destination.host_key_fingerprint:
        data["host_key_fingerprint"] = destination.host_key_fingerprint
        data["host_key_type"] = destination.host_key_type or ""
    if destination.tls_fingerprint:
        data["tls_fingerprint"] = destination.tls_fingerprint
    result = press_test(client, sync.id, data)
    assert result.status_code == 200
    return result.text


def _assert_no_login_attempt(new_log: str) -> None:
    """sshd (LogLevel VERBOSE) logs every password or key it is offered, before it answers."""
    assert "Connection from 127.0.0.1" in new_log  # the test did reach this server
    assert "password" not in new_log.lower()
    assert "publickey" not in new_log.lower()
    assert "Accepted" not in new_log


def test_test_of_a_pinned_destination_checks_the_key_before_sending_the_password(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    pinned = sshd_server.host_key_fingerprint
    destination = _saved_destination(
        client,
        sync,
        {
            **sftp_form(sshd_server, remote),
            "host_key_fingerprint": pinned,
            "host_key_type": sshd_server.host_key_type,
        },
    )
    keep_password = sftp_form(sshd_server, remote, password="", password_confirm="")
    with sshd_server.replaced_host_key() as presented:
        log_before = sshd_server.log_path.read_text()
        page = _test_saved(client, sync, destination, keep_password)
        new_log = sshd_server.log_path.read_text()[len(log_before) :]
    assert "Failed" in page
    assert "Host key changed" in page
    assert f"{pinned} is pinned" in page
    # The presented key is offered, for the user to accept once the receiver confirms it.
    assert f'name="host_key_fingerprint" value="{presented}"' in page
    assert "already pinned" not in page
    _assert_no_login_attempt(new_log)
    # The stored password stays with us: the test never authenticated to that server.
    assert sshd_server.password not in page
    # Back to the pinned key: the same test logs in with the stored password again.
    log_before = sshd_server.log_path.read_text()
    page = _test_saved(client, sync, destination, keep_password)
    assert "Connected" in page and "already pinned" in page
    assert "Accepted password for" in sshd_server.log_path.read_text()[len(log_before) :]


def test_changed_host_key_is_reported_even_when_the_password_is_wrong(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    from webapp.services import connection_test

    client = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    destination = _saved_destination(
        client,
        sync,
        {**sftp_form(sshd_server, remote), "host_key_fingerprint": ed25519_keypair()[2]},
    )
    pinned = destination.host_key_fingerprint
    wrong = sftp_form(
        sshd_server, remote, password="wrong-password-2", password_confirm="wrong-password-2"
    )
    log_before = sshd_server.log_path.read_text()
    page = _test_saved(client, sync, destination, wrong)
    new_log = sshd_server.log_path.read_text()[len(log_before) :]
    assert "Failed" in page
    assert "Host key changed" in page
    assert sshd_server.host_key_fingerprint in page
    assert f"{pinned} is pinned" in page
    _assert_no_login_attempt(new_log)
    # The service says the same, with the fields the page and the audit log use.
    outcome = connection_test.run(wrong, destination, sync_id=sync.id, user=None)
    assert not outcome.ok
    assert outcome.changed
    assert outcome.pinned == pinned
    assert outcome.host_key_fingerprint == sshd_server.host_key_fingerprint
    assert outcome.host_key_type == sshd_server.host_key_type
    assert outcome.message.startswith("Host key changed")


def test_test_of_a_pinned_ftps_destination_checks_the_certificate_before_user(
    sync: Sync, vsftpd_server: Any, make_user: Any, login: Any
) -> None:
    client = login(make_user("sync_manager"))
    remote, _ = vsftpd_server.fresh_dir()
    form = ftps_form(vsftpd_server, remote)
    other_certificate = "ab" * 32
    destination = _saved_destination(client, sync, {**form, "tls_fingerprint": other_certificate})
    log_before = vsftpd_server.log_path.read_text()
    page = _test_saved(client, sync, destination, {**form, "password": "", "password_confirm": ""})
    new_log = vsftpd_server.log_path.read_text()[len(log_before) :]
    assert "Failed" in page
    assert "certificate does not match" in page
    assert vsftpd_server.cert_fingerprint in page  # shown, for the user to decide
    assert '"AUTH TLS"' in new_log  # the server was reached (log_ftp_protocol=YES)
    assert '"USER' not in new_log
    assert '"PASS' not in new_log
    assert vsftpd_server.password not in new_log


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
    result = press_test(client, sync.id, form)
    assert vsftpd_server.cert_fingerprint in result.text  # shown for pinning, though not trusted
    pinned = press_test(
        client, sync.id, {**form, "tls_fingerprint": vsftpd_server.cert_fingerprint}
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
    # The empty prompt comes first and nothing else is selected: no silent default.
    assert form.index('<option value="">— Choose a member descriptor —</option>') < form.index(
        "GOLD"
    )
    assert "<option selected" not in form.split('id="scope_id"')[1].split("</select>")[0]
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
