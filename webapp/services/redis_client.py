"""The app's Redis connection (jobs and live progress).

Created with the app (``create_app`` calls ``init_redis``) rather than on first use: the
web server's threads must never race to create two clients, one of which would be
dropped (and its sockets closed) while another thread still uses it. Creating the client
opens no connection; the pool connects on first use.
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

EXTENSION = "loyalty_sync.redis"


def init_redis(app: Flask) -> None:
    app.extensions[EXTENSION] = Redis.from_url(
        app.config["REDIS_URL"], socket_timeout=10, socket_connect_timeout=5
    )


def redis_client() -> Redis:
    client: Redis = current_app.extensions[EXTENSION]
    return client
