"""``flask ops`` (bootstrap for `make run`) and ``flask secrets`` (key rotation)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from webapp.extensions import db
from webapp.models.notifications import Webhook
from webapp.models.syncs import Destination, Sync
from webapp.services import audit, secrets, users

ops_cli = AppGroup("ops", help="Operations: bootstrap a fresh installation, report its status.")
secrets_cli = AppGroup("secrets", help="Secrets at rest: keys and rotation.")


@ops_cli.command("bootstrap")
def bootstrap() -> None:
    """Migrate the database and create a first support user when there is none."""
    upgrade()
    created = users.ensure_first_support_user()
    db.session.commit()
    if created:
        user, password = created
        click.echo("=" * 64)
        click.echo("First support user created (shown once, change it after logging in):")
        click.echo(f"  email:    {user.email}")
        click.echo(f"  password: {password}")
        click.echo("=" * 64)


@secrets_cli.command("generate-key")
def generate_key() -> None:
    """Print a new key; put it first in LOYALTY_SYNC_SECRETS_KEYS, then run `rotate`."""
    click.echo(secrets.generate_key())


@secrets_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret with the newest key."""
    count = 0
    for destination in db.session.scalars(select(Destination)):
        if destination.password_encrypted:
            destination.password_encrypted = secrets.rotate(destination.password_encrypted)
            count += 1
        if destination.private_key_encrypted:
            destination.private_key_encrypted = secrets.rotate(destination.private_key_encrypted)
            count += 1
    for sync in db.session.scalars(select(Sync).where(Sync.signing_key_encrypted.is_not(None))):
        for column in ("signing_key_encrypted", "signing_passphrase_encrypted"):
            if getattr(sync, column):
                setattr(sync, column, secrets.rotate(getattr(sync, column)))
                count += 1
    for webhook in db.session.scalars(select(Webhook)):
        webhook.secret_encrypted = secrets.rotate(webhook.secret_encrypted)
        count += 1
    audit.record("secrets.rotate", detail={"secrets": count})
    db.session.commit()
    click.echo(f"Re-encrypted {count} secret(s) with the newest key.")


@ops_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="the /readyz body, as JSON")
def status(as_json: bool) -> None:
    """What /readyz says: database, Redis, workers seen, the last tick. Exit 1 if not ready."""
    import json

    from webapp.services import health

    state = health.readiness()
    if as_json:
        click.echo(json.dumps(state.as_json(), indent=2))
    else:
        click.echo("Ready" if state.ready else "NOT READY")
        for check in state.checks:
            click.echo(f"  {check.name:<9} {'ok' if check.ok else 'FAILING':<8} {check.detail}")
        for worker in state.workers:
            age = f"{worker.age_seconds:.0f} s ago" if worker.age_seconds is not None else "never"
            click.echo(f"  worker    {worker.state:<8} {worker.name} (seen {age})")
        if state.last_tick is not None:
            click.echo(f"  last tick {state.last_tick:%Y-%m-%d %H:%M:%S} UTC")
    if not state.ready:
        raise SystemExit(1)
