"""``flask sync destination-list / -edit / -remove / -test``: a sync's FTP destinations.

The commands join the ``sync`` group (``flask sync destination-add`` is in
:mod:`webapp.cli.sync`) and act through :mod:`webapp.services.destinations` and
:mod:`webapp.services.connection_test`, the services the destination pages call, so the
6-destination limit, the input rules and the endpoint rule (a changed server address,
port, type or user needs the password or key again) hold here exactly as on the page.

A password is never an argument (it would sit in the shell history and in ``ps``): it is
read from stdin (``--password-stdin``) or a hidden prompt (``--password-prompt``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from loyalty.errors import ValidationError
from webapp.cli.common import (
    ID,
    CleanPath,
    ask,
    confirm,
    emit_one,
    emit_table,
    json_option,
    read_secret,
    service_errors,
    yes_option,
)
from webapp.extensions import db
from webapp.models.syncs import Destination, Marker, Protocol
from webapp.services import connection_test, destinations, syncs
from webapp.services.audit import cli_actor


def destination_row(destination: Destination) -> dict[str, Any]:
    """What a destination shows: every setting, which secrets are stored, never a secret."""
    return {
        "id": destination.id,
        "sync_id": destination.sync_id,
        "position": destination.position,
        "name": destination.name,
        "protocol": str(destination.protocol),
        "host": destination.host,
        "port": destination.port,
        "effective_port": destination.effective_port,
        "directory": destination.directory,
        "username": destination.username,
        "retries": destination.retries,
        "marker": str(destination.marker or "none"),
        "marker_name": destination.marker_name,
        "has_password": bool(destination.password_encrypted),
        "has_private_key": bool(destination.private_key_encrypted),
        "host_key_fingerprint": destination.host_key_fingerprint,
        "host_key_type": destination.host_key_type,
        "tls_fingerprint": destination.tls_fingerprint,
        "tls_not_after": destination.tls_not_after.isoformat()
        if destination.tls_not_after
        else None,
        # "verified", "failed" or "untested": the last test of the current settings.
        "trust": destination.trust,
        "last_test_at": destination.last_test_at.isoformat() if destination.last_test_at else None,
    }


def _current_fields(destination: Destination) -> dict[str, Any]:
    """The destination's stored settings as the form would post them, without secrets or
    pins: an edit keeps a pin unless the endpoint changes (the service then drops it)."""
    return {
        "name": destination.name,
        "host": destination.host,
        "protocol": str(destination.protocol),
        "directory": destination.directory,
        "port": str(destination.port or ""),
        "username": destination.username,
        "retries": str(destination.retries),
    }


def _get(destination_id: int) -> Destination:
    destination = destinations.get_destination(destination_id)
    syncs.get_sync(destination.sync_id, None)
    return destination


def _pin_text(row: dict[str, Any]) -> str:
    return row["host_key_fingerprint"] or row["tls_fingerprint"] or "-"


@click.command("destination-list")
@click.argument("sync_id", type=int)
@json_option
def destination_list(sync_id: int, as_json: bool) -> None:
    """A sync's FTP destinations (secrets are never shown, only whether one is stored)."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
    rows = [destination_row(d) for d in sync.destinations]
    emit_table(
        rows,
        as_json,
        [
            ("id", lambda r: r["id"]),
            ("name", lambda r: r["name"]),
            ("protocol", lambda r: r["protocol"]),
            ("server", lambda r: f"{r['host']}:{r['effective_port']}"),
            ("user", lambda r: r["username"]),
            ("directory", lambda r: r["directory"] or "/"),
            ("retries", lambda r: r["retries"]),
            ("pinned", _pin_text),
            ("trust", lambda r: r["trust"]),
        ],
    )


@click.command("destination-edit")
@click.argument("destination_id", type=ID)
@click.option("--name", help="Sync Target Name")
@click.option("--host", help="server address")
@click.option("--protocol", type=click.Choice([p.value for p in Protocol]))
@click.option("--directory", help="remote directory ('' for the login folder)")
@click.option("--port", help="port ('' for the protocol's default)")
@click.option("--user", "username", help="server user")
@click.option("--retries", help="0-5")
@click.option("--host-key-fingerprint", help="pin this SFTP host key (SHA256:...)")
@click.option("--host-key-type", help="its algorithm, e.g. ssh-ed25519")
@click.option("--tls-fingerprint", help="pin this FTPS certificate (sha256 hex)")
@click.option("--marker", type=click.Choice([m.value for m in Marker]), help="completion marker")
@click.option("--marker-name", help="its name template ({first}, {run}, {date}; '' = default)")
@click.option("--password-stdin", is_flag=True, help="read a new password from stdin")
@click.option("--password-prompt", is_flag=True, help="ask for a new password (hidden)")
@click.option(
    "--key-file", type=CleanPath(exists=True, dir_okay=False), help="new SFTP private key file"
)
@json_option
def destination_edit(
    destination_id: int,
    password_stdin: bool,
    password_prompt: bool,
    key_file: str | None,
    as_json: bool,
    **changes: str | None,
) -> None:
    """Change a destination's settings; what is not given stays as it is.

    Changing the server address, port, type or user needs the password (or key) again:
    the stored one is only ever sent to the server it was entered for.
    """
    if password_stdin and password_prompt:
        raise click.UsageError("Give --password-stdin or --password-prompt, not both.")
    with service_errors():
        destination = _get(destination_id)
        raw: dict[str, Any] = {
            **_current_fields(destination),
            **{k: v for k, v in changes.items() if v is not None},
        }
        if changes.get("marker") is not None or changes.get("marker_name") is not None:
            # The service reads the two together: the one not given stays as stored.
            raw.setdefault("marker", str(destination.marker or "none"))
            raw.setdefault("marker_name", destination.marker_name or "")
        else:
            raw.pop("marker", None)
            raw.pop("marker_name", None)
        if password_stdin:
            raw["password"] = raw["password_confirm"] = sys.stdin.readline().rstrip("\r\n")
        elif password_prompt:
            raw["password"] = raw["password_confirm"] = read_secret("New server password")
        if key_file:
            raw["private_key"] = Path(key_file).read_text(errors="replace")
        try:
            changed = destinations.update_destination(
                destination, raw, user=None, actor=cli_actor()
            )
        except ValidationError as exc:
            if exc.errors.get("password") == destinations.SECRET_AGAIN:
                hint = " (--password-stdin, --password-prompt or --key-file)"
                raise ValidationError(
                    {**exc.errors, "password": destinations.SECRET_AGAIN + hint}
                ) from None
            raise
        db.session.commit()
    row = destination_row(destination)
    shown = ", ".join(sorted(changed)) if changed else "nothing changed"
    emit_one(
        {**row, "changed": sorted(changed)},
        as_json,
        f"Destination {destination.id} ({destination.name}): {shown}.",
    )


@click.command("destination-remove")
@click.argument("destination_id", type=ID)
@yes_option
@json_option
def destination_remove(destination_id: int, yes: bool, as_json: bool) -> None:
    """Delete a destination, after saying what goes with it."""
    with service_errors():
        destination = _get(destination_id)
        impact = destinations.deletion_impact(destination)
        row = destination_row(destination)
        secret = " and ".join(
            kind
            for kind, stored in (
                ("password", row["has_password"]),
                ("private key", row["has_private_key"]),
            )
            if stored
        )
        lines = [
            f"Delete destination {destination.id} “{destination.name}” "
            f"({row['protocol']} {row['host']}:{row['effective_port']}) of sync {destination.sync_id}?",
            f"  Lost: its settings, its stored {secret or 'credentials'}"
            + (f" and the pinned fingerprint {impact.pinned}." if impact.pinned else "."),
            f"  Kept: {impact.transfers} past transfer(s) to it stay in the run history, by name.",
        ]
        if impact.unfinished:
            lines.append(
                f"  {impact.unfinished} unfinished transfer(s) to it will not be delivered."
            )
        confirm(lines, yes)
        destinations.delete_destination(destination, user=None, actor=cli_actor())
        db.session.commit()
    emit_one(
        {"deleted": row, "impact": asdict(impact)},
        as_json,
        f"Destination {row['id']} ({row['name']}) deleted.",
    )


@click.command("destination-test")
@click.argument("destination_id", type=ID)
@click.option("--pin", is_flag=True, help="store the host key / certificate fingerprint seen")
@click.option("--host", help="test this server address instead (nothing is saved)")
@click.option("--port", help="test this port instead")
@click.option("--protocol", type=click.Choice([p.value for p in Protocol]))
@click.option("--user", "username", help="test this server user instead")
@click.option("--directory", help="test this directory instead")
@click.option("--password-stdin", is_flag=True, help="test with a password read from stdin")
@click.option(
    "--key-file", type=CleanPath(exists=True, dir_okay=False), help="test with this private key"
)
@yes_option
@json_option
def destination_test(
    destination_id: int,
    pin: bool,
    password_stdin: bool,
    key_file: str | None,
    yes: bool,
    as_json: bool,
    **overrides: str | None,
) -> None:
    """Test connection, as the destination page's button: connect, log in, write and
    remove a test file, and show the server's fingerprint (``--pin`` stores it).

    Without options it tests the stored settings; ``--host``, ``--port``, ... test
    changed ones before ``destination-edit`` saves them, as the edit form's button does
    (the stored password is used only if the server, port, type and user are unchanged).

    Runs here, in this process, through the same function the page's worker job runs
    (:func:`webapp.services.connection_test.run`): the same address policy, the pinned
    key checked before the password is sent, the same messages and audit event. It
    waits at most the test's 10 s deadline and needs no worker.

    Exit status: 0 when the connection works, 1 when it does not, 2 for bad input.
    """
    changed = {k: v for k, v in overrides.items() if v is not None}
    if pin and (changed or password_stdin or key_file):
        raise click.UsageError(
            "--pin pins what the stored settings show: save the changes with "
            "`flask sync destination-edit` first, then test with --pin."
        )
    with service_errors():
        destination = _get(destination_id)
        raw: dict[str, Any] = {**_current_fields(destination), **changed}
        if password_stdin:
            raw["password"] = raw["password_confirm"] = sys.stdin.readline().rstrip("\r\n")
        if key_file:
            raw["private_key"] = Path(key_file).read_text(errors="replace")
        outcome = connection_test.run(raw, destination, sync_id=destination.sync_id, user=None)
        db.session.commit()  # the test's audit event
        if not as_json:  # the result first, then any question about pinning
            for line in _outcome_lines(outcome):
                click.echo(line)
        pinned_now = _pin(destination, outcome, yes) if pin else None
    seen = outcome.host_key_fingerprint or outcome.tls_fingerprint
    if as_json:
        click.echo(
            json.dumps(
                {"destination_id": destination.id, **asdict(outcome), "pinned_now": pinned_now},
                indent=2,
                default=str,
            )
        )
    elif pinned_now:
        click.echo(f"Pinned {pinned_now}.")
        if not outcome.ok:
            click.echo("Run the test again to check the connection with the pin.")
    elif seen and seen == outcome.pinned:
        click.echo("This fingerprint is already pinned.")
    elif seen and not pin:
        click.echo("Not pinned: run again with --pin to accept it.")
    if not outcome.ok:
        sys.exit(1)


def _outcome_lines(outcome: connection_test.Outcome) -> list[str]:
    lines = [f"{'Connected' if outcome.ok else 'Failed'}: {outcome.message}"]
    if outcome.host_key_fingerprint:
        kind = f"{outcome.host_key_type} " if outcome.host_key_type else ""
        lines.append(f"Server host key: {kind}{outcome.host_key_fingerprint}")
    if outcome.tls_fingerprint:
        until = f" (valid until {outcome.tls_not_after:%Y-%m-%d})" if outcome.tls_not_after else ""
        lines.append(f"Server certificate SHA-256: {outcome.tls_fingerprint}{until}")
    return lines


def _pin(destination: Destination, outcome: connection_test.Outcome, yes: bool) -> str | None:
    """Store the fingerprint the test just saw, as the page does.

    A first pin goes through ``update_destination`` (audited as a ``destination.update``
    of the pin, as saving the form with the accepted key is). Replacing another pin is
    ``destinations.renew_pin`` (the page's Renew pin, audited ``destination.pin_renew``
    with both fingerprints), confirmed first: only the server's administrator can say
    the new key is theirs.
    """
    sftp = Protocol(destination.protocol) is Protocol.SFTP
    seen = outcome.host_key_fingerprint if sftp else outcome.tls_fingerprint
    if not seen:
        raise ValidationError(
            {"pin": "The test saw no host key or certificate, so there is nothing to pin."}
        )
    current = destination.pinned
    if seen == current:
        return None
    if current:
        if not ask(
            [
                f"The server shows {seen}, but {current} is pinned.",
                "Replace the pin only if the server's administrator confirms the change.",
            ],
            yes,
        ):
            click.echo("Not pinned: the pinned fingerprint stays.", err=True)
            return None
        destinations.renew_pin(
            destination,
            seen,
            key_type=outcome.host_key_type,
            not_after=outcome.tls_not_after,
            user=None,
            actor=cli_actor(),
        )
    else:
        raw = _current_fields(destination)
        if sftp:
            raw["host_key_fingerprint"] = seen
            raw["host_key_type"] = outcome.host_key_type or ""
        else:
            raw["tls_fingerprint"] = seen
            if outcome.tls_not_after:
                raw["tls_not_after"] = f"{seen}@{outcome.tls_not_after.isoformat()}"
        destinations.update_destination(destination, raw, user=None, actor=cli_actor())
    db.session.commit()
    return seen


COMMANDS = (destination_list, destination_edit, destination_remove, destination_test)
