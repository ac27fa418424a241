"""``flask users``: create and list users."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.cli.common import emit, read_secret, service_errors
from webapp.extensions import db
from webapp.models.users import User
from webapp.services import users

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="support, sync_manager or viewer")
@click.option("--name", default="")
def create(email: str, role: str, name: str) -> None:
    """Create a user; the password is read from stdin or a prompt."""
    with service_errors():
        users.parse_role(role)  # say "unknown role" before asking for a password
        password = read_secret("Password")
        user = users.create_user(email, role, password, name)
        db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


@users_cli.command("set-role")
@click.option("--email", required=True)
@click.option("--role", required=True)
def set_role(email: str, role: str) -> None:
    with service_errors():
        user = users.find_by_email(email)
        if user is None:
            raise click.ClickException(f"No user {email}.")
        users.set_role(user, role)
        db.session.commit()
    click.echo(f"{user.email} is now {user.role.value}.")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_users(as_json: bool) -> None:
    rows = [
        {"id": u.id, "email": u.email, "role": u.role.value, "active": u.active}
        for u in db.session.scalars(select(User).order_by(User.email))
    ]
    emit(
        rows,
        as_json,
        ["id", "email", "role", "active"],
        lambda r: f"{r['id']}  {r['email']}  {r['role']}  {r['active']}",
    )
