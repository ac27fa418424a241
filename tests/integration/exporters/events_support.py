"""Helpers for the tests of the reward, reward type, interaction, case and survey exporters.

The shared ones live in ``tests.fixtures``: ``check_golden`` (a file's bytes against
``tests/golden/<key>/<case>.txt``), ``export_around_write`` (an export in its read snapshot
while another connection commits) and ``reference_lines`` (the reference queries' rows).
``renumber`` gives a row written by a domain service the id a spec example row names,
together with its change-log rows, so the service still writes everything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from loyalty.models import ChangeKind, ChangeLog
from tests.fixtures.exports import export_around_write
from tests.fixtures.exports import reference_rows as reference_lines
from tests.fixtures.golden_files import check_golden_bytes as check_golden
from webapp.extensions import db

__all__ = ["check_golden", "export_around_write", "reference_lines", "renumber"]


def renumber(obj: Any, new_id: int, kind: ChangeKind, column: str = "subject_id") -> None:
    """Move ``obj`` (flushed, nothing references it yet) to ``new_id``; its log rows follow."""
    db.session.flush()
    table = type(obj).__table__
    old_id = obj.id
    db.session.execute(update(table).where(table.c.id == old_id).values(id=new_id))
    log = ChangeLog.__table__
    db.session.execute(
        update(log)
        .where(log.c.kind == kind.value, log.c[column] == old_id)
        .values({column: new_id})
    )
    db.session.expunge(obj)
