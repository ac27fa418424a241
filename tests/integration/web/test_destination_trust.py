"""Destination trust (issue 14, item 6): the last test and the pin shown, a warning when
saving an untested or unpinned destination, and renewing a pin, against the real sshd."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fixtures.sshd import ed25519_keypair
from tests.integration.web.press_test import press_test
from tests.integration.web.test_connection_and_scope import sftp_form, sync  # noqa: F401
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Destination, Sync

pytestmark = pytest.mark.integration

TOKEN = re.compile(r'name="test_token" value="([^"]+)"')


def only_destination() -> Destination:
    db.session.expire_all()
    destination = db.session.scalar(select(Destination))
    assert destination is not None
    return destination


def test_tested_and_pinned_destination_is_verified(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    form = sftp_form(sshd_server, remote)
    result = press_test(client, sync.id, form)
    token = TOKEN.search(result.text)
    assert token is not None and "Connected" in result.text
    saved = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            **form,
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "host_key_type": sshd_server.host_key_type,
            "test_token": token.group(1),
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/destinations")
    destination = only_destination()
    assert destination.trust == "verified" and destination.last_test_at is not None
    listing = client.get(f"/syncs/{sync.id}/destinations").text
    assert "✓ verified" in listing and sshd_server.host_key_fingerprint in listing


def test_a_test_of_other_settings_does_not_verify_the_saved_ones(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    result = press_test(client, sync.id, sftp_form(sshd_server, remote))
    token = TOKEN.search(result.text)
    assert token is not None
    other_dir = sftp_form(sshd_server, remote + "/elsewhere")
    saved = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            **other_dir,
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
            "test_token": token.group(1),
        },
        follow_redirects=True,
    )
    assert "never tested with these settings" in saved.text and "flash-warning" in saved.text
    assert only_destination().trust == "untested"


def test_untested_unpinned_destination_saves_with_a_warning(
    sync: Sync, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    form = {
        "name": "Receiver",
        "host": "sftp.example.com",
        "protocol": "sftp",
        "username": "loyalty",
        "password": "s3cret-pass",
        "password_confirm": "s3cret-pass",
        "retries": "0",
    }
    saved = client.post(f"/syncs/{sync.id}/destinations/new", data=form)
    destination = only_destination()
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(
        f"/destinations/{destination.id}/edit#test-connection"
    )
    page = client.get(saved.headers["Location"]).text
    assert "never tested with these settings; no host key is pinned" in page
    assert 'id="test-connection"' in page and "never tested" in page
    listing = client.get(f"/syncs/{sync.id}/destinations").text
    assert "never tested" in listing and "no host key pinned" in listing


def test_testing_the_stored_settings_records_the_outcome(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={**sftp_form(sshd_server, remote), "host_key_fingerprint": ed25519_keypair()[2]},
    )
    destination = only_destination()
    keep = sftp_form(sshd_server, remote, password="", password_confirm="")
    page = press_test(client, sync.id, {**keep, "destination_id": str(destination.id)}).text
    assert "Host key changed" in page
    assert only_destination().trust == "failed"
    assert "✗ last test failed" in client.get(f"/syncs/{sync.id}/destinations").text


def test_renew_pin_after_a_deliberate_host_key_change(
    sync: Sync, sshd_server: Any, make_user: Any, login: Any
) -> None:
    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = sshd_server.fresh_dir()
    old_pin = ed25519_keypair()[2]
    client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={**sftp_form(sshd_server, remote), "host_key_fingerprint": old_pin},
    )
    destination = only_destination()
    page = client.get(f"/destinations/{destination.id}/pin").text
    assert old_pin in page and 'id="renew-form"' in page
    # Renewing without a test, or to a key the test did not show, is refused.
    refused = client.post(
        f"/destinations/{destination.id}/pin",
        data={"host_key_fingerprint": sshd_server.host_key_fingerprint},
        follow_redirects=True,
    )
    assert "Press Test connection first" in refused.text
    # The page's Test connection sends its hidden copy of the stored settings.
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert hidden["destination_id"] == str(destination.id) and hidden["protocol"] == "sftp"
    result = press_test(client, sync.id, hidden).text
    keep = sftp_form(sshd_server, remote, password="", password_confirm="")
    token = TOKEN.search(result)
    assert token is not None and "Host key changed" in result
    wrong = client.post(
        f"/destinations/{destination.id}/pin",
        data={"test_token": token.group(1), "host_key_fingerprint": ed25519_keypair()[2]},
        follow_redirects=True,
    )
    assert "Tick the key or certificate the test showed" in wrong.text
    assert only_destination().host_key_fingerprint == old_pin
    renewed = client.post(
        f"/destinations/{destination.id}/pin",
        data={
            "test_token": token.group(1),
            "host_key_fingerprint": sshd_server.host_key_fingerprint,
        },
    )
    assert renewed.status_code == 302
    destination = only_destination()
    assert destination.host_key_fingerprint == sshd_server.host_key_fingerprint
    assert destination.trust == "untested"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "destination.pin_renew")
    )
    assert event.detail["from"] == old_pin
    assert event.detail["to"] == sshd_server.host_key_fingerprint
    # The next test logs in with the new pin and verifies the destination.
    again = press_test(client, sync.id, {**keep, "destination_id": str(destination.id)}).text
    assert "Connected" in again and only_destination().trust == "verified"


def test_viewer_cannot_renew_a_pin(sync: Sync, make_user: Any, login: Any) -> None:
    from tests.integration.web.test_pages import dest_fields
    from webapp.services import destinations

    destination = destinations.add_destination(sync, dest_fields(), user=None, actor="test")
    db.session.commit()
    client = login(make_user("viewer"))
    assert client.get(f"/destinations/{destination.id}/pin").status_code == 403
    assert client.post(f"/destinations/{destination.id}/pin").status_code == 403


def test_renew_pin_of_an_ftps_certificate(
    sync: Sync, vsftpd_server: Any, make_user: Any, login: Any
) -> None:
    from tests.integration.web.press_test import ftps_form

    client: FlaskClient = login(make_user("sync_manager"))
    remote, _ = vsftpd_server.fresh_dir()
    form = ftps_form(vsftpd_server, remote)
    client.post(f"/syncs/{sync.id}/destinations/new", data={**form, "tls_fingerprint": "ab" * 32})
    destination = only_destination()
    keep = {**form, "password": "", "password_confirm": "", "destination_id": str(destination.id)}
    result = press_test(client, sync.id, keep).text
    token = TOKEN.search(result)
    assert token is not None and "certificate does not match" in result
    renewed = client.post(
        f"/destinations/{destination.id}/pin",
        data={"test_token": token.group(1), "tls_fingerprint": vsftpd_server.cert_fingerprint},
    )
    assert renewed.status_code == 302
    destination = only_destination()
    assert destination.tls_fingerprint == vsftpd_server.cert_fingerprint
    assert destination.tls_not_after is not None  # recorded with the new pin (expiry warnings)
    again = press_test(client, sync.id, keep).text
    assert "Connected" in again and only_destination().trust == "verified"
