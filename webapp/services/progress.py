"""Live progress of runs, kept in Redis so the dashboard can poll it cheaply.

The database holds the outcome; Redis holds what changes several times a second
(rows written, bytes sent). Keys carry the install's prefix and expire after a day.
"""

from __future__ import annotations

from typing import Any

from redis import RedisError

from webapp.services.installation import queue_prefix
from webapp.services.redis_client import redis_client

TTL_SECONDS = 24 * 3600


def _key(kind: str, object_id: int) -> str:
    return f"{queue_prefix()}:progress:{kind}:{object_id}"


def publish(kind: str, object_id: int, **values: Any) -> None:
    """Best effort: progress must never fail a run."""
    try:
        client = redis_client()
        key = _key(kind, object_id)
        pipe = client.pipeline()
        pipe.hset(key, mapping={k: str(v) for k, v in values.items()})
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
    except RedisError:
        pass


def read(kind: str, object_id: int) -> dict[str, str]:
    try:
        raw = redis_client().hgetall(_key(kind, object_id))
    except RedisError:
        return {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def read_run(
    instance_id: int | None, transfer_ids: list[int]
) -> tuple[dict[str, str], dict[int, dict[str, str]]]:
    """A run's build progress (when ``instance_id``) and its transfers' in one round trip."""
    keys = ([_key("instance", instance_id)] if instance_id is not None else []) + [
        _key("transfer", t) for t in transfer_ids
    ]
    if not keys:
        return {}, {}
    try:
        pipe = redis_client().pipeline()
        for key in keys:
            pipe.hgetall(key)
        results = [{k.decode(): v.decode() for k, v in raw.items()} for raw in pipe.execute()]
    except RedisError:
        return {}, {}
    build = results.pop(0) if instance_id is not None else {}
    return build, dict(zip(transfer_ids, results, strict=True))
