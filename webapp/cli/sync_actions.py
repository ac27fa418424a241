"""``flask sync show / enable / disable / delete / download / key-remove``.

The sync page's remaining actions, for the ``sync`` group (:mod:`webapp.cli.sync` has
create, list, set, run, retransfer, instances, next-runs, export). Each goes through the
service the page calls: ``syncs.set_enabled``, ``syncs.delete_sync`` (with the same
"what is lost" summary as the confirmation page), ``runs.file_for_download`` (the path
comes from the database and must be under EXPORT_DIR; every download is audited) and
``recipients.remove_recipient_key``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

import exporters
from loyalty.errors import ValidationError
from webapp.cli.common import (
    ID,
    CleanPath,
    confirm,
    emit_one,
    emit_table,
    human_bytes,
    json_option,
    read_secret,
    service_errors,
    yes_option,
)
from webapp.cli.destinations import destination_row
from webapp.extensions import db
from webapp.models.runs import FileRole, SyncFile
from webapp.models.syncs import Sync
from webapp.services import recipients, run_status, runs, signing, syncs
from webapp.services.audit import cli_actor


def sync_row(sync: Sync) -> dict[str, Any]:
    """A sync's settings, options, destinations and keys, as the settings page shows them."""
    last = syncs.last_runs([sync]).get(sync.id)
    return {
        "id": sync.id,
        "name": sync.name,
        "type": sync.type_key,
        "scope": sync.scope,
        "scope_label": syncs.scope_label(sync),
        "enabled": sync.enabled,
        "execution_time": sync.execution_time,
        "timezone": sync.timezone,
        "delivery_deadline": sync.delivery_deadline,
        "compression": str(sync.compression),
        "encryption": str(sync.encryption),
        "pgp_armor": sync.pgp_armor,
        "notify_emails": list(sync.notify_emails or []),
        "options": dict(sync.options or {}),
        "runs": syncs.instance_count(sync),
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "created_at": last.created_at.isoformat(),
            "status": run_status.status_of(last).label,
        },
        "destinations": [destination_row(d) for d in sync.destinations],
        "signing_key": None
        if not sync.signing_fingerprint
        else {
            "fingerprint": sync.signing_fingerprint,
            "user_ids": sync.signing_user_ids,
            "expires_at": sync.signing_expires_at.isoformat() if sync.signing_expires_at else None,
        },
        "recipient_keys": [
            {
                "id": k.id,
                "fingerprint": k.fingerprint,
                "user_ids": k.user_ids,
                "expires_at": k.expires_at.isoformat() if k.expires_at else None,
            }
            for k in sync.recipient_keys
        ],
    }


def _show_lines(row: dict[str, Any]) -> list[str]:
    lines = [
        f"Sync {row['id']}: {row['name']} ({row['type']})"
        + (f", {row['scope_label']}" if row["scope_label"] else ""),
        f"  enabled:      {'yes' if row['enabled'] else 'no'}",
        f"  runs at:      {row['execution_time']} {row['timezone']}"
        + (f", delivered by {row['delivery_deadline']}" if row["delivery_deadline"] else ""),
        f"  packaging:    compression {row['compression']}, encryption {row['encryption']}"
        + (" (armored)" if row["encryption"] == "pgp" and row["pgp_armor"] else ""),
        f"  notices to:   {', '.join(row['notify_emails']) or '-'}",
        "  options:      "
        + (", ".join(f"{k}={v}" for k, v in sorted(row["options"].items())) or "-"),
        f"  runs:         {row['runs']}"
        + (
            f" (last: {row['last_run']['id']}, {row['last_run']['status']})"
            if row["last_run"]
            else ""
        ),
        f"  destinations: {len(row['destinations'])}",
    ]
    lines += [
        f"    {d['id']}  {d['name']}  {d['protocol']} {d['host']}:{d['effective_port']}"
        for d in row["destinations"]
    ]
    if row["signing_key"]:
        lines.append(f"  signing key:  {row['signing_key']['fingerprint']}")
    lines.append(f"  PGP keys:     {len(row['recipient_keys'])}")
    lines += [f"    {k['id']}  {k['fingerprint']}  {k['user_ids']}" for k in row["recipient_keys"]]
    return lines


@click.command("show")
@click.argument("sync_id", type=int)
@json_option
def show(sync_id: int, as_json: bool) -> None:
    """One sync: settings, options, destinations (no secrets), keys, its last run."""
    with service_errors():
        row = sync_row(syncs.get_sync(sync_id, None))
    emit_one(row, as_json, _show_lines(row))


def _set_enabled(sync_id: int, enabled: bool, as_json: bool) -> None:
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        was = sync.enabled
        syncs.set_enabled(sync, enabled, user=None, actor=cli_actor())
        db.session.commit()
    word = "enabled" if enabled else "disabled"
    emit_one(
        {"id": sync.id, "enabled": sync.enabled, "changed": was != enabled},
        as_json,
        f"Sync {sync.id} ({sync.name}) {word}."
        if was != enabled
        else f"Sync {sync.id} was already {word}.",
    )


@click.command("enable")
@click.argument("sync_id", type=int)
@json_option
def enable(sync_id: int, as_json: bool) -> None:
    """Enable a sync: it runs at its next execution time (past days are not run)."""
    _set_enabled(sync_id, True, as_json)


@click.command("disable")
@click.argument("sync_id", type=int)
@json_option
def disable(sync_id: int, as_json: bool) -> None:
    """Disable a sync: no scheduled runs until it is enabled again."""
    _set_enabled(sync_id, False, as_json)


@click.command("delete")
@click.argument("sync_id", type=int)
@yes_option
@json_option
def delete(sync_id: int, yes: bool, as_json: bool) -> None:
    """Delete a sync with its runs, files, destinations and keys, after saying what goes."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        impact = syncs.deletion_impact(sync)
        name = sync.name
        lines = [
            f"Delete sync {sync.id} “{sync.name}” ({sync.type_key})?",
            f"  Lost: {impact.runs} run(s) and their history, {impact.files} recorded file(s) "
            f"({human_bytes(impact.recorded_bytes)}),",
            f"        {impact.files_on_disk} file(s) on disk ({human_bytes(impact.bytes_on_disk)}) "
            f"in {syncs.export_folder(sync)},",
            f"        {impact.destinations} destination(s) with their stored secrets, "
            f"{impact.recipient_keys} PGP recipient key(s).",
        ]
        if impact.active_runs:
            lines.append(f"  {impact.active_runs} run(s) still building or sending will stop.")
        confirm(lines, yes)
        folder = syncs.delete_sync(sync, user=None, actor=cli_actor())
        db.session.commit()
    # Only after the commit: a failed delete never loses files.
    syncs.remove_export_folder(folder)
    emit_one(
        {"deleted": {"id": sync_id, "name": name}, "impact": asdict(impact)},
        as_json,
        f"Sync {sync_id} ({name}) deleted, with its runs and files.",
    )


@click.command("download")
@click.argument("instance_id", type=int)
@click.option(
    "--out",
    "out",
    required=True,
    type=CleanPath(dir_okay=True),
    help="file to write, or an existing directory (every original file of the run)",
)
@click.option("--file", "file_id", type=ID, help="only this file id (see `sync instances`)")
@click.option("--force", is_flag=True, help="overwrite existing files")
@json_option
def download(instance_id: int, out: str, file_id: int | None, force: bool, as_json: bool) -> None:
    """Download a run's original file(s) (before compression and encryption), audited."""
    with service_errors():
        instance = runs.get_instance(instance_id, None)
        originals = [f for f in instance.files if f.role == FileRole.ORIGINAL]
        if file_id is not None:
            originals = [f for f in originals if f.id == file_id]
            if not originals:
                raise ValidationError(
                    {"file": f"Run {instance.id} has no original file with id {file_id}."}
                )
        if not originals:
            raise ValidationError({"file": f"Run {instance.id} has no original files."})
        target = Path(out)
        if len(originals) > 1 and not target.is_dir():
            raise ValidationError(
                {
                    "out": f"Run {instance.id} has {len(originals)} original files: give "
                    "an existing directory as --out, or one --file ID."
                }
            )
        plan = [(f, target / Path(f.name).name if target.is_dir() else target) for f in originals]
        existing = [str(p) for _, p in plan if p.exists() and not force]
        if existing:
            raise ValidationError(
                {"out": f"{', '.join(existing)} exists; pass --force to overwrite."}
            )
        rows = [_download_one(f, path) for f, path in plan]
    emit_table(
        rows,
        as_json,
        [
            ("file", lambda r: r["id"]),
            ("written", lambda r: r["path"]),
            ("bytes", lambda r: f"{r['size']:,}"),
            ("sha256", lambda r: r["sha256"]),
        ],
    )


def _download_one(sync_file: SyncFile, destination: Path) -> dict[str, Any]:
    """Copy one original through ``runs.file_for_download`` (the checks and the audit
    event the page's download link has), and check the copy's sha256 against the run's."""
    checked, source = runs.file_for_download(sync_file.id, None, actor=cli_actor())
    partial = destination.with_name(destination.name + ".part")
    digest = hashlib.sha256()
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(1024 * 1024):
                digest.update(chunk)
                writer.write(chunk)
        if checked.sha256 and digest.hexdigest() != checked.sha256:
            raise ValidationError(
                {"file": f"{checked.name} on disk does not match its recorded sha256."}
            )
        os.replace(partial, destination)
    except OSError as exc:
        raise ValidationError({"out": f"Cannot write {destination}: {exc.strerror}."}) from None
    finally:
        if partial.exists():
            partial.unlink()
    return {
        "id": checked.id,
        "name": checked.name,
        "path": str(destination),
        "size": destination.stat().st_size,
        "sha256": digest.hexdigest(),
    }


@click.command("key-remove")
@click.argument("sync_id", type=int)
@click.argument("key_id", type=ID)
@json_option
def key_remove(sync_id: int, key_id: int, as_json: bool) -> None:
    """Remove a PGP recipient key (`sync show` lists them; `sync set --pgp-key-file` adds)."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        key = next((k for k in sync.recipient_keys if k.id == key_id), None)
        fingerprint = key.fingerprint if key else None
        recipients.remove_recipient_key(sync, key_id, user=None, actor=cli_actor())
        db.session.commit()
    emit_one(
        {"sync_id": sync.id, "removed": {"id": key_id, "fingerprint": fingerprint}},
        as_json,
        f"Key {key_id} ({fingerprint}) removed from sync {sync.id}.",
    )


@click.command("scope-choices")
@click.argument("type_key")
@json_option
def scope_choices(type_key: str, as_json: bool) -> None:
    """The objects a sync of TYPE_KEY may be bound to (Create sync's and Settings' list)."""
    with service_errors():
        sync_type = exporters.registry().get(type_key)
        if sync_type is None:
            raise ValidationError({"type": f"Unknown sync type {type_key[:60]!r}."})
        scope = sync_type.scope
        if scope is None:
            raise ValidationError({"type": f"A {sync_type.label} has no scope to choose."})
        rows = [{"id": i, "label": label} for i, label in scope.choices(db.session())]
    emit_table(rows, as_json, [("id", lambda r: r["id"]), (scope.label, lambda r: r["label"])])


@click.command("set-scope")
@click.argument("sync_id", type=int)
@click.argument("object_id")
@json_option
def set_scope(sync_id: int, object_id: str, as_json: bool) -> None:
    """Bind the sync to another scope object (Settings: Scope); the next incremental run
    exports the new scope in full. Refused while a run of the sync builds."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        changed = syncs.change_scope(sync, object_id, user=None, actor=cli_actor())
        db.session.commit()
    emit_one(
        {"id": sync.id, "scope": sync.scope, "changed": changed},
        as_json,
        f"Sync {sync.id}: scope changed to {changed['scope']['to']}."
        if changed
        else f"Sync {sync.id}: nothing changed.",
    )


@click.command("signing-key-set")
@click.argument("sync_id", type=int)
@click.argument("key_file", type=CleanPath(exists=True, dir_okay=False))
@click.option("--no-passphrase", is_flag=True, help="the key has no passphrase; do not read one")
@json_option
def signing_key_set(sync_id: int, key_file: str, no_passphrase: bool, as_json: bool) -> None:
    """Set (or replace) the sync's PGP signing key from KEY_FILE (an ASCII-armored private
    key); its passphrase is read from stdin or a hidden prompt, never an argument."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        text = Path(key_file).read_text(errors="replace")
        passphrase = "" if no_passphrase else read_secret("Passphrase", confirm=False)
        fingerprint = signing.set_signing_key(sync, text, passphrase, user=None, actor=cli_actor())
        db.session.commit()
    emit_one(
        {"sync_id": sync.id, "signing_fingerprint": fingerprint},
        as_json,
        f"Sync {sync.id}: signing key {fingerprint} saved; files are signed from the next run.",
    )


@click.command("signing-key-remove")
@click.argument("sync_id", type=int)
@json_option
def signing_key_remove(sync_id: int, as_json: bool) -> None:
    """Remove the sync's signing key: files are no longer signed."""
    with service_errors():
        sync = syncs.get_sync(sync_id, None)
        fingerprint = sync.signing_fingerprint
        signing.remove_signing_key(sync, user=None, actor=cli_actor())
        db.session.commit()
    emit_one(
        {"sync_id": sync.id, "removed": fingerprint},
        as_json,
        f"Sync {sync.id}: signing key {fingerprint} removed; files are no longer signed.",
    )


COMMANDS = (
    show,
    enable,
    disable,
    delete,
    download,
    key_remove,
    scope_choices,
    set_scope,
    signing_key_set,
    signing_key_remove,
)
