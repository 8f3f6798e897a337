"""CPU per turn in the store alone: what storing a turn costs a worker, apart from the rest.

`python -m benchmarks.store_cost [--turns 400] [--history 10] [--no-postgres]`

The server's own calls, in one process with no other load: the user turn with its reply's
row in flight (on SQLite the history read, then the write; on PostgreSQL one transaction)
and the reply's end (an UPDATE of that row), in a conversation kept at `--history` prior
turns (each measured turn is removed afterwards, outside the timing). Reports this
process's CPU time per turn, p50 and mean, on SQLite and on a fresh PostgreSQL database
(the driver's work included, the database server's not).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ai_chat.config import async_url
from ai_chat.generation.live_reply import LiveReply
from ai_chat.generation.persist import TurnStore
from ai_chat.store import conversations as store
from ai_chat.store import db, migrations, turns
from ai_chat.store.models import MessageRow, new_id
from benchmarks.measure import summary
from benchmarks.scenarios import writes

OWNER = "local"


async def _turn(url: str, conversation_id: str, text: str) -> MessageRow:
    # The reply's row in flight is written with the user turn (`TurnStore.in_flight_row`).
    in_flight = TurnStore(url).in_flight_row(LiveReply("g", conversation_id, new_id(), "m"))
    if db.writes_queue(url):
        await db.run_read(turns.history_sync, OWNER, conversation_id, url=url)
        add = turns.add_user_message_sync
        user = await db.run_write(add, OWNER, conversation_id, text, None, in_flight, url=url)
    else:
        _, _, user = await db.run_write(
            turns.start_turn_sync,
            OWNER,
            conversation_id,
            text,
            None,
            None,
            None,
            in_flight,
            url=url,
        )
    # the row the server builds for a reply (`persist.assistant_row`), over that one
    reply = MessageRow(
        conversation_id, user.seq + 1, "assistant", id=in_flight.id, content=text * 40
    )
    await db.run_write(turns.finish_assistant_message_sync, OWNER, reply, url=url)
    return user


async def cpu_ms_per_turn(url: str, turns: int, history: int) -> dict[str, float]:
    conversation = await db.run_write(store.create_conversation_sync, OWNER, "bench", url=url)
    for n in range(history):
        await _turn(url, conversation.id, f"prior {n} ")
    times: list[float] = []
    for _ in range(turns):
        started = time.process_time()
        user = await _turn(url, conversation.id, "hello ")
        times.append((time.process_time() - started) * 1000)
        await db.run_write(store.truncate_from_sync, OWNER, conversation.id, user.id, url=url)
    await db.dispose_engines()
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--history", type=int, default=10, help="prior turns in the chat")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'store.db'}"
        migrations.upgrade(sqlite)
        _report("sqlite", asyncio.run(cpu_ms_per_turn(async_url(sqlite), args.turns, args.history)))
    if not args.no_postgres:
        with writes.pg_database() as url:
            migrations.upgrade(writes.psycopg_url(url))
            result = asyncio.run(cpu_ms_per_turn(async_url(url), args.turns, args.history))
            _report("postgresql", result)


def _report(name: str, result: dict[str, float]) -> None:
    print(f"{name}: store CPU per turn p50 {result['p50']:.2f} ms, p90 {result['p90']:.2f} ms")


if __name__ == "__main__":
    main()
