"""Redis commands issued by the app, counted per database with MONITOR.

`INFO commandstats` is server-wide and other engineers' tests share this Redis; MONITOR
lines carry the database number (``+1700000000.123 [9 127.0.0.1:5000] "GET" "k"``), so
only our database's commands are counted (an empty one: tests/support/redis_db.py).
Commands run inside Lua scripts show as ``[9 lua]`` and are counted apart: they are work,
but not round trips.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from typing import Any

from tests.support.redis_db import HOST, PORT


def _monitor(db: int, seconds: float) -> tuple[Counter[str], Counter[str]]:
    commands: Counter[str] = Counter()
    in_lua: Counter[str] = Counter()
    tag = b"[%d" % db
    buf = b""
    deadline = time.monotonic() + seconds
    with socket.create_connection((HOST, PORT)) as sock:
        sock.sendall(b"MONITOR\r\n")
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(1 << 20)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\r\n")
            for line in lines:
                parts = line.split(b" ", 3)
                if len(parts) < 4 or parts[1] != tag:
                    continue
                name = parts[3].split(b" ", 1)[0].strip(b'"').decode(errors="replace").upper()
                (in_lua if parts[2] == b"lua]" else commands)[name] += 1
    return commands, in_lua


async def ops_per_stream(db: int, streams: int, seconds: float = 5.0) -> dict[str, Any]:
    """Commands/s per running stream over `seconds` of steady streaming."""
    await asyncio.sleep(2.0)  # past the sends' burst of DB/state work
    commands, in_lua = await asyncio.to_thread(_monitor, db, seconds)
    total = sum(commands.values())
    return {
        "redis_ops_per_s": total / seconds,
        "redis_ops_per_s_per_stream": total / seconds / streams,
        "redis_lua_ops_per_s": sum(in_lua.values()) / seconds,
        "redis_commands": dict(commands.most_common(12)),
    }
