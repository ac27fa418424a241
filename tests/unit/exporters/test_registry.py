"""The registry lists every type module once, keys are unique, and the docs match it."""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

import pytest

import exporters
import exporters.types

pytestmark = pytest.mark.nodb
ROOT = Path(__file__).resolve().parents[3]


def test_every_type_module_is_listed_once() -> None:
    modules = {m.name for m in pkgutil.iter_modules(exporters.types.__path__)}
    assert sorted(modules) == sorted(exporters._MODULES)
    assert len(set(exporters._MODULES)) == len(exporters._MODULES)


def test_keys_are_unique_and_match_modules() -> None:
    keys = [t.key for t in exporters.all_types()]
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(exporters._MODULES)  # module name = stable key


def test_types_are_well_formed() -> None:
    for sync_type in exporters.all_types():
        assert sync_type.file_kinds, sync_type.key
        assert sync_type.doc_status in ("documented", "partial", "designed")
        option_keys = [o.key for o in sync_type.options]
        assert len(option_keys) == len(set(option_keys)), sync_type.key
        for kind in sync_type.file_kinds:
            assert kind.columns or kind.record_types, (sync_type.key, kind.key)


def test_generated_docs_are_current() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_sync_docs
    finally:
        sys.path.pop(0)
    for sync_type in exporters.all_types():
        page = ROOT / "docs" / "sync-types" / f"{sync_type.key}.md"
        assert page.exists(), f"run python scripts/gen_sync_docs.py ({page.name} is missing)"
        assert page.read_text() == gen_sync_docs.render(sync_type), (
            f"run python scripts/gen_sync_docs.py ({page.name} is stale)"
        )
