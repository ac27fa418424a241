"""Users: creation, roles, passwords and authentication.

Passwords are hashed with argon2id (argon2-cffi's defaults). Changing a role or a
password bumps ``session_version``, which ends the user's other sessions.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from loyalty.db import utcnow
from loyalty.errors import ValidationError
from loyalty.text import CONTROL, clean_text
from webapp.extensions import db
from webapp.models.users import Role, User
from webapp.services import audit

MIN_PASSWORD_LENGTH = 10
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationError({"role": f"Unknown role {value!r}; choose one of {names}."}) from None


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError({field: f"Passwords have at least {MIN_PASSWORD_LENGTH} characters."})
    if len(password) > 1024:
        raise ValidationError({field: "Passwords have at most 1,024 characters."})


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def find_by_email(email: str) -> User | None:
    """The user with this address; None for text no address can be (PostgreSQL refuses a
    NUL in a query parameter, and the login form is open to anyone)."""
    wanted = (email or "").strip().lower()
    if not wanted or len(wanted) > 254 or CONTROL.search(wanted):
        return None
    return db.session.scalar(select(User).where(User.email == wanted))


def create_user(
    email: str, role: str | Role, password: str, name: str = "", *, actor: User | None = None
) -> User:
    errors: dict[str, str] = {}
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254 or CONTROL.search(email):
        errors["email"] = "Enter a valid email address."
    elif find_by_email(email) is not None:
        errors["email"] = f"A user with the email {email} already exists."
    try:
        role = parse_role(role) if isinstance(role, str) else role
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        check_password_rules(password)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        name = clean_text(name, "Name", max_length=120)
    except ValueError as exc:
        errors["name"] = str(exc)
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=role, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", obj=user, detail={"email": email, "role": str(role)}, user=actor)
    return user


def set_role(user: User, role: str | Role, *, actor: User | None = None) -> None:
    new_role = parse_role(role) if isinstance(role, str) else role
    if user.role == new_role:
        return
    if user.role == Role.SUPPORT and new_role != Role.SUPPORT:
        _keep_one_support(user)
    old = user.role
    user.role = new_role
    user.session_version += 1
    audit.record("user.role", obj=user, detail={"from": str(old), "to": str(new_role)}, user=actor)


def set_active(user: User, active: bool, *, actor: User | None = None) -> None:
    if user.active == active:
        return
    if not active and user.role == Role.SUPPORT:
        _keep_one_support(user)
    user.active = active
    user.session_version += 1
    audit.record("user.activate" if active else "user.deactivate", obj=user, user=actor)


def set_password(user: User, password: str, *, actor: User | None = None) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record("user.password", obj=user, user=actor)


# The form's field names (errors are shown next to them).
CURRENT_FIELD, NEW_FIELD, CONFIRM_FIELD = "current_password", "new_password", "new_password_confirm"


def change_own_password(user: User, current: str, new: str, confirm: str) -> None:
    """A user changes their own password: the current one is required, the new one follows
    the rules. ``set_password`` moves the session version on, which ends every other
    session of the user (the caller logs this one in again). A wrong current password is
    audited and changes nothing."""
    errors: dict[str, str] = {}
    try:
        _hasher.verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        errors[CURRENT_FIELD] = "That is not your current password."
    try:
        check_password_rules(new or "", field=NEW_FIELD)
    except ValidationError as exc:
        errors.update(exc.errors)
    if (new or "") != (confirm or ""):
        errors[CONFIRM_FIELD] = "The new passwords do not match."
    elif new and new == current and CURRENT_FIELD not in errors:
        errors[NEW_FIELD] = "Choose a password other than the current one."
    if errors:
        if CURRENT_FIELD in errors:
            audit.record("user.password_change_refused", obj=user, user=user)
        raise ValidationError(errors)
    set_password(user, new, actor=user)


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match, or None. Takes the same time either way."""
    user = find_by_email(email or "")
    if user is None:
        # Hash anyway so that response time does not tell which emails exist.
        _hasher.hash(password or "x")
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def ensure_first_support_user(email: str = "admin@example.com") -> tuple[User, str] | None:
    """Create a support user when there is no user at all; returns it with its password once."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    password = generate_password()
    user = create_user(email, Role.SUPPORT, password, name="Administrator")
    return user, password


def _keep_one_support(user: User) -> None:
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.SUPPORT, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise ValidationError(
            {"role": "The last active support user cannot lose the support role."}
        )
