"""Exports (member data), the SQLite database and the instance folder are this account's
alone (review item 16): a real run, built by the CLI as an operator starts it under the
common umask 022, leaves no file or folder with a group or other bit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.file_modes import parse_umask, private_dir, private_sqlite_file

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=0o022,  # what a login shell or a service manager commonly hands over
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.integration
@pytest.mark.nodb  # the point is the SQLite file the app creates itself
def test_a_real_export_and_the_database_are_private(tmp_path: Path, redis_url: str) -> None:
    instance = tmp_path / "instance"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOYALTY_SYNC_", "FLASK_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")
    }
    env.update(
        {
            "LOYALTY_SYNC_INSTANCE_PATH": str(instance),
            "REDIS_URL": redis_url,
            "LOYALTY_SYNC_QUEUE_PREFIX": "file-modes",
            "LOYALTY_SYNC_EXTRA_TYPES": "tests.fixtures.sync_types:PLATFORM_TEST_TYPE",
        }
    )
    _flask(env, "ops", "bootstrap")
    _flask(env, "sync", "create", "--type", "reward_type", "--name", "Modes")
    _flask(env, "sync", "run", "1", "--inline")

    database = instance / "loyalty_sync.db"
    exports = instance / "exports"
    written = [p for p in exports.rglob("*") if p.is_file()]
    assert written, "the run wrote no file"
    assert _mode(instance) == 0o700
    assert _mode(exports) == 0o700
    assert _mode(database) == 0o600
    for path in [database, *instance.rglob("*")]:
        assert _mode(path) & 0o077 == 0, f"{path} is {oct(_mode(path))}"


@pytest.mark.nodb
def test_existing_folders_and_database_are_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # noqa: S103 - a folder as a 022 umask leaves it
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    os.chmod(database, 0o644)
    private_dir(folder)
    assert private_sqlite_file(f"sqlite:///{database}") == database
    assert _mode(folder) == 0o700
    assert _mode(database) == 0o600
    fresh = tmp_path / "new" / "fresh.db"
    private_sqlite_file(f"sqlite:///{fresh}")
    assert _mode(fresh) == 0o600
    assert private_sqlite_file("sqlite://") is None
    assert private_sqlite_file("postgresql+psycopg://u@h/db") is None


@pytest.mark.nodb
@pytest.mark.parametrize(
    ("value", "mask"),
    [("077", 0o077), ("0o027", 0o027), (22, 0o022), (77, 0o077), ("inherit", None), (None, None)],
)
def test_the_umask_setting_reads_octal_digits(value: object, mask: int | None) -> None:
    assert parse_umask(value) == mask


@pytest.mark.nodb
@pytest.mark.parametrize("value", ["rw", "8", "1000", True, "-1"])
def test_a_bad_umask_setting_is_refused_clearly(value: object) -> None:
    with pytest.raises(ValueError, match="UMASK must be"):
        parse_umask(value)
