"""``flask demo``: seed a demo loyalty program and simulate days of activity on it."""

from __future__ import annotations

import os
from datetime import datetime

import click
from flask.cli import AppGroup

from webapp.extensions import db

demo_cli = AppGroup("demo", help="Demo and load data: a seeded program and simulated activity.")


@demo_cli.command("seed")
@click.option("--members", type=click.IntRange(min=1), required=True, help="how many members")
@click.option(
    "--seed", "seed_value", type=int, default=1, show_default=True, help="same seed, same data"
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="the day the seeded history ends (default today, UTC)",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="generator processes (default: 1 below 50,000 members, else the CPU count)",
)
@click.option("--chunk-size", type=click.IntRange(min=100), default=5000, show_default=True)
def seed_command(
    members: int, seed_value: int, as_of: datetime | None, workers: int | None, chunk_size: int
) -> None:
    """Fill an empty database with a realistic program (bulk inserts; no change log)."""
    from loyalty.demo.seed import SeedError, seed

    if workers is None:
        workers = 1 if members < 50_000 else (os.cpu_count() or 1)
    try:
        result = seed(
            db.engine,
            members,
            seed=seed_value,
            as_of=as_of.date() if as_of else None,
            chunk_size=chunk_size,
            workers=workers,
            progress=click.echo,
        )
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Seeded {result.members:,} members ({result.total_rows:,} rows) in {result.seconds:.1f} s."
    )


@demo_cli.command("activity")
@click.option("--days", type=click.IntRange(min=1, max=366), required=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
@click.option(
    "--per-day",
    type=click.IntRange(min=1),
    default=None,
    help="changes per day (default: 2% of the members, 30 to 1,000)",
)
def activity_command(days: int, seed_value: int, per_day: int | None) -> None:
    """Simulate DAYS days of changes (up to now) through the domain services."""
    from loyalty.demo.activity import ActivityError, simulate

    try:
        result = simulate(db.session(), days, seed=seed_value, per_day=per_day, progress=click.echo)
    except ActivityError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    total = sum(result.changes.values())
    click.echo(
        f"{total:,} changes over {days} day(s), {result.change_log_rows:,} change-log rows, "
        f"{sum(result.refused.values()):,} refused by the rules."
    )
    for label, count in sorted(result.changes.items()):
        click.echo(f"  {label:<28}{count:>8,}")


@demo_cli.command("setup")
def setup_command() -> None:
    """Seed a small program (when empty) and create the demo syncs and their destinations."""
    from pathlib import Path

    from webapp.services.demo_setup import set_up_demo

    created = set_up_demo(Path(__file__).resolve().parents[2], say=click.echo)
    click.echo(
        f"Demo syncs ({len(created)}), delivering to the demo receivers: "
        + ", ".join(f"#{sync.id} {sync.name}" for sync in created)
    )


@demo_cli.command("receivers")
def receivers_command() -> None:
    """Run the demo SFTP and FTPS receivers (files land in var/demo-receivers/)."""
    import threading
    from pathlib import Path

    from devservers.ftps_server import DemoExtraMissing
    from devservers.receivers import ReceiverPortBusy, receiver_settings, start_receivers

    settings = receiver_settings(Path(__file__).resolve().parents[2])
    try:
        with start_receivers(settings):
            click.echo(
                f"Demo receivers: SFTP 127.0.0.1:{settings.sftp_port} -> {settings.sftp_folder}, "
                f"FTPS 127.0.0.1:{settings.ftps_port} -> {settings.ftps_folder} "
                f"(user {settings.username})"
            )
            threading.Event().wait()  # until the process is stopped (Ctrl-C, honcho)
    except (ReceiverPortBusy, DemoExtraMissing) as error:
        raise click.ClickException(str(error)) from error
