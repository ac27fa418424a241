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
