"""``flask tokens``: create, list and revoke API tokens from the server's shell.

The operator acts for any user (signed ``cli:<name>`` in the audit log); the token is
printed once and never again. Scopes default to the user's permissions and can never
exceed them (the same service as the API tokens page).
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from webapp.cli.common import emit, service_errors
from webapp.extensions import db
from webapp.models.tokens import ApiToken
from webapp.services import audit, tokens, users

tokens_cli = AppGroup("tokens", help="Manage API tokens (for /api/v1).")


def _row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.user.email,
        "name": token.name,
        "prefix": token.display_prefix,
        "scopes": list(token.scopes or []),
        "state": tokens.state(token),
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "last_used_addr": token.last_used_addr,
    }


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="The owner's e-mail")
@click.option("--name", required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="A permission (repeat); default: every permission the user has",
)
@click.option("--expires-days", default=None, help="1-366 (default 90)")
@click.option("--json", "as_json", is_flag=True)
def create(
    email: str, name: str, scopes: tuple[str, ...], expires_days: str | None, as_json: bool
) -> None:
    """Create a token for a user and print it (once)."""
    import json

    with service_errors():
        owner = users.find_by_email(email)
        if owner is None:
            raise click.ClickException(f"No user {email}.")
        token, text = tokens.create_token(
            owner, name, list(scopes), expires_days, user=None, actor=audit.cli_actor()
        )
        db.session.commit()
    if as_json:
        click.echo(json.dumps({**_row(token), "token": text}, indent=2))
        return
    click.echo(f"Token “{token.name}” for {owner.email} ({', '.join(token.scopes)}),")
    click.echo(f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown this once:")
    click.echo(text)


@tokens_cli.command("list")
@click.option("--user", "email", default=None, help="Only this user's tokens")
@click.option("--json", "as_json", is_flag=True)
def list_tokens(email: str | None, as_json: bool) -> None:
    """Tokens (never their secret), newest first."""
    if email:
        owner = users.find_by_email(email)
        if owner is None:
            raise click.ClickException(f"No user {email}.")
        items = tokens.list_tokens(owner)
    else:
        items = tokens.all_tokens()
    emit(
        [_row(t) for t in items],
        as_json,
        ["id", "user", "name", "prefix", "state", "expires_at", "last_used_at"],
        lambda r: (
            f"{r['id']}  {r['user']}  {r['name']}  {r['prefix']}…  {r['state']}  "
            f"{r['expires_at']}  {r['last_used_at'] or 'never used'}"
        ),
    )


@tokens_cli.command("revoke")
@click.argument("token_id")
@click.option("--json", "as_json", is_flag=True)
def revoke(token_id: str, as_json: bool) -> None:
    """Revoke a token by id (it stops working at once)."""
    import json

    with service_errors():
        token = tokens.get_token(token_id, None)
        changed = tokens.revoke_token(token, user=None, actor=audit.cli_actor())
        db.session.commit()
    if as_json:
        click.echo(json.dumps({**_row(token), "changed": changed}, indent=2))
    else:
        click.echo(
            f"Token {token.id} “{token.name}” "
            + ("revoked." if changed else "was already revoked.")
        )
