"""The lower layers load without the web application.

import-linter (``make lint``) checks the import contract statically; this checks what a
real interpreter loads, including whatever third-party packages pull in, so that a worker,
a script or a bulk load that only exports or only delivers never drags Flask along.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("flask", "werkzeug", "wtforms", "alembic", "webapp", "jobs", "rq")

PROBE = """
import json, sys
{imports}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(imports: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    modules: list[str] = json.loads(out)
    return modules


def application_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in APPLICATION or m.startswith("flask_")]


def test_exporters_with_every_sync_type_load_no_flask() -> None:
    modules = loaded_by("import exporters\nexporters.registry()")
    assert "exporters.types.transaction" in modules  # the registry really imported the types
    assert application_modules(modules) == []


def test_the_loyalty_domain_loads_no_flask() -> None:
    modules = loaded_by(
        "import loyalty.models, loyalty.services, loyalty.changefeed, loyalty.primary\n"
        "import loyalty.demo.seed, loyalty.demo.activity"
    )
    assert "loyalty.models.members" in modules
    assert application_modules(modules) == []
    assert not [m for m in modules if m.split(".")[0] in ("exporters", "delivery")]


def test_delivery_loads_no_flask_and_no_loyalty_data() -> None:
    modules = loaded_by(
        "import delivery.packaging, delivery.transports.sftp, delivery.transports.ftps"
    )
    assert "delivery.transports.sftp" in modules
    assert application_modules(modules) == []
    assert not [m for m in modules if m.split(".")[0] in ("loyalty", "exporters")]
