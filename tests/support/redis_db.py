"""A Redis database of our own on the shared local Redis.

Other engineers' tests share this Redis: a test or benchmark takes an EMPTY database
number, so flushing it can't touch anyone else's data.
"""

from __future__ import annotations

import redis

HOST, PORT = "127.0.0.1", 6379


def free_db(candidates: range = range(15, 7, -1)) -> int:
    """An empty Redis database number (8..15, highest first)."""
    for db in candidates:
        if redis.Redis(host=HOST, port=PORT, db=db).dbsize() == 0:
            return db
    raise RuntimeError("no empty Redis database in 8..15")


def flush(db: int) -> None:
    redis.Redis(host=HOST, port=PORT, db=db).flushdb()
