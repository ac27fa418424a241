"""Issue 13, item 4: ``flask sync destination-list / -edit / -remove / -test [--pin]``
against the real sshd and vsftpd, through the services the destination pages call."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.cli_support import cli_events, invoke, invoke_json
from tests.integration.runs.conftest import make_sync, sftp_destination  # noqa: F401
from tests.integration.test_fuzz_inputs import snapshot
from webapp.extensions import db
from webapp.models.syncs import Destination
from webapp.services import destinations

pytestmark = pytest.mark.integration


def test_destination_list_shows_settings_and_never_a_secret(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    rows = invoke_json(runner, "sync", "destination-list", str(sync.id))
    assert [(r["id"], r["host"], r["port"], r["has_password"]) for r in rows] == [
        (destination.id, sshd_server.host, sshd_server.port, True)
    ]
    assert rows[0]["host_key_fingerprint"] == sshd_server.host_key_fingerprint
    human = invoke(runner, "sync", "destination-list", str(sync.id)).output
    assert destination.name in human and sshd_server.host_key_fingerprint in human
    assert sshd_server.password not in human + str(rows)


def test_destination_list_of_a_missing_sync_is_refused(runner: Any) -> None:
    result = invoke(runner, "sync", "destination-list", "999", code=2)
    assert "No sync with id 999" in result.output


def test_destination_edit_changes_what_is_given_and_audits_it(
    runner: Any, make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    row = invoke_json(
        runner, "sync", "destination-edit", str(destination.id), "--name", "CRM", "--retries", "3"
    )
    assert (row["name"], row["retries"], sorted(row["changed"])) == (
        "CRM",
        3,
        ["name", "retries"],
    )
    stored = db.session.get(Destination, destination.id)
    # Same endpoint: the stored password and the pin stay.
    assert stored.password_encrypted and stored.host_key_fingerprint
    (event,) = cli_events("destination.update")
    assert event.detail["retries"] == {"from": 0, "to": 3}


def test_destination_edit_of_the_endpoint_needs_the_password_again(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    before = snapshot()
    refused = invoke(
        runner, "sync", "destination-edit", str(destination.id), "--port", "2200", code=2
    )
    assert destinations.SECRET_AGAIN in refused.output
    assert "--password-stdin" in refused.output
    assert snapshot() == before
    # With the password again (from stdin, never an argument) it is accepted; the old
    # server's pin is dropped, for the next test to pin the new one.
    row = invoke_json(
        runner,
        "sync",
        "destination-edit",
        str(destination.id),
        "--port",
        "2200",
        "--password-stdin",
        stdin=f"{sshd_server.password}\n",
    )
    assert row["port"] == 2200 and "credentials" in row["changed"]
    assert row["host_key_fingerprint"] is None


def test_destination_edit_refuses_bad_input_and_stores_nothing(
    runner: Any, make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    before = snapshot()
    result = invoke(
        runner, "sync", "destination-edit", str(destination.id), "--retries", "9", code=2
    )
    assert "Retries must be a whole number between 0 and 5" in result.output
    missing = invoke(runner, "sync", "destination-edit", "424242", "--name", "x", code=2)
    assert "No destination with id 424242" in missing.output
    assert snapshot() == before


def test_destination_remove_says_what_is_lost_and_deletes_with_yes(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    result = invoke_json(runner, "sync", "destination-remove", str(destination.id), "--yes")
    assert result["deleted"]["id"] == destination.id
    assert result["impact"]["pinned"] == sshd_server.host_key_fingerprint
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0
    (event,) = cli_events("destination.delete")
    assert event.detail["host"] == sshd_server.host


def test_destination_remove_without_confirmation_deletes_nothing(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    before = snapshot()
    for answer in ("n\n", ""):  # "no", and no answer at all (a script without --yes)
        result = invoke(
            runner, "sync", "destination-remove", str(destination.id), stdin=answer, code=1
        )
        assert "stored password" in result.stderr
        assert sshd_server.host_key_fingerprint in result.stderr
        assert "Nothing was changed" in result.stderr
    assert snapshot() == before
    assert invoke(
        runner, "sync", "destination-remove", str(destination.id), stdin="y\n"
    ).output.endswith("deleted.\n")


def test_destination_test_connects_with_the_stored_password(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    assert invoke_json(runner, "sync", "destination-list", str(sync.id))[0]["trust"] == "untested"
    row = invoke_json(runner, "sync", "destination-test", str(destination.id))
    assert row["ok"] is True and row["message"].startswith("Connected to")
    # The stored settings were tested: the list says so, as the page's list does.
    assert invoke_json(runner, "sync", "destination-list", str(sync.id))[0]["trust"] == "verified"
    assert row["pinned"] == sshd_server.host_key_fingerprint and row["pinned_now"] is None
    (event,) = cli_events("destination.test")
    assert event.detail["ok"] is True and event.object_id == destination.id


def test_destination_test_of_a_down_server_fails_with_status_1(
    runner: Any, make_sync: Any, sftp_destination: Any, closed_port: int, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync, port=str(closed_port))
    result = invoke(runner, "sync", "destination-test", str(destination.id), code=1)
    assert result.output.startswith("Failed: No SFTP (SSH) server answered")
    (event,) = cli_events("destination.test")
    assert event.detail["ok"] is False


def test_destination_test_pin_stores_the_host_key_seen(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync, host_key_fingerprint="", host_key_type="")
    assert destination.host_key_fingerprint is None
    unpinned = invoke(runner, "sync", "destination-test", str(destination.id))
    assert "run again with --pin" in unpinned.output
    assert db.session.get(Destination, destination.id).host_key_fingerprint is None
    row = invoke_json(runner, "sync", "destination-test", str(destination.id), "--pin")
    assert row["pinned_now"] == sshd_server.host_key_fingerprint
    stored = db.session.get(Destination, destination.id)
    assert stored.host_key_fingerprint == sshd_server.host_key_fingerprint
    assert stored.host_key_type == sshd_server.host_key_type
    (event,) = cli_events("destination.update")
    assert event.detail["host_key_fingerprint"]["to"] == sshd_server.host_key_fingerprint
    again = invoke(runner, "sync", "destination-test", str(destination.id), "--pin")
    assert "already pinned" in again.output
    assert len(cli_events("destination.update")) == 1


def test_destination_test_pin_of_a_changed_host_key_asks_first(
    runner: Any, make_sync: Any, sftp_destination: Any, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    pinned = sshd_server.host_key_fingerprint
    with sshd_server.replaced_host_key() as presented:
        refused = invoke(runner, "sync", "destination-test", str(destination.id), "--pin", code=1)
        assert "Host key changed" in refused.output
        assert f"{pinned} is pinned" in refused.stderr and "Not pinned" in refused.stderr
        assert db.session.get(Destination, destination.id).host_key_fingerprint == pinned
        accepted = invoke(
            runner, "sync", "destination-test", str(destination.id), "--pin", "--yes", code=1
        )
        assert f"Pinned {presented}" in accepted.output
    assert db.session.get(Destination, destination.id).host_key_fingerprint == presented
    # As the page's Renew pin: audited with both fingerprints.
    (event,) = cli_events("destination.pin_renew")
    assert (event.detail["from"], event.detail["to"]) == (pinned, presented)


def test_destination_test_pin_of_a_self_signed_ftps_certificate(
    runner: Any, make_sync: Any, vsftpd_server: Any
) -> None:
    sync = make_sync()
    remote, _ = vsftpd_server.fresh_dir()
    invoke(
        runner,
        "sync",
        "destination-add",
        str(sync.id),
        "--name",
        "FTPS",
        "--host",
        vsftpd_server.host,
        "--protocol",
        "ftps_explicit",
        "--port",
        str(vsftpd_server.port),
        "--directory",
        remote,
        "--user",
        vsftpd_server.username,
        stdin=f"{vsftpd_server.password}\n",
    )
    destination = db.session.scalar(select(Destination))
    first = invoke(runner, "sync", "destination-test", str(destination.id), "--pin", code=1)
    assert "certificate is not trusted" in first.output
    assert f"Pinned {vsftpd_server.cert_fingerprint}" in first.output
    stored = db.session.get(Destination, destination.id)
    assert stored.tls_fingerprint == vsftpd_server.cert_fingerprint
    assert stored.tls_not_after is not None  # recorded with the pin (expiry warnings)
    row = invoke_json(runner, "sync", "destination-test", str(destination.id))
    assert row["ok"] is True


def test_destination_test_pin_with_nothing_seen_is_refused(
    runner: Any, make_sync: Any, sftp_destination: Any, closed_port: int
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(
        sync, port=str(closed_port), host_key_fingerprint="", host_key_type=""
    )
    result = invoke(runner, "sync", "destination-test", str(destination.id), "--pin", code=2)
    assert "nothing to pin" in result.output
    # The test itself is recorded (the list shows "failed"); no pin, no edit.
    stored = db.session.get(Destination, destination.id)
    assert (stored.host_key_fingerprint, stored.trust) == (None, "failed")
    assert cli_events("destination.update") == []


def test_destination_test_of_changed_settings_saves_nothing(
    runner: Any, make_sync: Any, sftp_destination: Any, closed_port: int, sshd_server: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync, port=str(closed_port))
    before = snapshot()
    args = ["sync", "destination-test", str(destination.id), "--port", str(sshd_server.port)]
    # Another port: the stored password does not follow it, as on the edit form.
    refused = invoke(runner, *args, code=1)
    assert destinations.SECRET_AGAIN in refused.output
    row = invoke_json(runner, *args, "--password-stdin", stdin=f"{sshd_server.password}\n")
    assert row["ok"] is True
    assert snapshot() == before  # tested, not saved (and not recorded as the stored test)
    pin = invoke(runner, *args, "--pin", code=2)
    assert "save the changes with `flask sync destination-edit` first" in pin.output


def test_destination_marker_is_set_and_kept(
    runner: Any, make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync()
    destination, _ = sftp_destination(sync)
    row = invoke_json(
        runner, "sync", "destination-edit", str(destination.id), "--marker", "manifest_json"
    )
    assert (row["marker"], row["changed"]) == ("manifest_json", ["marker"])
    # An edit of something else keeps the marker.
    assert (
        invoke_json(runner, "sync", "destination-edit", str(destination.id), "--retries", "2")[
            "marker"
        ]
        == "manifest_json"
    )
    named = invoke_json(
        runner, "sync", "destination-edit", str(destination.id), "--marker-name", "{first}.ok"
    )
    assert (named["marker"], named["marker_name"]) == ("manifest_json", "{first}.ok")
    before = snapshot()
    invoke(runner, "sync", "destination-edit", str(destination.id), "--marker-name", "a/b", code=2)
    assert snapshot() == before
