"""Many turns at once on the embedded SQLite database: none may fail on a lock."""

from __future__ import annotations

import asyncio

from tests.generation.helpers import make_job, run_turn, stored_messages


async def test_concurrent_turns_all_persist_on_sqlite(app_env, sim):
    first = [run_turn(make_job(f"turn {i} [[sim tokens=5 tps=1000 ttft=0]]")) for i in range(200)]
    results = await asyncio.gather(*first)
    # ...and a second wave into the same conversations, while writes overlap
    second = [
        run_turn(make_job(f"again {i} [[sim tokens=5 tps=1000 ttft=0]]", r.started.conversation_id))
        for i, r in enumerate(results)
    ]
    results2 = await asyncio.gather(*second)
    statuses = [r.finished.message.status for r in results + results2]
    errors = [r.finished.message.error for r in results + results2 if r.finished.message.error]
    assert statuses == ["complete"] * 400, errors[:3]
    for r in results:
        rows = await stored_messages(r.started.conversation_id)
        assert [m.status for m in rows] == ["complete"] * 4
