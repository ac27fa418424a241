"""Helpers shared by the CLI command groups."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from flask import current_app
from redis import RedisError

from loyalty.errors import NotFound, ValidationError
from loyalty.text import CONTROL, MAX_ID
from webapp.extensions import db


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn service errors into a clear message and exit status 2, with nothing stored."""
    try:
        yield
    except ValidationError as exc:
        db.session.rollback()
        for field, message in exc.errors.items():
            prefix = "" if field == "__all__" else f"{field}: "
            click.echo(f"Error: {prefix}{message}", err=True)
        sys.exit(2)
    except NotFound as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except RedisError as exc:
        db.session.rollback()
        redis_down(exc)


# EX_TEMPFAIL (sysexits.h): try again later; what a supervisor or a script can retry on.
REDIS_DOWN_STATUS = 75


def redis_down(exc: BaseException | None = None, saved: str = "") -> NoReturn:
    """Exit 75 with one clear line, never a traceback, when Redis does not answer."""
    parts = urlsplit(str(current_app.config.get("REDIS_URL") or ""))
    where = f"{parts.hostname}:{parts.port or 6379}"  # never the password in the URL
    reason = f" ({type(exc).__name__})" if exc is not None else ""
    click.echo(f"Error: Redis at {where} is not answering{reason}. {saved}".rstrip(), err=True)
    sys.exit(REDIS_DOWN_STATUS)


def read_secret(prompt: str, confirm: bool = True) -> str:
    """A secret from stdin when piped (automation), or from a hidden prompt."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        result[key.strip()] = value.strip()
    return result


def emit(
    rows: list[dict[str, Any]],
    as_json: bool,
    columns: list[str],
    fmt: Callable[[dict[str, Any]], str],
) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    click.echo("  ".join(columns))
    for row in rows:
        click.echo(fmt(row))


# Ids the database can hold: a larger number names nothing (and PostgreSQL would refuse
# the query), so click says so before any service is called.
ID = click.IntRange(min=1, max=MAX_ID)


class CleanPath(click.Path):
    """``click.Path`` that refuses a control character or NUL with a message: the
    operating system would raise ValueError ("embedded null byte") on a NUL."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and CONTROL.search(value):
            self.fail("a path with control characters names no file.", param, ctx)
        return super().convert(value, param, ctx)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: machine-readable output (one JSON document on stdout)."""
    return click.option("--json", "as_json", is_flag=True, help="print JSON")(function)


def yes_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")(function)


def ask(lines: list[str], yes: bool) -> bool:
    """Say what will happen, then ask (on stderr, so ``--json`` output stays parsable).

    The answer is read from the terminal or stdin (``echo y | flask ...``); no answer
    (end of input) is "no", so a script that forgot ``--yes`` changes nothing.
    """
    for line in lines:
        click.echo(line, err=True)
    if yes:
        return True
    try:
        return bool(click.confirm("Continue?", default=False, err=True))
    except click.Abort:
        return False


def confirm(lines: list[str], yes: bool) -> None:
    """:func:`ask`, and exit with status 1 and nothing changed unless the answer is yes."""
    if not ask(lines, yes):
        click.echo("Nothing was changed (pass --yes to confirm without a prompt).", err=True)
        sys.exit(1)


def emit_one(row: dict[str, Any], as_json: bool, text: str | list[str]) -> None:
    """One object: as JSON, or as the given human lines."""
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    for line in [text] if isinstance(text, str) else text:
        click.echo(line)


def emit_table(
    rows: list[dict[str, Any]], as_json: bool, columns: list[tuple[str, Callable[[Any], Any]]]
) -> None:
    """Rows as JSON, or as a table whose columns are as wide as their widest cell."""
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    headers = [header for header, _ in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row_cells in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row_cells, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # One line per row: a name with a line break must not start a fake row.
    return CONTROL.sub(" ", str(value))


def human_bytes(size: int) -> str:
    """``1,234 bytes``, ``5.2 MiB``: what a confirmation says will be lost."""
    if size < 1024:
        return f"{size:,} bytes"
    units = ("KiB", "MiB", "GiB", "TiB")
    value, index = size / 1024, 0
    while value >= 1024 and index < len(units) - 1:
        value, index = value / 1024, index + 1
    return f"{value:,.1f} {units[index]}"
