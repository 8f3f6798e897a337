"""Stop latency and added first-token latency through Reflex's real event processor.

    .venv/bin/python -m benchmarks.core_latency [--runs 20]

The app's states run in Reflex's event processor (memory state manager) exactly as in the
server; the browser is replaced by a recorder of pushes. The Claude simulator runs over
real HTTP (uvicorn, same process, another thread) and records when it sent the first delta
and when it saw the client disconnect. Wall-clock `time.time()` on both sides.

- first-token overhead: simulator wrote the first delta → the push carrying it was emitted;
- stop latency: the Stop event was enqueued → the simulator saw the connection close,
  mid-stream and during a silent 20 s first-token wait.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid

from ai_chat.generation import runtime
from ai_chat.simulator.server import SimulatorServer
from ai_chat.store import migrations
from tests.state.harness import Tab, event_processor


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(name: str, ms: list[float]) -> str:
    return (
        f"{name:<34} n={len(ms):<3} p50={statistics.median(ms):7.2f} ms  "
        f"p99={_pct(ms, 0.99):7.2f} ms  max={max(ms):7.2f} ms"
    )


async def _until(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.002)


async def _first_token(tab: Tab, sim: SimulatorServer) -> float:
    tag = uuid.uuid4().hex[:10]
    before = len(tab.pushes())
    await tab.send(f"bench [[sim tokens=20 tps=200 ttft=0.2 tag={tag}]]")

    async def done() -> bool:
        return not (await tab.live()).generating

    await _until(done)
    (record,) = sim.recorder.find(tag)
    first_push = next(
        p
        for p in tab.pushes()[before:]
        if any(k.startswith("live_text") and v for sub in p.delta.values() for k, v in sub.items())
    )
    return (first_push.at - record.first_token_at) * 1000


async def _stop(tab: Tab, sim: SimulatorServer, silent: bool) -> float:
    tag = uuid.uuid4().hex[:10]
    directive = "ttft=20 ping=0" if silent else "ttft=0 tps=100"
    await tab.send(f"bench [[sim tokens=3000 {directive} tag={tag}]]")
    await asyncio.to_thread(sim.recorder.wait_for, lambda r: r.tag == tag, 10)
    if not silent:

        async def streaming() -> bool:
            return bool(await tab.live_text())

        await _until(streaming)
    stop_at = time.time()
    await tab.stop()
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=10
    )

    async def done() -> bool:
        return not (await tab.live()).generating

    await _until(done)
    return (record.disconnected_at - stop_at) * 1000


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, SimulatorServer() as sim:
        db = f"sqlite:///{tmp}/bench.db"
        migrations.upgrade(db)
        os.environ.update(
            {
                "ANTHROPIC_API_KEY": "sk-bench",
                "ANTHROPIC_BASE_URL": sim.base_url,
                "AI_CHAT_DB_URL": db,
                "AI_CHAT_MAX_RETRIES": "0",
            }
        )
        runtime.reset()
        results: dict[str, list[float]] = {"first": [], "stop_stream": [], "stop_silent": []}
        async with event_processor() as (processor, manager, namespace):
            tab = Tab(processor, manager, namespace)
            await tab.open()
            await _first_token(tab, sim)  # warm-up (connection pool, imports)
            for _ in range(runs):
                results["first"].append(await _first_token(tab, sim))
                results["stop_stream"].append(await _stop(tab, sim, silent=False))
                results["stop_silent"].append(await _stop(tab, sim, silent=True))
        print(_summary("added first-token latency", results["first"]))
        print(_summary("stop latency, mid-stream", results["stop_stream"]))
        print(_summary("stop latency, silent first token", results["stop_silent"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
