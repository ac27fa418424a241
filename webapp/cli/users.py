"""``flask users``: create, list, set-role, disable/enable, reset-password.

The Users page's actions, through :mod:`webapp.services.users`, so the page's rules hold
here too (the last active support user keeps the role and stays enabled; passwords have
at least 10 characters). Changes are audited as ``cli:<os user>``.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from loyalty.errors import NotFound
from webapp.cli.common import emit_one, emit_table, json_option, read_secret, service_errors
from webapp.extensions import db
from webapp.models.users import User
from webapp.services import users

users_cli = AppGroup("users", help="Manage users.")


def user_row(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "active": user.active,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def _user(email: str) -> User:
    user = users.find_by_email(email)
    if user is None:
        raise NotFound(f"No user with the email {email}.")
    return user


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="support, sync_manager or viewer")
@click.option("--name", default="")
@json_option
def create(email: str, role: str, name: str, as_json: bool) -> None:
    """Create a user; the password is read from stdin or a prompt."""
    with service_errors():
        users.parse_role(role)  # say "unknown role" before asking for a password
        password = read_secret("Password")
        user = users.create_user(email, role, password, name)
        db.session.commit()
    emit_one(user_row(user), as_json, f"Created {user.email} ({user.role.value}).")


@users_cli.command("set-role")
@click.argument("email_arg", metavar="EMAIL", required=False)
@click.argument("role_arg", metavar="ROLE", required=False)
@click.option("--email", help="(the older spelling of EMAIL)")
@click.option("--role", help="(the older spelling of ROLE)")
@json_option
def set_role(
    email_arg: str | None,
    role_arg: str | None,
    email: str | None,
    role: str | None,
    as_json: bool,
) -> None:
    """Give EMAIL the role ROLE (support, sync_manager or viewer); ends their sessions."""
    email, role = email_arg or email, role_arg or role
    if not email or not role:
        raise click.UsageError(
            "Give EMAIL and ROLE, e.g. `flask users set-role ops@example.com viewer`."
        )
    with service_errors():
        user = _user(email)
        users.set_role(user, role)
        db.session.commit()
    emit_one(user_row(user), as_json, f"{user.email} is now {user.role.value}.")


def _set_active(email: str, active: bool, as_json: bool) -> None:
    with service_errors():
        user = _user(email)
        users.set_active(user, active)
        db.session.commit()
    word = "enabled" if active else "disabled (their sessions have ended)"
    emit_one(user_row(user), as_json, f"{user.email} is {word}.")


@users_cli.command("disable")
@click.argument("email")
@json_option
def disable(email: str, as_json: bool) -> None:
    """Disable a user: they cannot log in, their sessions end (the last support user cannot)."""
    _set_active(email, False, as_json)


@users_cli.command("enable")
@click.argument("email")
@json_option
def enable(email: str, as_json: bool) -> None:
    """Enable a disabled user again."""
    _set_active(email, True, as_json)


@users_cli.command("reset-password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="read the new password from stdin instead of generating"
)
@json_option
def reset_password(email: str, password_stdin: bool, as_json: bool) -> None:
    """Set a new password and end the user's sessions.

    Without ``--password-stdin`` a one-time password is generated and printed, once:
    hand it over and have the user change it on My account.
    """
    with service_errors():
        user = _user(email)
        generated = not password_stdin
        password = users.generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
        users.set_password(user, password)
        db.session.commit()
    row: dict[str, object] = {**user_row(user), "password": password if generated else None}
    lines = [f"Password of {user.email} reset; their sessions have ended."]
    if generated:
        lines.append(f"One-time password (shown once): {password}")
    emit_one(row, as_json, lines)


@users_cli.command("list")
@json_option
def list_users(as_json: bool) -> None:
    """Every user with role, state and last login."""
    rows = [user_row(u) for u in db.session.scalars(select(User).order_by(User.email))]
    emit_table(
        rows,
        as_json,
        [
            ("id", lambda r: r["id"]),
            ("email", lambda r: r["email"]),
            ("role", lambda r: r["role"]),
            ("active", lambda r: r["active"]),
            ("last login", lambda r: (r["last_login_at"] or "-")[:19]),
        ],
    )
