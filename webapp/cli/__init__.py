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
    app.cli.add_command(tokens_cli)
    # ``flask worker`` and ``flask scheduler`` live in jobs.worker and come in as plugins
    # (the ``flask.commands`` entry points in pyproject.toml): the web app never imports
    # the jobs package.
