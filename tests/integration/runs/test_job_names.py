"""The dotted job names RQ stores: today's resolve to the split job modules, and jobs
queued under the previous release's names (``jobs.runs.*``) still run after an upgrade."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from rq.utils import import_attribute

import jobs.build
import jobs.tick
import jobs.transfer
from tests.integration.runs.conftest import latest, received
from webapp.extensions import db
from webapp.models.runs import CreationStatus, TransferStatus
from webapp.services import dispatch, runs
from webapp.services.redis_client import redis_client

pytestmark = pytest.mark.integration


def test_dispatch_names_the_split_job_modules(app: Flask) -> None:
    assert import_attribute(dispatch.BUILD_JOB) is jobs.build.create_files
    assert import_attribute(dispatch.TRANSFER_JOB) is jobs.transfer.transfer
    assert import_attribute(dispatch.TICK_JOB) is jobs.tick.tick


def requeue_under_old_name(queue: Queue, old_name: str) -> list[int]:
    """Replace every job of ``queue`` by the same job as the previous release queued it."""
    ids = [job.args[0] for job in queue.get_jobs()]
    assert ids
    queue.empty()
    for row_id in ids:
        queue.enqueue(old_name, row_id)
    assert {job.func_name for job in queue.get_jobs()} == {old_name}
    return ids


def work(queue: Queue) -> None:
    SimpleWorker([queue], connection=redis_client()).work(burst=True, with_scheduler=False)
    db.session.expire_all()


def test_jobs_queued_before_an_upgrade_still_run(
    app: Flask, make_sync: Any, sftp_destination: Any
) -> None:
    sync = make_sync(rows=20)
    _, folder = sftp_destination(sync)
    runs.start_manual_run(sync, user=None, actor="test")
    builds, transfers = dispatch.queue("builds"), dispatch.queue("transfers")

    requeue_under_old_name(builds, "jobs.runs.create_files")
    work(builds)
    instance = latest(sync)
    assert instance.creation_status == CreationStatus.SUCCEEDED

    requeue_under_old_name(transfers, "jobs.runs.transfer")
    work(transfers)
    instance = latest(sync)
    assert [t.status for t in instance.transfers] == [TransferStatus.SUCCEEDED]
    assert received(folder) == {f.name: f.sha256 for f in instance.deliverables}
    assert builds.failed_job_registry.count == transfers.failed_job_registry.count == 0
