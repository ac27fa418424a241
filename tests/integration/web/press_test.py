"""Press "Test connection" as the page does: POST the form, let a worker run the job,
then fetch the result box the page polls."""

from __future__ import annotations

import re
from typing import Any

from rq import SimpleWorker

from webapp.extensions import db
from webapp.services.dispatch import queue_names
from webapp.services.redis_client import redis_client

POLL = re.compile(r'hx-get="([^"]+)" hx-trigger="every 1s"')


def run_worker() -> None:
    SimpleWorker(list(queue_names()), connection=redis_client()).work(
        burst=True, with_scheduler=False
    )
    db.session.expire_all()


def press_test(client: Any, sync_id: int, data: dict[str, str]) -> Any:
    """The final result box's response (after the job ran)."""
    started = client.post(
        f"/syncs/{sync_id}/destinations/test", data=data, headers={"HX-Request": "true"}
    )
    match = POLL.search(started.text)
    if match is None:  # refused at once (form error, rate limit): no job was queued
        return started
    run_worker()
    result = client.get(match.group(1), headers={"HX-Request": "true"})
    assert "every 1s" not in result.text  # done: the box stops polling
    return result


def ftps_form(vsftpd: Any, folder: str, **overrides: str) -> dict[str, str]:
    """The destination form for the vsftpd fixture (explicit FTPS), as a user fills it in."""
    return {
        "name": "FTPS",
        "host": vsftpd.host,
        "protocol": "ftps_explicit",
        "port": str(vsftpd.port),
        "directory": folder,
        "username": vsftpd.username,
        "password": vsftpd.password,
        "password_confirm": vsftpd.password,
        **overrides,
    }
