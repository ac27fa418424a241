"""Flask CLI commands, so that automation and operations need no browser.

Commands act through the same services as the web pages. They run as the operating
system user (audited as ``cli:<name>``): whoever can run them already controls the
server, its configuration and its database.
"""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from webapp.cli.demo import demo_cli
    from webapp.cli.ops import ops_cli, secrets_cli
    from webapp.cli.sync import sync_cli
    from webapp.cli.tokens import tokens_cli
    from webapp.cli.users import users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(secrets_cli)
    app.cli.add_command(ops_cli)
    app.cli.add_command(demo_cli)

    # Issue 13, CLI parity: the remaining UI actions (docs/cli.md).
    from webapp.cli import destinations as destination_commands
    from webapp.cli import sync_actions
    from webapp.cli.audit import audit_cli
    from webapp.cli.runs import runs_cli, transfers_cli
    from webapp.cli.webhooks import webhooks_cli

    for command in (*destination_commands.COMMANDS, *sync_actions.COMMANDS):
        sync_cli.add_command(command)
    app.cli.add_command(runs_cli)
    app.cli.add_command(transfers_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(tokens_cli)
    # Issue 12, bulk loads of loyalty data.
    from webapp.cli.loyalty import loyalty_cli

    app.cli.add_command(loyalty_cli)
    # ``flask worker`` and ``flask scheduler`` live in jobs.worker and come in as plugins
    # (the ``flask.commands`` entry points in pyproject.toml): the web app never imports
    # the jobs package.
