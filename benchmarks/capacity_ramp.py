"""The capacity ramp alone, for one configuration: quick to repeat while tuning
(`python -m benchmarks capacity`)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

from benchmarks import plan as plans
from benchmarks import redis_ops, servers
from benchmarks.rig import Rig, serve
from benchmarks.run import Suite, _arun, shared_services
from tests.support.servers import simulator


def run_capacity(
    levels: list[int],
    workers: int,
    env: dict[str, str],
    out_dir: Path,
    profile: Path | None,
    native: bool = False,
    shared: bool = False,
    servers_count: int = 1,
    ramp_s: float | None = None,
    chunk: int = 1,
) -> list[dict[str, Any]]:
    """The capacity ramp alone, for one configuration: quick to repeat while tuning.
    Several workers (or one, if `shared`) run as the README deploys them: Redis + PostgreSQL.
    Several servers are independent one-worker apps (own SQLite, no Redis) sharing the users:
    scale-out with no shared state at all, the most several processes could hold here."""
    shared = shared or workers > 1
    if servers_count > 1 and (shared or profile is not None):
        raise ValueError("--servers: independent one-worker apps, no --workers/--shared/--profile")
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = dataclasses.replace(plans.full(), chunk=chunk)
    if ramp_s is not None:  # how fast a step's users arrive: its flash crowd
        plan = dataclasses.replace(plan, ramp_s=ramp_s)
    with (
        simulator(out_dir / "logs") as (sim_url, sim_proc),
        contextlib.ExitStack() as stack,
    ):
        suite = Suite(plan, out_dir, sim_url, sim_proc)
        kwargs: dict[str, Any] = {"extra_env": env, "workers": workers}
        probe = None
        if shared:
            services, db = stack.enter_context(shared_services())
            kwargs.update(services)

            async def probe(streams: int) -> dict[str, Any]:
                return await redis_ops.ops_per_stream(db, streams)

        if servers_count > 1:
            # The host's push budget split between them, as between workers (workers_on_host).
            kwargs["extra_env"] = {"AI_CHAT_PUSH_BUDGET": str(1000 / servers_count), **env}
            names = [f"capacity-{k}" for k in range(servers_count)]
            target: Rig | list[Rig] = [
                stack.enter_context(serve(name, out_dir, sim_url, **kwargs)) for name in names
            ]
        else:
            target = stack.enter_context(serve("capacity", out_dir, sim_url, **kwargs))
            if profile is not None:
                stack.enter_context(servers.py_spy(target.proc, profile, native))
        steps = _arun(suite.ramp(target, tuple(levels), probe))
    (out_dir / "capacity.json").write_text(json.dumps(steps, indent=1))
    return steps
