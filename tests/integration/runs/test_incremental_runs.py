"""An incremental sync across a failed run loses nothing and repeats nothing (invariants 2
and 6): the watermark moves only with a created file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loyalty.models import Interaction, InteractionType, Member
from loyalty.services import engagement, members
from tests.integration.runs.conftest import latest
from webapp.extensions import db
from webapp.models.runs import CreationStatus
from webapp.models.syncs import Sync
from webapp.services import runs

pytestmark = pytest.mark.integration


def record(member: Member, kind: InteractionType, count: int) -> list[int]:
    made = [
        engagement.record_interaction(db.session(), member, kind, audit_user="A" * 120)
        for _ in range(count)
    ]
    db.session.commit()
    return [m.id for m in made]


def exported_ids(app: Flask, sync: Sync) -> list[int]:
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED, instance.error
    (original,) = instance.originals
    lines = (
        (Path(app.config["EXPORT_DIR"]) / original.path).read_bytes().decode("utf-8").split("\r\n")
    )
    return [int(line.split("|")[0]) for line in lines[1:] if line]


def test_incremental_sync_across_a_failed_run(
    app: Flask,
    sftp_destination: Any,
    run_jobs: Callable[[], None],
    small_disk: Callable[[Path, int], Path],
    tmp_path: Path,
) -> None:
    member = members.enrol_member(db.session(), first_name="Ines", last_name="Ortega")
    kind = InteractionType(ext_ref="EMAIL_ADD", name="Email Added")
    db.session.add(kind)
    db.session.commit()
    sync = Sync(type_key="interaction", name="Interactions")
    db.session.add(sync)
    db.session.commit()
    sftp_destination(sync)

    first = record(member, kind, 2)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert exported_ids(app, sync) == first
    watermark_after_first = db.session.get(Sync, sync.id).watermark

    # Run 2 fails while writing its file: the disk under the export folder is full.
    second = record(member, kind, 3000)
    normal_exports = app.config["EXPORT_DIR"]
    small = tmp_path / "small"
    small.mkdir()
    app.config["EXPORT_DIR"] = str(small_disk(small, 64 * 1024))
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    failed = latest(sync)
    assert failed.creation_status == CreationStatus.FAILED
    assert (failed.error or "").startswith("No space left on the export volume (at least ")
    assert " needed, " in (failed.error or "") and " free)" in (failed.error or "")
    assert failed.files == []
    assert db.session.get(Sync, sync.id).watermark == watermark_after_first

    # Run 3 holds everything run 2 would have, and what came after; nothing twice.
    app.config["EXPORT_DIR"] = normal_exports
    third = record(member, kind, 5)
    runs.start_manual_run(sync, user=None, actor="test")
    run_jobs()
    assert exported_ids(app, sync) == second + third
    everything = db.session.scalars(db.select(Interaction.id).order_by(Interaction.id)).all()
    assert sorted(first + second + third) == list(everything)
