"""A production install leaves out the `demo` extra (review item 15): the demo FTPS
receiver then says which extra to install instead of failing with an ImportError."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devservers.ftps_server import DemoExtraMissing, make_server

pytestmark = pytest.mark.nodb


def test_the_demo_receiver_names_the_missing_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("pyftpdlib", "pyftpdlib.authorizers", "pyftpdlib.handlers", "pyftpdlib.servers"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    with pytest.raises(DemoExtraMissing, match=r"pip install -e '\.\[demo\]'"):
        make_server(tmp_path, tmp_path / "c.pem", tmp_path / "k.pem", 0, "u", "p")
