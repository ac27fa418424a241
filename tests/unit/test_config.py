from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from webapp.config import normalise_database_url, read_or_create_secret

pytestmark = pytest.mark.nodb


def test_postgres_urls_select_psycopg3() -> None:
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_file_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    first = read_or_create_secret(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_or_create_secret(path) == first
    assert len(first) >= 32
