"""Named permissions, the roles that grant them, and the checks every view and job calls.

Permissions are strings so that routes, jobs and templates name the same thing. A role
is a fixed set of them: the product has three kinds of people (support, sync managers,
viewers), and a fixed mapping keeps "who may do what" reviewable in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user

from webapp.models.users import Role, User

SYNC_VIEW = "sync.view"  # see the sync list, dashboards, run details, layouts
SYNC_MANAGE = "sync.manage"  # enable/disable
SYNC_CONFIGURE = "sync.configure"  # edit settings and destinations, test connections
SYNC_RUN = "sync.run"  # Process New Sync, re-transfer
SYNC_DOWNLOAD = "sync.download"  # download original files
SYNC_CREATE = "sync.create"  # create/delete a sync (choose type and scope)
USERS_MANAGE = "users.manage"  # create users, change roles
AUDIT_VIEW = "audit.view"  # read the audit log
WEBHOOKS_MANAGE = "webhooks.manage"  # global webhooks (every sync); a sync's own: SYNC_CONFIGURE
ACCOUNT_SELF = "account.self"  # My account: one's own password, role and permissions

ALL_PERMISSIONS: dict[str, str] = {
    SYNC_VIEW: "See the sync list, dashboards, run details and file layouts",
    SYNC_MANAGE: "Enable or disable a sync",
    SYNC_CONFIGURE: "Edit a sync's settings and FTP destinations, test connections",
    SYNC_RUN: "Process a new sync, re-transfer past runs",
    SYNC_DOWNLOAD: "Download original files",
    SYNC_CREATE: "Create and delete syncs (choose type and scope)",
    USERS_MANAGE: "Manage users and their roles",
    AUDIT_VIEW: "Read the audit log",
    WEBHOOKS_MANAGE: "Manage global webhooks (told about every sync)",
    ACCOUNT_SELF: "Change your own password, see your role and permissions",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.SUPPORT: frozenset(ALL_PERMISSIONS),
    Role.SYNC_MANAGER: frozenset(
        {SYNC_VIEW, SYNC_MANAGE, SYNC_CONFIGURE, SYNC_RUN, SYNC_DOWNLOAD, ACCOUNT_SELF}
    ),
    Role.VIEWER: frozenset({SYNC_VIEW, ACCOUNT_SELF}),
}


class PermissionDenied(Exception):
    """Raised by services and jobs when the acting user lacks a permission."""

    def __init__(self, permission: str, user: User | None = None) -> None:
        who = user.email if user is not None else "anonymous"
        super().__init__(f"{who} lacks the permission {permission!r}")
        self.permission = permission
        self.user = user


def has_permission(user: Any, permission: str) -> bool:
    """True when ``user`` is an active, authenticated user whose role grants ``permission``."""
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(user.role), frozenset())


def require(user: Any, permission: str) -> None:
    """Raise PermissionDenied unless ``user`` has ``permission``; used by services and jobs."""
    if not has_permission(user, permission):
        raise PermissionDenied(permission, user if isinstance(user, User) else None)


F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTRIBUTE = "_required_permission"
PUBLIC_ATTRIBUTE = "_public_view"


def permission_required(permission: str) -> Callable[[F], F]:
    """View decorator: anonymous users go to login, users without ``permission`` get 403.

    The permission is recorded on the view function so that a test can walk the URL
    map and prove no route was left unguarded.
    """
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from webapp.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, PERMISSION_ATTRIBUTE, permission)
        return cast(F, guarded)

    return decorate


def public(view: F) -> F:
    """Mark a view as reachable without logging in (login page only)."""
    setattr(view, PUBLIC_ATTRIBUTE, True)
    return view
