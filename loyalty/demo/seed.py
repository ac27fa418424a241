"""``seed``: build a realistic, deterministic loyalty program of N members, fast.

Deterministic: the data is a function of (members, seed, as_of); ``as_of`` (default: today,
UTC) is the day the seeded history ends, at 00:00 UTC, so the same three give the same
rows on any day and on either database. Every chunk of members has its own random stream
(see ``people``), which also lets ``workers`` processes generate chunks in parallel while
this process writes the previous ones.

Fast: rows go to the database through ``bulk.BulkWriter`` (SQLite ``executemany`` /
PostgreSQL ``COPY``), a chunk per transaction, with progress reported after each chunk.

The seed writes nothing to the change log: the seeded history is the program as it stood
before change capture began, so the first incremental export after a seed holds only what
changed since (e.g. ``flask demo activity``). Cumulative syncs see all of it at once.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select

from loyalty.demo import people, reference
from loyalty.demo.bulk import BulkWriter, Formats, TablesBusy
from loyalty.demo.schema import TABLES, Chunk
from loyalty.models import Location, Member

Progress = Callable[[str], None]

# Reference tables in the order their rows must go in (parents first).
REFERENCE_TABLES = (
    "business_units", "pos_categories", "locations", "products", "account_id_types", "descriptors",
    "ranking_sets", "ranking_levels", "reward_categories", "reward_types", "transaction_types",
    "custom_field_definitions", "clubs", "interaction_types", "interaction_events", "question_sets",
    "questions", "question_choices", "case_categories", "case_queues", "campaigns", "promotions",
    "location_custom_values", "product_custom_values",
)  # fmt: skip


class SeedError(Exception):
    """The database cannot be seeded (e.g. it already holds a program)."""


@dataclass
class SeedResult:
    members: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def seed(
    engine: Engine,
    members: int,
    *,
    seed: int = 1,
    as_of: date | None = None,
    chunk_size: int = 5000,
    workers: int = 1,
    progress: Progress | None = None,
) -> SeedResult:
    """Seed an empty loyalty database with ``members`` members (see the module docstring)."""
    if members < 1:
        raise SeedError("Seed at least one member.")
    if chunk_size < 1:
        raise SeedError("The chunk size is at least 1.")
    say = progress or (lambda _message: None)
    with engine.connect() as connection:
        existing = connection.execute(select(func.count()).select_from(Member)).scalar_one()
        locations = connection.execute(select(func.count()).select_from(Location)).scalar_one()
    if existing or locations:
        raise SeedError(
            f"The database already holds a loyalty program ({existing} members, {locations} "
            "locations); seed an empty one."
        )
    as_of = as_of or datetime.now(UTC).date()
    now = people.as_of_epoch(as_of)
    started = time.perf_counter()
    writer = BulkWriter(engine)
    try:
        try:
            writer.defer_indexes([*REFERENCE_TABLES, *TABLES])
            writer.defer_foreign_keys([*REFERENCE_TABLES, *TABLES])
        except TablesBusy as exc:
            raise SeedError(str(exc)) from exc
        rows, ref = reference.build(
            members, random.Random(f"{seed}:reference"), Formats(writer.dialect), as_of, now
        )
        for table in REFERENCE_TABLES:
            columns, data = rows[table]
            writer.insert(table, columns, data)
        writer.commit()
        say(
            f"Reference data: {len(ref.locations)} locations, {len(ref.products)} products "
            f"({writer.dialect}, seed {seed}, history up to {as_of})."
        )
        done = 0
        for first, last, chunk in _chunks(
            members, chunk_size, seed, ref, writer.dialect, now, workers
        ):
            for table, columns in TABLES.items():
                if chunk[table]:
                    writer.insert(table, columns, chunk[table])
            writer.commit()
            done += last - first + 1
            elapsed = time.perf_counter() - started
            say(
                f"{done:>12,} / {members:,} members ({100 * done / members:5.1f}%)  "
                f"{elapsed:7.1f} s  {done / elapsed:9,.0f} members/s"
            )
        say("Building indexes, sequences and statistics...")
        writer.restore_indexes()
        writer.finish([*REFERENCE_TABLES, *TABLES])
    finally:
        try:
            writer.rollback()
            writer.restore_indexes()  # also after a failure: the schema stays whole
        finally:
            writer.close()
    return SeedResult(members, time.perf_counter() - started, dict(writer.rows_written))


def _ranges(members: int, chunk_size: int) -> Iterator[tuple[int, int, int]]:
    for number, first in enumerate(range(1, members + 1, chunk_size)):
        yield number, first, min(members, first + chunk_size - 1)


def _chunks(
    members: int,
    chunk_size: int,
    seed: int,
    ref: reference.Reference,
    dialect: str,
    now: float,
    workers: int,
) -> Iterator[tuple[int, int, Chunk]]:
    """Generated chunks in order; with workers, generated ahead in other processes."""
    if workers <= 1:
        for number, first, last in _ranges(members, chunk_size):
            yield first, last, people.generate_chunk(seed, number, first, last, ref, dialect, now)
        return
    # "spawn": the workers start clean, without copies of this process's database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: list[tuple[int, int, Future[Chunk]]] = []
        ranges = _ranges(members, chunk_size)
        for number, first, last in ranges:
            pending.append(
                (
                    first,
                    last,
                    pool.submit(
                        people.generate_chunk, seed, number, first, last, ref, dialect, now
                    ),
                )
            )
            if len(pending) > workers:  # a bounded read-ahead keeps memory flat
                first_done, last_done, future = pending.pop(0)
                yield first_done, last_done, future.result()
        for first_done, last_done, future in pending:
            yield first_done, last_done, future.result()
