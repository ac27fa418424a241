"""The Test connection job: runs in a worker, so a slow or silent server holds a worker
for at most the test's 10 s deadline, never a web thread.

It takes ids and the form's plain values; the user is loaded and their permission checked
again here, a stored password or key is read from the database by
:func:`webapp.services.connection_test.run` itself, and one typed into the form arrives
Fernet-encrypted (``sealed``). The outcome goes to Redis under the page's token.
"""

from __future__ import annotations

from jobs.context import job_context
from webapp.extensions import db
from webapp.models.syncs import Destination
from webapp.models.users import User
from webapp.services import connection_test
from webapp.services.permissions import SYNC_CONFIGURE, has_permission


def test(
    token: str,
    sync_id: int,
    destination_id: int | None,
    user_id: int,
    plain: dict[str, str],
    sealed: str | None,
) -> str:
    with job_context():
        user = db.session.get(User, user_id)
        if user is None or not has_permission(user, SYNC_CONFIGURE):
            connection_test.give_up(token, user_id, "Your role no longer allows this test.")
            return "refused"
        destination = db.session.get(Destination, destination_id) if destination_id else None
        if destination_id and (destination is None or destination.sync_id != sync_id):
            connection_test.give_up(token, user_id, "The destination was deleted.")
            return "gone"
        outcome = connection_test.run_job(token, sync_id, destination, user, plain, sealed)
        db.session.commit()  # the audit event of the test
        return "ok" if outcome.ok else "failed"
