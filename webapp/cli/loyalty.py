"""``flask loyalty``: bulk loads of loyalty data (issue 12) from CSV or NDJSON files.

``flask loyalty load KIND FILE`` applies the file as an upsert through the domain
services (``loyalty.loading``); ``kinds`` lists what can be loaded and ``template KIND``
writes a CSV to start from. Exit status: 0 when every row was loaded, 1 when rows were
rejected and the others kept (skip-bad-rows), 2 when nothing was stored (a refused
file, or a rejected row in all-or-nothing mode).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from loyalty.loading import KINDS, LoadRefused, LoadResult, get_kind, run_load
from loyalty.loading.loader import MODES
from webapp.extensions import db
from webapp.services.loads import record_load, record_refusal

loyalty_cli = AppGroup("loyalty", help="Loyalty data: bulk loads of CSV and NDJSON files.")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Progress:
    """One line on stderr, rewritten at most once a second (and once at the end)."""

    def __init__(self) -> None:
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, result: LoadResult) -> None:
        now = time.monotonic()
        if now - self.last < 1.0 and result.seconds and self.last:
            return
        self.last = now
        line = (
            f"read {result.read:,} · changed {result.changed:,} · unchanged "
            f"{result.unchanged:,} · rejected {result.rejected:,} · {result.rate:,.0f} rows/s"
        )
        click.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)

    def done(self) -> None:
        if self.tty:
            click.echo("", err=True)


def _refuse(message: str, kind: str, path: Path, mode: str, dry_run: bool) -> None:
    db.session.rollback()
    sha = _sha256(path) if path.is_file() else ""
    record_refusal(kind, path.name, mode, dry_run, message, sha)
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@loyalty_cli.command("load")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mode", type=click.Choice(MODES), default="all-or-nothing", show_default=True)
@click.option("--dry-run", is_flag=True, help="check and count everything, store nothing")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ndjson"]),
    default=None,
    help="default: from the file name (.csv, .ndjson/.jsonl)",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="write the rejected rows (line, field, value, reason) to this CSV",
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option(
    "--batch-size", type=click.IntRange(min=1, max=100_000), default=1000, show_default=True
)
def load_command(
    kind: str,
    file: Path,
    mode: str,
    dry_run: bool,
    fmt: str | None,
    report: Path | None,
    as_json: bool,
    batch_size: int,
) -> None:
    """Load FILE as rows of KIND (see ``flask loyalty kinds``)."""
    if kind not in KINDS:
        _refuse(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)}).", kind, file, mode, dry_run)
    if not file.is_file():
        click.echo(f"Error: {file} is not a readable file.", err=True)
        sys.exit(2)
    progress = _Progress()
    try:
        with file.open("rb") as stream:
            result = run_load(
                db.session(),
                get_kind(kind),
                stream,
                filename=file.name,
                fmt=fmt,
                mode=mode,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress,
            )
    except LoadRefused as exc:
        _refuse(str(exc), kind, file, mode, dry_run)
        return
    except OSError as exc:
        click.echo(f"Error: cannot read {file}: {exc.strerror or exc}.", err=True)
        sys.exit(2)
    progress.done()
    record_load(result)
    if report is not None:
        with report.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "field", "value", "reason"])
            for error in result.errors:
                writer.writerow([error.line, error.field, error.value, error.reason])
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2))
    else:
        click.echo(
            f"{result.outcome}: {result.read:,} rows read, {result.applied:,} applied, "
            f"{result.unchanged:,} unchanged, {result.rejected:,} rejected "
            f"({result.seconds:.1f} s, {result.rate:,.0f} rows/s)."
        )
        if result.failure:
            click.echo(f"Stopped: {result.failure}", err=True)
        for error in result.errors[:20]:
            where = f" {error.field}" if error.field else ""
            click.echo(f"  line {error.line}{where}: {error.reason}", err=True)
        if len(result.errors) > 20:
            click.echo(f"  ... {len(result.errors) - 20:,} more (use --report FILE)", err=True)
    if not result.stored and not dry_run:
        sys.exit(2)
    if result.rejected or result.failure:
        sys.exit(1)


@loyalty_cli.command("kinds")
def kinds_command() -> None:
    """List the kinds a load can hold, with the column each is matched on."""
    for kind in KINDS.values():
        click.echo(f"{kind.name:<14} matched on {kind.key:<8} {kind.title}")


@loyalty_cli.command("template")
@click.argument("kind")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="default: KIND.csv in the current directory",
)
def template_command(kind: str, output: Path | None) -> None:
    """Write a CSV with every column of KIND and one example row."""
    if kind not in KINDS:
        click.echo(f"Error: unknown kind {kind!r} (kinds: {', '.join(KINDS)}).", err=True)
        sys.exit(2)
    declared = get_kind(kind)
    target = output or Path(f"{kind}.csv")
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(declared.field_names())
        writer.writerow([declared.example.get(name, "") for name in declared.field_names()])
    click.echo(f"Wrote {target}.")
