"""The out-of-the-box demo that `make run` sets up: a small seeded program, a few demo
syncs, and destinations on the demo receivers (``devservers.receivers``) started beside
the app.

Idempotent: it seeds only an empty program and creates the demo syncs only once (they
are marked ``is_demo`` and labelled in the UI). The demo receivers' host key, certificate
and password live in ``var/demo-receivers/`` and are created here on first use, so the
destinations can pin them before the receivers even start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from devservers.receivers import receiver_settings
from loyalty.models import Descriptor, Member
from webapp.extensions import db
from webapp.models.syncs import Compression, Sync
from webapp.services import destinations, syncs

DEMO_MEMBERS = 2_000


def set_up_demo(root: Path, say: Any = print) -> list[Sync]:
    """Seed an empty program, and create the demo syncs with their two destinations."""
    from devservers.ftps_server import ensure_certificate
    from devservers.sftp_server import fingerprint, load_host_key

    empty = not db.session.scalar(select(func.count()).select_from(Member))
    # End this read before the seed's bulk connection drops and rebuilds indexes: on
    # PostgreSQL an open transaction that has read `members` blocks that DDL for good.
    db.session.rollback()
    if empty:
        from loyalty.demo.activity import simulate
        from loyalty.demo.seed import seed

        say(f"Seeding a demo program of {DEMO_MEMBERS:,} members ...")
        seed(db.engine, DEMO_MEMBERS, seed=1)
        # A few days of changes, so the incremental syncs have something to send.
        simulate(db.session(), 3, seed=1)
        db.session.commit()
    existing = list(
        db.session.scalars(select(Sync).where(Sync.is_demo.is_(True)).order_by(Sync.id))
    )
    if existing:
        return existing
    settings = receiver_settings(root)
    host_key = load_host_key(settings.host_key_path)
    cert_fingerprint = ensure_certificate(settings.cert_path, settings.key_path)
    descriptor = db.session.scalar(select(Descriptor).order_by(Descriptor.id))
    plans: list[tuple[str, str, dict[str, Any], Compression]] = [
        (
            "Demo · Member descriptor",
            "member_descriptor",
            {"descriptor_id": descriptor.id} if descriptor else {},
            Compression.NONE,
        ),
        ("Demo · Reward types", "reward_type", {}, Compression.NONE),
        ("Demo · Transactions", "transaction", {}, Compression.GZIP),
        ("Demo · Interactions", "interaction", {}, Compression.ZIP),
    ]
    created = []
    for name, key, params, compression in plans:
        try:
            sync = syncs.create_sync(key, name, params, user=None, actor="demo")
        except Exception:
            db.session.rollback()
            continue
        sync.is_demo = True
        sync.compression = compression
        common = {
            "username": settings.username,
            "password": settings.password,
            "password_confirm": settings.password,
        }
        destinations.add_destination(
            sync,
            {
                **common,
                "name": "Demo SFTP receiver",
                "host": "127.0.0.1",
                "protocol": "sftp",
                "port": str(settings.sftp_port),
                "retries": "2",
                "host_key_fingerprint": fingerprint(host_key),
                "host_key_type": host_key.get_name(),
            },
            user=None,
            actor="demo",
        )
        destinations.add_destination(
            sync,
            {
                **common,
                "name": "Demo FTPS receiver",
                "host": "127.0.0.1",
                "protocol": "ftps_explicit",
                "port": str(settings.ftps_port),
                "retries": "2",
                "tls_fingerprint": cert_fingerprint,
            },
            user=None,
            actor="demo",
        )
        created.append(sync)
    if created:
        syncs.set_enabled(created[0], True, user=None, actor="demo")
    db.session.commit()
    say(f"Created {len(created)} demo syncs sending to the demo receivers in {settings.folder}.")
    return created
