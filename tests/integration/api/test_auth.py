"""Who the API lets in: bearer tokens only, checked on every request against the token's
scope AND its owner's current role; 401 vs 403 vs 404 as docs/api.md says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from loyalty.db import utcnow
from tests.integration.api.conftest import Api
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.syncs import Sync
from webapp.services import tokens, users

pytestmark = pytest.mark.integration


def _sync() -> Sync:
    sync = Sync(type_key="platform_test", name="Existing")
    db.session.add(sync)
    db.session.commit()
    return sync


def _assert_401(response: Any, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["type"].endswith(f"/unauthorized/{reason}"), response.json


def test_missing_malformed_unknown_expired_revoked_tokens_get_401(
    client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    _assert_401(Api(client, None).get("/syncs"), "missing")
    _assert_401(Api(client, "not-a-token").get("/syncs"), "malformed")
    token, text = make_token("viewer")
    # One character changed: the checksum no longer matches (refused without a lookup).
    typo = text[:-1] + ("A" if text[-1] != "A" else "B")
    _assert_401(Api(client, typo).get("/syncs"), "malformed")
    _assert_401(Api(client, tokens.generate()).get("/syncs"), "unknown")
    assert Api(client, text).get("/syncs").status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _assert_401(Api(client, text).get("/syncs"), "expired")
    other, other_text = make_token("viewer")
    tokens.revoke_token(other, user=None, actor="test")
    db.session.commit()
    _assert_401(Api(client, other_text).get("/syncs"), "revoked")
    # Basic or other schemes are not API tokens.
    _assert_401(client.get("/api/v1/syncs", headers={"Authorization": f"Basic {text}"}), "missing")


def test_a_disabled_owner_gets_401_at_once(
    client: FlaskClient, make_user: Callable[..., Any], make_token: Callable[..., Any]
) -> None:
    owner = make_user("sync_manager")
    _token, text = make_token(user=owner)
    assert Api(client, text).get("/syncs").status_code == 200
    users.set_active(owner, False)
    db.session.commit()
    _assert_401(Api(client, text).get("/syncs"), "disabled")


def test_losing_a_permission_takes_effect_for_the_token_at_once(
    client: FlaskClient, make_user: Callable[..., Any], make_token: Callable[..., Any]
) -> None:
    owner = make_user("sync_manager")
    _make_support = make_user("support")  # so the manager is not the last support user
    _token, text = make_token(user=owner)
    sync = _sync()
    api = Api(client, text)
    assert api.post(f"/syncs/{sync.id}/disable").status_code == 200
    users.set_role(owner, "viewer")
    db.session.commit()
    refused = api.post(f"/syncs/{sync.id}/enable")
    assert refused.status_code == 403, refused.text
    assert "role no longer grants" in refused.json["detail"]
    assert api.get(f"/syncs/{sync.id}").status_code == 200  # sync.view is still both


def test_scopes_limit_a_token_below_its_owner(
    client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    sync = _sync()
    _token, text = make_token("support", scopes=["sync.view"])
    api = Api(client, text)
    assert api.get(f"/syncs/{sync.id}").status_code == 200
    refused = api.post(f"/syncs/{sync.id}/enable")
    assert refused.status_code == 403
    assert "scopes do not include 'sync.manage'" in refused.json["detail"]
    assert api.get("/audit-events").status_code == 403
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).enabled is False


def test_a_token_without_sync_view_cannot_tell_which_syncs_exist(
    client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    sync = _sync()
    _token, text = make_token("support", scopes=["audit.view"])
    api = Api(client, text)
    existing = api.get(f"/syncs/{sync.id}")
    missing = api.get(f"/syncs/{sync.id + 1000}")
    beyond = api.get("/syncs/99999999999")
    assert existing.status_code == missing.status_code == 403
    assert existing.json["detail"] == missing.json["detail"]
    assert beyond.status_code in (403, 404)
    # With sync.view, a missing sync is a plain 404.
    _token, viewer = make_token("viewer")
    assert Api(client, viewer).get(f"/syncs/{sync.id + 1000}").status_code == 404


def test_scopes_beyond_the_owner_are_refused_and_nothing_is_stored(
    make_user: Callable[..., Any],
) -> None:
    from loyalty.errors import ValidationError

    viewer = make_user("viewer")
    before = db.session.query(tokens.ApiToken).count()
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(viewer, "too much", ["sync.view", "sync.run"], 30, user=viewer)
    assert "sync.run" in refused.value.errors["scopes"]
    with pytest.raises(ValidationError) as unknown:
        tokens.create_token(viewer, "typo", ["sync.veiw"], 30, user=viewer)
    assert "Unknown permission" in unknown.value.errors["scopes"]
    db.session.rollback()
    assert db.session.query(tokens.ApiToken).count() == before


def test_a_session_cookie_does_not_authenticate_the_api(
    client: FlaskClient, make_user: Callable[..., Any], login: Callable[[Any], FlaskClient]
) -> None:
    login(make_user("support"))
    assert client.get("/syncs").status_code == 200  # the pages: logged in
    _assert_401(client.get("/api/v1/syncs"), "missing")
    before = db.session.query(Sync).count()
    refused = client.post("/api/v1/syncs", json={"type": "platform_test", "name": "x"})
    _assert_401(refused, "missing")
    assert db.session.query(Sync).count() == before


def test_the_token_list_shows_only_the_owners_tokens(
    client: FlaskClient, make_user: Callable[..., Any], make_token: Callable[..., Any]
) -> None:
    alice, bob = make_user("support"), make_user("viewer")
    _a1, alice_text = make_token(user=alice, name="alice one")
    make_token(user=alice, name="alice two")
    bob_token, bob_text = make_token(user=bob, name="bob only")
    listed = Api(client, alice_text).get("/tokens")
    assert listed.status_code == 200
    assert sorted(t["name"] for t in listed.json["items"]) == ["alice one", "alice two"]
    assert all("hash" not in str(t) and alice_text not in str(t) for t in listed.json["items"])
    # Another user's token cannot be revoked (404, as if it did not exist), even by support.
    assert Api(client, alice_text).delete(f"/tokens/{bob_token.id}").status_code == 404
    assert Api(client, bob_text).get("/tokens").json["items"][0]["state"] == "active"
    # A viewer's token lists its owner's tokens only, too.
    assert [t["name"] for t in Api(client, bob_text).get("/tokens").json["items"]] == ["bob only"]


def test_last_use_and_the_token_name_in_the_audit_log(
    client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    token, text = make_token("sync_manager", name="nightly scheduler")
    sync = _sync()
    assert token.last_used_at is None
    response = Api(client, text).post(f"/syncs/{sync.id}/enable")
    assert response.status_code == 200
    db.session.expire_all()
    assert token.last_used_at is not None and token.last_used_addr == "127.0.0.1"
    event = db.session.query(AuditEvent).filter_by(action="sync.enable").one()
    assert event.user_id == token.user_id
    assert event.detail["api_token"] == {"id": token.id, "name": "nightly scheduler"}
    # Revoked through the API, the token stops working on the next request.
    assert Api(client, text).delete(f"/tokens/{token.id}").status_code == 204
    _assert_401(Api(client, text).get("/syncs"), "revoked")
    assert db.session.query(AuditEvent).filter_by(action="token.revoke").count() == 1


def test_only_a_hash_is_stored(make_token: Callable[..., Any]) -> None:
    token, text = make_token("viewer")
    assert text.startswith("lsync_") and tokens.well_formed(text)
    row = (
        db.session.execute(db.text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id})
        .mappings()
        .one()
    )
    assert text not in str(dict(row)) and text[6:] not in str(dict(row))
    assert row["secret_hash"] == tokens.hash_token(text)


def test_rate_limit_per_token_gives_429_with_retry_after(
    app: Any, client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    _one, first = make_token("viewer")
    _two, second = make_token("viewer")
    for _ in range(3):
        assert Api(client, first).get("/syncs").status_code == 200
    limited = Api(client, first).get("/syncs")
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) >= 1
    # Another token has its own budget.
    assert Api(client, second).get("/syncs").status_code == 200


def test_request_ids_are_echoed_when_sane_and_generated_otherwise(
    client: FlaskClient, make_token: Callable[..., Any]
) -> None:
    _token, text = make_token("viewer")
    api = Api(client, text)
    echoed = api.get("/syncs", headers={"X-Request-Id": "job-42.attempt-1"})
    assert echoed.headers["X-Request-Id"] == "job-42.attempt-1"
    generated = api.get("/syncs", headers={"X-Request-Id": "bad id; <script>"})
    assert (
        generated.headers["X-Request-Id"] != "bad id; <script>"
        and len(generated.headers["X-Request-Id"]) == 32
    )
    problem = api.get("/syncs/12345", headers={"X-Request-Id": "trace-0001"})
    assert problem.json["request_id"] == "trace-0001"


def test_log_records_carry_the_request_id(
    client: FlaskClient, make_token: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    _token, text = make_token("viewer")
    with caplog.at_level("INFO"):
        Api(client, text).get("/syncs", headers={"X-Request-Id": "log-trace-77"})
    lines = [r for r in caplog.records if r.getMessage().startswith("api GET /api/v1/syncs")]
    assert lines and all(getattr(r, "request_id", None) == "log-trace-77" for r in lines)


def test_csrf_does_not_apply_to_the_api_but_still_to_the_pages(
    app: Any,
    client: FlaskClient,
    make_user: Callable[..., Any],
    make_token: Callable[..., Any],
    login: Callable[[Any], FlaskClient],
) -> None:
    sync = _sync()
    _token, text = make_token("sync_manager")
    manager = make_user("sync_manager")
    login(manager)
    app.config["WTF_CSRF_ENABLED"] = True
    # The page's toggle without a CSRF token is refused ...
    page = client.post(f"/syncs/{sync.id}/enabled", data={"enabled": "1"})
    assert page.status_code == 400
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).enabled is False
    # ... the API needs none: a bearer token cannot be sent by another site's form.
    assert Api(client, text).post(f"/syncs/{sync.id}/enable").status_code == 200


def test_the_tokens_page_refuses_bad_input_and_others_tokens(
    client: FlaskClient,
    make_user: Callable[..., Any],
    make_token: Callable[..., Any],
    login: Callable[[Any], FlaskClient],
) -> None:
    viewer, other = make_user("viewer"), make_user("support")
    others_token, _ = make_token(user=other, name="theirs")
    login(viewer)
    refused = client.post("/account/tokens", data={"name": "", "scopes": ["sync.run"]})
    assert refused.status_code == 422
    assert "Token name" in refused.text and "sync.run" in refused.text
    assert tokens.list_tokens(viewer) == []
    assert client.post(f"/account/tokens/{others_token.id}/revoke").status_code == 404
    db.session.expire_all()
    assert tokens.state(others_token) == "active"
    created = client.post("/account/tokens", data={"name": "mine", "scopes": ["sync.view"]})
    assert created.status_code == 200 and 'id="new-token"' in created.text
    assert [t.name for t in tokens.list_tokens(viewer)] == ["mine"]
    assert 'id="new-token"' not in client.get("/account/tokens").text


def test_every_sync_action_needs_sync_view_too(
    client: FlaskClient, make_user: Callable[..., Any], make_token: Callable[..., Any]
) -> None:
    sync = _sync()
    token, text = make_token("sync_manager", scopes=["sync.configure"])
    assert token.scopes == ["sync.configure", "sync.view"]  # added at creation
    # A token stored without it (scopes narrowed by hand) is refused before any lookup.
    token.scopes = ["sync.configure"]
    db.session.commit()
    api = Api(client, text)
    existing = api.get(f"/syncs/{sync.id}/destinations")
    missing = api.get(f"/syncs/{sync.id + 1000}/destinations")
    assert existing.status_code == missing.status_code == 403
    assert "'sync.view'" in existing.json["detail"]
