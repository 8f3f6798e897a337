"""CPU per streamed token of reading Claude's stream, alone (no Reflex, no pushes).

`python -m benchmarks.read_cost [--streams 200] [--tokens 500] [--interval 0.15]
[--env AI_CHAT_CHUNK_MERGER=0 ...]`

N concurrent replies at 50 tok/s from the standalone simulator (its own process, so its CPU
is not counted), read with `stream_reply` through `make_client`'s connections and paced as the
app paces them (a batch per push interval). Prints this process's CPU time per token.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time

import uvloop

from ai_chat.config import load_settings
from ai_chat.llm.client import make_client
from ai_chat.llm.events import TextDelta
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _read_one(client, i: int, tokens: int, interval: float) -> int:
    loop = asyncio.get_running_loop()
    last: list[float] = []

    async def pace() -> None:  # one batch per push interval, as `PushCoalescer` paces
        if last and (wait := last[0] + interval - loop.time()) > 0:
            await asyncio.sleep(wait)
        last[:] = [loop.time()]

    content = f"read {i} [[sim tokens={tokens} tps=50 ttft=0.1]]"
    request = ReplyRequest("claude-sonnet-5-5", [{"role": "user", "content": content}], 4000)
    events = stream_reply(client, request, RetryPolicy(), pace=pace)
    return sum([event.count async for event in events if isinstance(event, TextDelta)])


async def _measure(
    base_url: str, streams: int, tokens: int, interval: float, env: dict[str, str]
) -> None:
    client = make_client(load_settings({**env, "ANTHROPIC_BASE_URL": base_url}))
    await _read_one(client, 0, 20, interval)  # warm-up: imports, the first connection
    cpu, wall = time.process_time(), time.monotonic()
    got = await asyncio.gather(*(_read_one(client, i, tokens, interval) for i in range(streams)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    total = sum(got)
    print(
        f"{streams} streams x {tokens} tokens: {total} tokens in {wall:.1f} s, "
        f"CPU {cpu:.2f} s = {1e6 * cpu / total:.1f} µs per token"
    )
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=500)
    # 0.15 s, the app's cap until 25b5bdc (now 0.2 s): kept, so figures stay comparable
    # with the published yardsticks
    parser.add_argument("--interval", type=float, default=0.15, help="push interval (s)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the client, e.g. AI_CHAT_CHUNK_MERGER=0 or AI_CHAT_STOCK=1",
    )
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    port = _free_port()
    sim = subprocess.Popen(
        [sys.executable, "-m", "ai_chat.simulator", "--port", str(port), "--log-level", "warning"]
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        uvloop.run(
            _measure(f"http://127.0.0.1:{port}", args.streams, args.tokens, args.interval, env)
        )
    finally:
        sim.terminate()
        sim.wait(10)


if __name__ == "__main__":
    main()
