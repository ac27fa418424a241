"""Expiry warnings with a clock: recipient keys and pinned FTPS certificates warn 30 and
7 days ahead, once per threshold, by mail and on the console; the certificate's notAfter
is recorded when it is pinned from the destination form (real vsftpd)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from jobs.tick import tick
from loyalty.db import utcnow
from tests.integration.runs import test_notify
from tests.integration.runs.test_notify import Inbox
from tests.integration.web.press_test import ftps_form, press_test
from webapp.extensions import db
from webapp.models.notifications import ExpiryWarning
from webapp.models.syncs import Destination, RecipientKey, Sync

pytestmark = pytest.mark.integration
smtp = test_notify.smtp  # the real SMTP server the failure-notice tests use


def warnings_mailed(inbox: Inbox) -> list[str]:
    subjects = [" ".join(m["Subject"].split()) for m in inbox.messages]  # unfolded
    return [s for s in subjects if "expire" in s]


def test_recipient_key_warns_at_30_and_7_days_once_each(
    app: Flask, smtp: Inbox, make_sync: Any, make_user: Any, login: Any
) -> None:
    sync = make_sync("Encrypted to CRM")
    sync.notify_emails = ["ops@example.com"]
    expires = datetime(2026, 7, 1, 12, tzinfo=UTC)
    db.session.add(
        RecipientKey(
            sync_id=sync.id,
            fingerprint="A" * 40,
            user_ids="CRM <crm@example.com>",
            expires_at=expires,
            armored="(public key)",
        )
    )
    db.session.commit()
    tick(expires - timedelta(days=31))
    assert warnings_mailed(smtp) == []
    tick(expires - timedelta(days=30))
    tick(expires - timedelta(days=29))
    assert len(warnings_mailed(smtp)) == 1
    assert "expires in 30 day(s)" in warnings_mailed(smtp)[0]
    tick(expires - timedelta(days=7))
    tick(expires - timedelta(days=6))
    tick(expires - timedelta(days=1))
    mailed = warnings_mailed(smtp)
    assert len(mailed) == 2 and "expires in 7 day(s)" in mailed[1]
    assert sorted(
        w.threshold_days
        for w in db.session.scalars(select(ExpiryWarning).where(ExpiryWarning.sync_id == sync.id))
    ) == [7, 30]
    # The console: shown while the key has not long expired (the real clock is after it
    # here, so move the key's expiry into the future to see the badge).
    for warning in db.session.scalars(select(ExpiryWarning)):
        warning.expires_at = utcnow() + timedelta(days=5)
    db.session.commit()
    web = login(make_user("viewer"))
    assert '<span class="status expiring"' in web.get("/syncs").text
    assert "PGP recipient key" in web.get(f"/syncs/{sync.id}/dashboard").text


def test_a_key_added_inside_7_days_gets_only_the_7_day_warning(
    app: Flask, smtp: Inbox, make_sync: Any
) -> None:
    sync = make_sync()
    sync.notify_emails = ["ops@example.com"]
    expires = datetime(2026, 7, 1, tzinfo=UTC)
    db.session.add(
        RecipientKey(sync_id=sync.id, fingerprint="B" * 40, expires_at=expires, armored="x")
    )
    db.session.commit()
    tick(expires - timedelta(days=5))
    tick(expires - timedelta(days=4))
    assert len(warnings_mailed(smtp)) == 1
    assert "expires in 5 day(s)" in warnings_mailed(smtp)[0]


def test_pinned_ftps_certificate_records_its_not_after_and_warns(
    app: Flask, smtp: Inbox, make_sync: Any, vsftpd_server: Any, make_user: Any, login: Any
) -> None:
    sync: Sync = make_sync("FTPS partner")
    sync.notify_emails = ["ops@example.com"]
    db.session.commit()
    client = login(make_user("sync_manager"))
    remote, _ = vsftpd_server.fresh_dir()
    form = ftps_form(vsftpd_server, remote, retries="0")
    page = press_test(client, sync.id, form).text  # the test runs as a job; its result box
    assert vsftpd_server.cert_fingerprint in page  # self-signed: refused, shown for pinning
    (not_after,) = re.findall(r'name="tls_not_after" value="([^"]+)"', page)
    saved = client.post(
        f"/syncs/{sync.id}/destinations/new",
        data={
            **form,
            "tls_fingerprint": vsftpd_server.cert_fingerprint,
            "tls_not_after": not_after,
        },
    )
    assert saved.status_code == 302, saved.text
    destination = db.session.scalar(select(Destination).where(Destination.sync_id == sync.id))
    assert destination is not None and destination.tls_not_after is not None
    # The fixture's certificate is valid for a week.
    assert timedelta(days=6) < destination.tls_not_after - utcnow() <= timedelta(days=7)
    tick(utcnow())
    tick(utcnow())
    (subject,) = warnings_mailed(smtp)
    assert "pinned FTPS certificate of destination FTPS" in subject


def test_a_not_after_for_another_certificate_is_ignored(app: Flask, make_sync: Any) -> None:
    from webapp.services import destinations

    sync = make_sync()
    destination = destinations.add_destination(
        sync,
        {
            "name": "FTPS",
            "host": "ftps.example.com",
            "protocol": "ftps_explicit",
            "username": "u",
            "password": "p",
            "password_confirm": "p",
            "retries": "0",
            "tls_fingerprint": "a" * 64,
            "tls_not_after": "b" * 64 + "@2027-01-01T00:00:00+00:00",
        },
        user=None,
    )
    assert destination.tls_not_after is None
