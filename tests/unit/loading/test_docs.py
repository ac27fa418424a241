"""docs/loading.md is what scripts/gen_loading_docs.py writes from the declarations."""

from __future__ import annotations

import sys
from pathlib import Path

from loyalty.loading import KINDS

ROOT = Path(__file__).resolve().parents[3]


def test_loading_doc_is_current() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_loading_docs
    finally:
        sys.path.pop(0)
    page = ROOT / "docs" / "loading.md"
    assert page.exists(), "run python scripts/gen_loading_docs.py (docs/loading.md is missing)"
    assert page.read_text(encoding="utf-8") == gen_loading_docs.render(), (
        "run python scripts/gen_loading_docs.py (docs/loading.md is stale)"
    )
    text = page.read_text(encoding="utf-8")
    for kind in KINDS.values():
        assert f"## `{kind.name}`" in text
        assert all(f"| `{field.name}` |" in text for field in kind.fields)
