"""The whole suite: serve each configuration, run its scenarios, collect one results dict."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil

from ai_chat.store import migrations
from ai_chat.store.db import dispose_engines
from benchmarks import redis_ops, servers
from benchmarks.plan import Plan
from benchmarks.rig import Rig, serve
from benchmarks.scenarios import capacity, latency, memory, pushcost, writes
from tests.support.redis_db import flush, free_db
from tests.support.servers import simulator


def _arun(work: Coroutine[Any, Any, Any]) -> Any:
    """One event loop per configuration; the seeding engines are bound to it, so drop them."""

    async def wrapped() -> Any:
        try:
            return await work
        finally:
            await dispose_engines()

    return asyncio.run(wrapped())


def log(message: str) -> None:
    print(message, flush=True)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    git = subprocess.run(
        ["git", "-C", str(servers.ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "reflex": version("reflex"),
        "git": git,
        "loadavg_at_start": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


async def wait_quiet(max_wait_s: float, threshold: float = 1.0) -> float:
    """Wait (at most `max_wait_s`) for the 1-minute load average to drop below `threshold`:
    other engineers' builds and browsers share these 2 cores."""
    for _ in range(int(max_wait_s // 10)):
        if os.getloadavg()[0] < threshold:
            break
        await asyncio.sleep(10)
    return os.getloadavg()[0]


class Suite:
    def __init__(self, plan: Plan, out_dir: Path, sim_url: str, sim_proc: servers.Proc):
        self.plan, self.out, self.sim_url, self.sim_proc = plan, out_dir, sim_url, sim_proc
        self.errors: list[str] = []

    async def guard(self, name: str, work: Callable[[], Awaitable[Any]]) -> Any:
        """Run one measurement; a failure is recorded and the suite goes on."""
        log(f"- {name}")
        started = time.monotonic()
        try:
            result = await work()
        except Exception as exc:  # noqa: BLE001 - reported in the results, not fatal
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            log(traceback.format_exc())
            return None
        log(f"  ({time.monotonic() - started:.0f} s)")
        return result

    async def ramp(
        self, rig: Rig | list[Rig], levels: tuple[int, ...], probe=None
    ) -> list[dict[str, Any]]:
        steps = await capacity.ramp(
            rig,
            list(levels),
            seconds=self.plan.stream_seconds,
            ramp_s=self.plan.ramp_s,
            sim_cpu=self.sim_proc.cpu_s,
            probe=probe,
            log=log,
            chunk=self.plan.chunk,
        )
        for s in steps:  # a limit refusing benchmark turns is an error, never a timing
            if s.get("refused"):
                self.errors.append(
                    f"capacity {s['streams']}: {s['refused']} turns refused: {s['refusal']}"
                )
        return steps

    async def common(self, rig: Rig, cells: tuple, histories: tuple) -> dict[str, Any]:
        p, g, sim = self.plan, self.guard, self.sim_url
        r: dict[str, Any] = {}
        r["first_token"] = await g(
            "first token",
            lambda: latency.first_token(rig, sim, p.first_token_runs),
        )
        r["stop_stream"] = await g(
            "stop mid-stream",
            lambda: latency.stop(rig, sim, p.stop_runs, silent=False),
        )
        r["cells"] = await g(
            "push cost", lambda: pushcost.reply_bytes(rig, list(cells), p.cell_tps)
        )
        r["cpu_per_push"] = [
            await g(
                f"cpu/push {h} turns",
                lambda h=h: pushcost.cpu_per_push(rig, h, p.cpu_streams, p.cpu_seconds),
            )
            for h in histories
        ]
        r["idle"] = await g(
            "idle sessions", lambda: memory.idle_sessions(rig, p.idle_sessions, p.settle_s)
        )
        return r

    async def app(self, rig: Rig) -> dict[str, Any]:
        p, g = self.plan, self.guard
        r = await self.common(rig, p.cells, p.cpu_histories)
        r["stop_silent"] = await g(
            "stop during silent first-token wait",
            lambda: latency.stop(rig, self.sim_url, p.stop_runs, True),
        )
        r["writes"] = await g(
            "db writes (sqlite)", lambda: writes.sqlite_writes(rig, p.write_turns)
        )
        r["capacity"] = await g("capacity", lambda: self.ramp(rig, p.levels)) or []
        if p.first_token_load and all(s["streams"] != p.first_token_load for s in r["capacity"]):
            r["load_step"] = await g(
                f"first token at {p.first_token_load} streams",
                lambda: capacity.step(
                    rig,
                    p.first_token_load,
                    tps=50,
                    seconds=p.stream_seconds,
                    ramp_s=p.ramp_s,
                    sim_cpu=self.sim_proc.cpu_s,
                ),
            )
        if p.soak_users:
            r["soak"] = await g(
                f"soak {p.soak_seconds:.0f} s",
                lambda: memory.soak(rig, p.soak_users, p.soak_seconds, log=log),
            )
        return r

    async def naive(self, rig: Rig) -> dict[str, Any]:
        r = await self.common(rig, self.plan.naive_cells, self.plan.naive_cpu_histories)
        r["capacity"] = (
            await self.guard("capacity", lambda: self.ramp(rig, self.plan.naive_levels)) or []
        )
        return r

    async def scale(self, rig: Rig, db: int) -> dict[str, Any]:
        async def probe(streams: int) -> dict[str, Any]:
            return await redis_ops.ops_per_stream(db, streams)

        steps = await self.guard("capacity", lambda: self.ramp(rig, self.plan.scale_levels, probe))
        return {"capacity": steps or []}


def run_suite(plan: Plan, out_dir: Path, only: set[str], wait_quiet_s: float) -> dict[str, Any]:
    """Everything in `only` (app, naive, scale, pg), one configuration after the other."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"plan": dataclasses.asdict(plan)}
    if wait_quiet_s:
        results["loadavg_after_wait"] = asyncio.run(wait_quiet(wait_quiet_s))
    results["machine"] = machine()
    results["limits"] = dict(servers.BENCH_LIMITS)  # per-user limits of the app under test
    with simulator(out_dir / "logs") as (sim_url, sim_proc):
        suite = Suite(plan, out_dir, sim_url, sim_proc)
        if "app" in only:
            log("== app (1 worker, default state manager, SQLite)")
            with serve("app", out_dir, sim_url) as rig:
                results["app"] = _arun(suite.app(rig))
        if "naive" in only:
            log("== naive baseline (1 worker)")
            with serve("naive", out_dir, sim_url, naive=True) as rig:
                results["naive"] = _arun(suite.naive(rig))
        if "scale" in only and plan.scale_levels:
            # As deployed (rxconfig.py turns Reflex's oplock on with Redis), and without it.
            for key, env in (("scale", {}), ("scale_no_oplock", {"REFLEX_OPLOCK_ENABLED": "0"})):
                results[key] = _scale(suite, key, env, out_dir, sim_url)
        if "pg" in only and not plan.quick:
            results["pg_writes"] = _arun(_pg(suite, out_dir, sim_url))
        results["errors"] = suite.errors
    return results


def _scale(
    suite: Suite, key: str, env: dict[str, str], out_dir: Path, sim_url: str
) -> dict[str, Any]:
    """3 workers + Redis on PostgreSQL, the scale-out deployment the README documents
    (several processes writing one SQLite file fail turns with "database is locked")."""
    log(f"== {key}: 3 workers + Redis + PostgreSQL {env or ''}")
    with (
        shared_services() as (services, db),
        serve(key, out_dir, sim_url, **services, workers=3, extra_env=env) as rig,
    ):
        return {**_arun(suite.scale(rig, db)), "db": "postgresql"}


@contextlib.contextmanager
def shared_services() -> Iterator[tuple[dict[str, str], int]]:
    """A fresh migrated PostgreSQL database and a free Redis database: `serve()`'s db_url
    and redis_url, and the Redis db number (flushed afterwards)."""
    db = free_db()
    try:
        with writes.pg_database() as url:
            migrations.upgrade(writes.psycopg_url(url))
            yield {"db_url": url, "redis_url": f"redis://127.0.0.1:6379/{db}"}, db
    finally:
        flush(db)


async def _pg(suite: Suite, out_dir: Path, sim_url: str) -> dict[str, Any] | None:
    log("== app on PostgreSQL (row writes per turn)")

    async def work() -> dict[str, Any]:
        with writes.pg_database() as url:
            migrations.upgrade(writes.psycopg_url(url))
            with serve("app-pg", out_dir, sim_url, db_url=url) as rig:
                return await writes.pg_writes(rig, suite.plan.write_turns)

    return await suite.guard("db writes (postgresql)", work)


def char_problems(results: dict[str, Any]) -> list[str]:
    """Every place a reply lost or duplicated characters (must be none)."""
    problems = []
    for app in ("app", "naive", "scale", "scale_no_oplock"):
        section = results.get(app) or {}
        found = [("first_token", section.get("first_token"))]
        found += [(f"cell {c['history']}/{c['tokens']}", c) for c in section.get("cells") or []]
        found += [(f"{s['streams']} streams", s) for s in section.get("capacity") or []]
        found += [("load step", section.get("load_step")), ("soak", section.get("soak"))]
        for where, item in found:
            if item and (item.get("lost") or item.get("dup")):
                problems.append(f"{app} {where}: lost {item['lost']}, duplicated {item['dup']}")
    return problems
