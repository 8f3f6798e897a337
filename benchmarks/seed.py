"""Conversations with prior turns, written straight into the DB with the app's store."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ai_chat.config import async_url
from ai_chat.simulator.script import reply_text
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message, MessageStatus, new_id

TURN_CHARS = 2000  # each seeded message is ~2 KB, like a typical Claude answer


async def seed_conversation(db_url: str, prior_turns: int, owner: str) -> str:
    """A conversation of user `owner` (an account's id; the naive app's "local") holding
    `prior_turns` messages (user/assistant alternating)."""
    url = async_url(db_url)
    async with session_scope(url) as session:
        conversation = await store.create_conversation(session, owner, "benchmark")
        cid = conversation.id
        for i in range(0, prior_turns, 2):
            prompt = f"Earlier question {i // 2}: " + "lorem ipsum " * (TURN_CHARS // 12)
            user = await turns.add_user_message(session, owner, cid, prompt[:TURN_CHARS])
            if i + 1 >= prior_turns:
                break
            answer = Message(
                id=new_id(),
                conversation_id=cid,
                seq=user.seq + 1,
                role="assistant",
                content=reply_text(prompt, TURN_CHARS // 4),
                status=MessageStatus.COMPLETE.value,
                output_tokens=TURN_CHARS // 4,
            )
            await turns.save_assistant_message(session, owner, answer)
    return cid


async def seed_many(db_url: str, prior_turns: int, owners: list[str]) -> list[str]:
    """One conversation per owner, in order."""
    return [await seed_conversation(db_url, prior_turns, owner) for owner in owners]


def sqlite_path(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


def sqlite_change_counter(db_url: str) -> int:
    """SQLite's file change counter (header bytes 24..27): +1 per committed write
    transaction in rollback-journal mode, readable without touching the server."""
    with sqlite_path(db_url).open("rb") as f:
        f.seek(24)
        return int.from_bytes(f.read(4), "big")


def sqlite_journal_mode(db_url: str) -> str:
    with sqlite3.connect(sqlite_path(db_url)) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def sqlite_counts(db_url: str) -> dict[str, int]:
    """Rows per table, to tell inserted rows from the commits the counter saw."""
    with sqlite3.connect(sqlite_path(db_url)) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("conversation", "message")
        }


def temp_sqlite_url(directory: Path, name: str) -> str:
    os.makedirs(directory, exist_ok=True)
    return f"sqlite:///{directory / name}"
