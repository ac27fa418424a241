"""The registry of sync types: every type the product offers, listed explicitly by its stable key.

The key is what the database stores in ``Sync.type_key``; it never changes once released.
Each type lives in its own module under ``exporters/types/`` (the two largest,
``transaction`` and ``member_extended``, are packages whose ``__init__`` exposes the
same ``SYNC_TYPE``) and is added to ``_MODULES`` below by hand, so that the list of
offered types is reviewable here.
"""

from __future__ import annotations

import importlib
import os

from exporters.base import SyncType

# Module names under exporters.types, in the order the product's overview lists them.
_MODULES: tuple[str, ...] = (
    "member_extended",
    "member_descriptor",
    "member_future_point_expiration",
    "member_ranking",
    "member_ranking_extended",
    "member_rfm",
    "member_product_purchases",
    "reward",
    "reward_type",
    "interaction",
    "case_event",
    "transaction",
    "product_item",
    "location",
    "survey",
    "campaign_member",
    "promotion_member",
)

_registry: dict[str, SyncType] | None = None


def registry() -> dict[str, SyncType]:
    """All sync types by key (imported on first use, never at import time of this package)."""
    global _registry
    if _registry is None:
        found: dict[str, SyncType] = {}
        for name in _MODULES:
            module = importlib.import_module(f"exporters.types.{name}")
            sync_type: SyncType = module.SYNC_TYPE
            if sync_type.key in found:
                raise RuntimeError(f"duplicate sync type key {sync_type.key!r}")
            found[sync_type.key] = sync_type
        for sync_type in _extra_types():
            if sync_type.key in found:
                raise RuntimeError(f"extra sync type {sync_type.key!r} clashes with a built-in key")
            found[sync_type.key] = sync_type
        _registry = found
    return _registry


def _extra_types() -> list[SyncType]:
    """Site-specific types: ``LOYALTY_SYNC_EXTRA_TYPES="package.module:NAME,..."``.

    A deployment can add its own layouts without patching this package; the test suite
    uses it to give worker processes its small test type.
    """
    found = []
    for spec in filter(
        None, (s.strip() for s in os.environ.get("LOYALTY_SYNC_EXTRA_TYPES", "").split(","))
    ):
        module_name, _, attribute = spec.partition(":")
        sync_type = getattr(importlib.import_module(module_name), attribute or "SYNC_TYPE")
        if not isinstance(sync_type, SyncType):
            raise TypeError(f"{spec} is not a SyncType")
        found.append(sync_type)
    return found


def get(key: str) -> SyncType:
    """The sync type stored under ``key``; KeyError when no such type is registered."""
    return registry()[key]


def all_types() -> list[SyncType]:
    return list(registry().values())
