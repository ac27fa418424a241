"""Schemathesis drives every operation of the OpenAPI document against the app with a
support token: valid and invalid data, bounded in examples. No 5xx, every answer matches
the document (status, content type, body, headers), and a refused request stores nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webapp.extensions import db
from webapp.services import destinations

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# What "stored" means here: the rows people configure and the history the API writes.
# Tokens are compared without their last-use columns (every request moves those).
SNAPSHOT = {
    "syncs": "SELECT * FROM syncs ORDER BY id",
    "destinations": "SELECT * FROM destinations ORDER BY id",
    "users": "SELECT * FROM users ORDER BY id",
    "api_tokens": "SELECT id, name, scopes, revoked_at FROM api_tokens ORDER BY id",
    "sync_instances": "SELECT id, sync_id, creation_status FROM sync_instances ORDER BY id",
    "transfers": "SELECT id, status FROM transfers ORDER BY id",
    "audit_events": "SELECT count(*) FROM audit_events",
}


def snapshot() -> str:
    db.session.expire_all()
    digest = hashlib.sha256()
    for name, sql in SNAPSHOT.items():
        digest.update(name.encode())
        digest.update(repr(db.session.execute(db.text(sql)).all()).encode())
    db.session.rollback()
    return digest.hexdigest()


@pytest.fixture
def seeded(app: Flask, make_token: Callable[..., Any], platform_test_type: Any) -> dict[str, Any]:
    from webapp.models.syncs import Sync

    app.config["API_RATE_LIMIT"] = "100000 per minute"
    sync = Sync(type_key=platform_test_type.key, name="Seeded")
    db.session.add(sync)
    db.session.flush()
    destinations.add_destination(
        sync,
        {
            "name": "Seeded SFTP",
            "host": "sftp.example.com",
            "protocol": "sftp",
            "username": "u",
            "password": "secret-password",
            "password_confirm": "secret-password",
        },
        user=None,
        actor="test",
    )
    db.session.commit()
    _token, text = make_token("support", name="schemathesis")
    # If-Match: * lets generated PATCH bodies reach the services (an ETag is tested elsewhere).
    return {"Authorization": f"Bearer {text}", "If-Match": "*"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_and_refusals_store_nothing(
    app: Flask, seeded: dict[str, str], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    exercised: list[str] = []
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        if operation.path.endswith("/tokens/{token_id}"):
            continue  # revoking the token in use would turn the rest into 401s
        strategy = operation.as_strategy(generation_mode=mode)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def run(case: Any) -> None:
            before = snapshot()
            response = case.call(headers=seeded)
            case.validate_response(response, checks=checks, headers=seeded)
            if response.status_code >= 400:
                # run() is called right below, inside this iteration: label is current.
                assert snapshot() == before, (label, response.status_code, case.body)  # noqa: B023

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): negative mode has no case.
            assert mode is GenerationMode.NEGATIVE, label
            continue
        except Exception as exc:  # name the operation in the failure
            raise AssertionError(f"{label} ({mode.value}): {exc}") from exc
        exercised.append(label)
    assert len(exercised) >= (30 if mode is GenerationMode.POSITIVE else 15), exercised
