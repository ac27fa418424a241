from __future__ import annotations

from types import SimpleNamespace

import pytest

from webapp.models.users import Role
from webapp.services import permissions as p

pytestmark = pytest.mark.nodb


def user(role: Role, active: bool = True, authenticated: bool = True) -> SimpleNamespace:
    return SimpleNamespace(role=role, is_active=active, is_authenticated=authenticated)


def test_support_has_every_permission() -> None:
    assert all(p.has_permission(user(Role.SUPPORT), perm) for perm in p.ALL_PERMISSIONS)


@pytest.mark.parametrize(
    ("perm", "expected"),
    [
        (p.SYNC_VIEW, True),
        (p.SYNC_MANAGE, True),
        (p.SYNC_CONFIGURE, True),
        (p.SYNC_RUN, True),
        (p.SYNC_DOWNLOAD, True),
        (p.SYNC_CREATE, False),
        (p.USERS_MANAGE, False),
        (p.AUDIT_VIEW, False),
    ],
)
def test_sync_manager(perm: str, expected: bool) -> None:
    assert p.has_permission(user(Role.SYNC_MANAGER), perm) is expected


def test_viewer_only_views() -> None:
    granted = {perm for perm in p.ALL_PERMISSIONS if p.has_permission(user(Role.VIEWER), perm)}
    assert granted == {p.SYNC_VIEW, p.ACCOUNT_SELF}


def test_inactive_and_anonymous_have_nothing() -> None:
    assert not p.has_permission(user(Role.SUPPORT, active=False), p.SYNC_VIEW)
    assert not p.has_permission(user(Role.SUPPORT, authenticated=False), p.SYNC_VIEW)
    assert not p.has_permission(None, p.SYNC_VIEW)


def test_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        p.has_permission(user(Role.SUPPORT), "sync.fly")
    with pytest.raises(KeyError):
        p.permission_required("sync.fly")


def test_require_raises() -> None:
    with pytest.raises(p.PermissionDenied):
        p.require(user(Role.VIEWER), p.SYNC_RUN)
