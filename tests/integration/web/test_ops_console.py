"""Issue 14, settings side: confirmed deletes, My account, timezones, role by role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exporters.base import SyncType
from tests.conftest import PASSWORD
from tests.integration.web.test_pages import dest_fields, make_run
from webapp.extensions import db
from webapp.models.audit import AuditEvent
from webapp.models.runs import SyncFile, SyncInstance
from webapp.models.syncs import Destination, Sync
from webapp.services import destinations

Login = Callable[[Any], FlaskClient]


@pytest.fixture
def sync(app: Flask, platform_test_type: SyncType) -> Sync:
    sync = Sync(type_key=platform_test_type.key, name="Nightly members", options={"rows": 2})
    db.session.add(sync)
    db.session.commit()
    return sync


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def sync_folder(app: Flask, sync_id: int) -> Path:
    return Path(app.config["EXPORT_DIR"]) / f"sync-{sync_id}"


# ------------------------------------------------------------------ delete a sync


def test_delete_page_says_what_is_lost_and_cancel_keeps_everything(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    make_run(app, sync)
    make_run(app, sync)
    client = login(make_user("support"))
    settings = client.get(f"/syncs/{sync.id}/settings").text
    assert f'href="/syncs/{sync.id}/delete"' in settings  # a link to the confirmation, no form
    page = client.get(f"/syncs/{sync.id}/delete").text
    assert "2 runs" in page and "2 files on disk, 36 B" in page and 'name="confirm"' in page
    # A POST without the confirmation (an old one-click form) deletes nothing.
    assert client.post(f"/syncs/{sync.id}/delete").status_code == 200
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is not None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 2
    assert len(list(sync_folder(app, sync.id).rglob("*.txt"))) == 2
    assert "sync.delete" not in actions()


def test_confirmed_delete_removes_runs_and_files_after_commit(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    make_run(app, sync)
    folder = sync_folder(app, sync.id)
    (folder / "leftover.tmp").write_bytes(b"x" * 10)  # a killed attempt's leftovers go too
    client = login(make_user("support"))
    response = client.post(f"/syncs/{sync.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sync, sync.id) is None
    assert db.session.scalar(select(func.count()).select_from(SyncInstance)) == 0
    assert db.session.scalar(select(func.count()).select_from(SyncFile)) == 0
    assert not folder.exists()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.delete"))
    assert event.detail["runs"] == 1 and event.detail["bytes_on_disk"] == 28


def test_failed_delete_keeps_the_files(app: Flask, sync: Sync, make_user: Any) -> None:
    from webapp.services import syncs

    make_run(app, sync)
    support = make_user("support")
    folder = syncs.delete_sync(sync, user=support)
    db.session.rollback()  # the transaction did not commit: nothing may be removed
    assert folder.exists() and db.session.get(Sync, sync.id) is not None


@pytest.mark.parametrize("role", ["viewer", "sync_manager"])
def test_delete_sync_is_support_only(
    role: str, app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user(role))
    assert client.get(f"/syncs/{sync.id}/delete").status_code == 403
    assert client.post(f"/syncs/{sync.id}/delete", data={"confirm": "delete"}).status_code == 403
    assert db.session.get(Sync, sync.id) is not None


def test_remove_export_folder_refuses_other_paths(app: Flask, tmp_path: Path) -> None:
    from webapp.services import syncs

    with pytest.raises(ValueError, match="not a sync folder"):
        syncs.remove_export_folder(Path(app.config["EXPORT_DIR"]))
    with pytest.raises(ValueError, match="not a sync folder"):
        syncs.remove_export_folder(tmp_path / "sync-1")


# ------------------------------------------------------------------ delete a destination


def test_destination_delete_is_confirmed(
    app: Flask, sync: Sync, make_user: Any, login: Login
) -> None:
    destination = destinations.add_destination(sync, dest_fields(), user=None, actor="test")
    db.session.commit()
    client = login(make_user("sync_manager"))
    listing = client.get(f"/syncs/{sync.id}/destinations").text
    assert f'href="/destinations/{destination.id}/delete"' in listing
    page = client.get(f"/destinations/{destination.id}/delete").text
    assert "Delete destination" in page and "sftp.example.com:22" in page
    assert client.post(f"/destinations/{destination.id}/delete").status_code == 200
    assert db.session.get(Destination, destination.id) is not None
    response = client.post(f"/destinations/{destination.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Destination, destination.id) is None
    assert "destination.delete" in actions()


def test_viewer_cannot_delete_a_destination(sync: Sync, make_user: Any, login: Login) -> None:
    destination = destinations.add_destination(sync, dest_fields(), user=None, actor="test")
    db.session.commit()
    client = login(make_user("viewer"))
    assert client.get(f"/destinations/{destination.id}/delete").status_code == 403
    response = client.post(f"/destinations/{destination.id}/delete", data={"confirm": "delete"})
    assert response.status_code == 403


# ------------------------------------------------------------------ My account


@pytest.mark.parametrize(
    ("role", "label", "may_create"),
    [
        ("viewer", "Viewer", False),
        ("sync_manager", "Sync manager", False),
        ("support", "Support", True),
    ],
)
def test_account_page_shows_role_and_permissions(
    role: str, label: str, may_create: bool, make_user: Any, login: Login
) -> None:
    user = make_user(role)
    page = login(user).get("/account").text
    assert user.email in page and f'id="account-role">{label}<' in page
    assert ("✓ Create and delete syncs" in page) is may_create
    assert 'href="/account"' in page  # the header's user name links here


def test_password_change_ends_other_sessions(app: Flask, make_user: Any, login: Login) -> None:
    user = make_user("viewer")
    client = login(user)
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert other.get("/syncs").status_code == 200
    new = "a much longer secret"
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session continues
    assert other.get("/syncs").status_code == 302  # the other one has ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": user.email, "password": new}).status_code == 302
    assert "user.password" in actions()


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password!", "a much longer secret", "a much longer secret", "not your current"),
        (PASSWORD, "short", "short", "at least 10"),
        (PASSWORD, "a much longer secret", "another secret!!", "do not match"),
        (PASSWORD, PASSWORD, PASSWORD, "other than the current"),
    ],
)
def test_password_change_refusals_change_nothing(
    current: str, new: str, confirm: str, message: str, make_user: Any, login: Login
) -> None:
    user = make_user("sync_manager")
    client = login(user)
    before = (user.password_hash, user.session_version)
    response = client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "new_password_confirm": confirm},
    )
    assert response.status_code == 200 and message in response.text
    db.session.expire_all()
    assert (user.password_hash, user.session_version) == before
    assert client.get("/account").status_code == 200


# ------------------------------------------------------------------ timezones


def test_timezone_select_is_canonical_with_common_zones_first(
    sync: Sync, make_user: Any, login: Login
) -> None:
    page = login(make_user("sync_manager")).get(f"/syncs/{sync.id}/settings").text
    select_html = page.split('id="timezone"', 1)[1].split("</select>", 1)[0]
    assert select_html.index('label="Common"') < select_html.index('label="Africa"')
    assert '"Europe/Oslo"' in select_html and '"America/Argentina/Buenos_Aires"' in select_html
    for excluded in ("localtime", "Factory", "US/Eastern", "Etc/GMT+5", "posixrules", "EST5EDT"):
        assert f'value="{excluded}"' not in select_html
    assert 'data-filter-select="#timezone"' in page


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("US/Eastern", "old alias of America/New_York"),
        ("Factory", "not offered"),
        ("Mars/Olympus", "Unknown timezone &#39;Mars/Olympus&#39;"),
    ],
)
def test_bad_timezone_is_named_and_kept_in_the_select(
    zone: str, message: str, sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("sync_manager"))
    response = client.post(
        f"/syncs/{sync.id}/settings",
        data={
            "execution_time": "04:00",
            "timezone": zone,
            "compression": "none",
            "encryption": "none",
        },
    )
    assert response.status_code == 200 and message in response.text
    assert f'<option selected value="{zone}">' in response.text
    assert 'Africa/Abidjan" selected' not in response.text
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).execution_time == "03:00"  # nothing stored


def test_sync_in_a_legacy_zone_keeps_it_on_save(sync: Sync, make_user: Any, login: Login) -> None:
    sync.timezone = "US/Eastern"
    db.session.commit()
    client = login(make_user("sync_manager"))
    assert 'value="US/Eastern"' in client.get(f"/syncs/{sync.id}/settings").text
    response = client.post(
        f"/syncs/{sync.id}/settings",
        data={
            "execution_time": "04:00",
            "timezone": "US/Eastern",
            "compression": "none",
            "encryption": "none",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).execution_time == "04:00"


def test_cli_timezone_goes_through_the_same_check(app: Flask, sync: Sync, runner: Any) -> None:
    result = runner.invoke(args=["sync", "set", str(sync.id), "--timezone", "localtime"])
    assert result.exit_code != 0 and "localtime" in result.output and "not offered" in result.output
    result = runner.invoke(args=["sync", "set", str(sync.id), "--timezone", "Europe/Oslo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Sync, sync.id).timezone == "Europe/Oslo"


# ------------------------------------------------------------------ scope


@pytest.fixture
def descriptors(app: Flask) -> tuple[Any, Any]:
    from loyalty.models import Descriptor

    gold, silver = (
        Descriptor(ext_ref="GOLD", name="Gold members"),
        Descriptor(ext_ref="SILV", name="Silver members"),
    )
    db.session.add_all([gold, silver])
    db.session.commit()
    return gold, silver


@pytest.fixture
def scoped_sync(descriptors: tuple[Any, Any]) -> Sync:
    import exporters

    sync = Sync(
        type_key="member_descriptor",
        name="Gold to CRM",
        scope={"descriptor_id": descriptors[0].id},
        options=exporters.get("member_descriptor").default_options(),
        watermark={"max_id": 41},
    )
    db.session.add(sync)
    db.session.commit()
    return sync


def test_create_without_a_chosen_scope_is_refused(
    descriptors: tuple[Any, Any], make_user: Any, login: Login
) -> None:
    client = login(make_user("support"))
    response = client.post(
        "/syncs/new", data={"type_key": "member_descriptor", "name": "Gold", "scope_id": ""}
    )
    assert response.status_code == 200
    assert "Member descriptor is required for a" in response.text and "choose one" in response.text
    assert db.session.scalar(select(func.count()).select_from(Sync)) == 0
    assert 'data-filter-select="#scope_id"' in response.text


def test_list_and_settings_show_the_scope(scoped_sync: Sync, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    assert "Member descriptor: GOLD" in client.get("/syncs").text
    settings = client.get(f"/syncs/{scoped_sync.id}/settings").text
    assert 'id="scope-current">Member descriptor: GOLD<' in settings
    assert 'id="scope-form"' not in settings and "Only support can change the scope" in settings


def test_support_changes_the_scope_of_a_cumulative_sync(
    scoped_sync: Sync, descriptors: tuple[Any, Any], make_user: Any, login: Login
) -> None:
    client = login(make_user("support"))
    settings = client.get(f"/syncs/{scoped_sync.id}/settings").text
    assert (
        'id="scope-form"' in settings
        and "The next run exports the new member descriptor" in settings
    )
    response = client.post(
        f"/syncs/{scoped_sync.id}/scope", data={"scope_id": str(descriptors[1].id)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Sync, scoped_sync.id)
    assert changed.scope == {"descriptor_id": descriptors[1].id}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.scope"))
    assert (
        event.detail["scope"] == {"from": "GOLD", "to": "SILV"} and "watermark" not in event.detail
    )
    assert "Member descriptor: SILV" in client.get("/syncs").text


def test_scope_change_of_an_incremental_sync_resets_its_watermark(
    app: Flask, make_user: Any, login: Login
) -> None:
    import exporters
    from loyalty.models import RankingSet

    first, second = RankingSet(ext_ref="RS1", name="Tiers"), RankingSet(ext_ref="RS2", name="Club")
    db.session.add_all([first, second])
    db.session.flush()
    sync = Sync(
        type_key="member_ranking_extended",
        name="Ranks",
        scope={"ranking_set_id": first.id},
        options=exporters.get("member_ranking_extended").default_options(),
        watermark={"max_id": 41},
    )
    db.session.add(sync)
    db.session.commit()
    client = login(make_user("support"))
    assert "exports everything of the new" in client.get(f"/syncs/{sync.id}/settings").text
    response = client.post(f"/syncs/{sync.id}/scope", data={"scope_id": str(second.id)})
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Sync, sync.id)
    assert changed.scope == {"ranking_set_id": second.id} and changed.watermark is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.scope"))
    assert event.detail["watermark"].startswith("reset")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "choose one"),
        ("99999", "No member descriptor with id 99999"),
        ("abc", "chosen from the list"),
    ],
)
def test_bad_scope_changes_nothing(
    value: str,
    message: str,
    scoped_sync: Sync,
    descriptors: tuple[Any, Any],
    make_user: Any,
    login: Login,
) -> None:
    client = login(make_user("support"))
    response = client.post(
        f"/syncs/{scoped_sync.id}/scope", data={"scope_id": value}, follow_redirects=True
    )
    assert message in response.text and "flash-error" in response.text
    db.session.expire_all()
    assert db.session.get(Sync, scoped_sync.id).scope == {"descriptor_id": descriptors[0].id}
    assert "sync.scope" not in actions()


def test_scope_change_is_refused_while_a_run_builds(
    app: Flask, scoped_sync: Sync, descriptors: tuple[Any, Any], make_user: Any, login: Login
) -> None:
    from webapp.models.runs import CreationStatus

    make_run(app, scoped_sync, CreationStatus.RUNNING)
    client = login(make_user("support"))
    response = client.post(
        f"/syncs/{scoped_sync.id}/scope",
        data={"scope_id": str(descriptors[1].id)},
        follow_redirects=True,
    )
    assert "is building" in response.text
    db.session.expire_all()
    assert db.session.get(Sync, scoped_sync.id).watermark == {"max_id": 41}


def test_sync_manager_cannot_change_the_scope(
    scoped_sync: Sync, descriptors: tuple[Any, Any], make_user: Any, login: Login
) -> None:
    client = login(make_user("sync_manager"))
    response = client.post(
        f"/syncs/{scoped_sync.id}/scope", data={"scope_id": str(descriptors[1].id)}
    )
    assert response.status_code == 403


# ------------------------------------------------------------------ audit log


def _settings_change(sync: Sync, client: FlaskClient) -> None:
    response = client.post(
        f"/syncs/{sync.id}/settings",
        data={
            "execution_time": "05:15",
            "timezone": "Europe/Oslo",
            "compression": "gzip",
            "encryption": "none",
        },
    )
    assert response.status_code == 302


def test_audit_log_shows_changes_as_before_and_after(
    sync: Sync, make_user: Any, login: Login
) -> None:
    client = login(make_user("support"))
    _settings_change(sync, client)
    page = client.get(f"/support/audit?sync={sync.id}&action=sync.settings").text
    assert (
        '<strong>execution_time</strong>: <span class="from">03:00</span> → <span class="to">05:15</span>'
        in page
    )
    assert '<span class="to">Europe/Oslo</span>' in page
    assert "{&#34;" not in page and '{"execution_time"' not in page  # no raw JSON


def test_audit_filters_by_actor_and_date(sync: Sync, make_user: Any, login: Login) -> None:
    from webapp.services import audit

    audit.record("sync.enable", obj=sync, actor="cli:ops")
    db.session.commit()
    client = login(make_user("support"))
    by_actor = client.get("/support/audit?actor=cli:ops").text
    table = by_actor.split('id="audit-table"')[1]
    assert "cli:ops" in table and "auth.login" not in table
    assert "No events match" in client.get("/support/audit?from=2001-01-01&to=2001-01-02").text
    today = client.get("/support/audit?actor=cli:ops&from=2000-01-01").text
    assert "sync.enable" in today
    bad = client.get("/support/audit?from=yesterday")
    assert bad.status_code == 400 and "from must be a date" in bad.text


def test_audit_csv_exports_the_filtered_log_safely(
    sync: Sync, make_user: Any, login: Login
) -> None:
    import csv
    import io

    from webapp.services import audit

    audit.record("sync.enable", obj=sync, actor='=HYPERLINK("http://evil")')
    audit.record("sync.disable", obj=sync, actor="cli:ops")
    db.session.commit()
    client = login(make_user("support"))
    _settings_change(sync, client)
    response = client.get(f"/support/audit.csv?sync={sync.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["id", "at_utc", "actor", "action"]
    actions_in_csv = [r[3] for r in rows[1:]]
    assert actions_in_csv == ["sync.settings", "sync.disable", "sync.enable"]  # newest first
    assert "auth.login" not in response.text  # the filter holds
    assert rows[3][2] == '\'=HYPERLINK("http://evil")'
    assert "execution_time: 03:00 → 05:15" in rows[1][7]
    narrowed = client.get(f"/support/audit.csv?sync={sync.id}&action=sync.disable").text
    assert len(list(csv.reader(io.StringIO(narrowed)))) == 2


@pytest.mark.parametrize("role", ["viewer", "sync_manager"])
def test_audit_csv_needs_audit_view(role: str, make_user: Any, login: Login) -> None:
    assert login(make_user(role)).get("/support/audit.csv").status_code == 403


def test_changes_reads_every_detail_shape() -> None:
    from webapp.services.audit_view import changes_text, safe_cell

    assert changes_text({"from": "viewer", "to": "support"}) == "value: viewer → support"
    assert (
        changes_text({"options": {"from": {"rows": 2, "x": 1}, "to": {"rows": 3, "x": 1}}})
        == "options.rows: 2 → 3"
    )
    assert changes_text({"name": "Gold", "scope": {}}) == "name: Gold; scope: {}"
    assert changes_text({"enabled": {"from": False, "to": True}}) == "enabled: no → yes"
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert safe_cell(dangerous).startswith("'")
    assert safe_cell("plain") == "plain" and safe_cell(None) == ""


# ------------------------------------------------------------------ flashes, breadcrumbs


def test_refusal_flashes_in_the_error_style(sync: Sync, make_user: Any, login: Login) -> None:
    client = login(make_user("sync_manager"))
    # PGP without a recipient key is refused by the service: an error flash, not green.
    response = client.post(
        f"/syncs/{sync.id}/keys", data={"public_key": "not a key"}, follow_redirects=True
    )
    assert '<p class="flash-error" role="alert">Key not added' in response.text
    ok = client.post(
        f"/syncs/{sync.id}/settings",
        data={
            "execution_time": "03:00",
            "timezone": "UTC",
            "compression": "none",
            "encryption": "none",
        },
        follow_redirects=True,
    )
    assert '<p class="flash-success">' in ok.text and "flash-error" not in ok.text, ok.text[
        ok.text.find("flashes") :
    ][:300]


def test_testing_indicator_is_hidden_at_rest_by_the_stylesheet(app: Flask) -> None:
    css = (Path(app.static_folder or "") / "app.css").read_text()
    assert ".htmx-indicator { display: none; }" in css
    assert ".htmx-request .htmx-indicator" in css


@pytest.mark.parametrize(
    ("path", "here"),
    [
        ("/syncs/{id}/settings", "Settings"),
        ("/syncs/{id}/destinations", "FTP Destinations"),
        ("/syncs/{id}/dashboard", "Dashboard"),
        ("/syncs/{id}/destinations/new", "Add destination"),
    ],
)
def test_every_sync_page_has_breadcrumbs(
    path: str, here: str, sync: Sync, make_user: Any, login: Login
) -> None:
    page = login(make_user("sync_manager")).get(path.format(id=sync.id)).text
    crumbs = page.split('class="crumbs"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/syncs">Tools / Sync</a>' in crumbs
    assert f'href="/syncs/{sync.id}/settings">Nightly members</a>' in crumbs
    assert f'aria-current="page">{here}<' in crumbs
    if "settings" not in path:
        assert f'href="/syncs/{sync.id}/settings">Settings</a>' in page  # back to Settings


def test_app_connections_enforce_sqlite_foreign_keys(app: Flask) -> None:
    """A sync's runs go with it through ON DELETE CASCADE; on SQLite that needs the
    engine hooks on every pooled connection, also one opened while the app is created."""
    from sqlalchemy import text

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always enforces foreign keys")
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
