"""Simulated users: a tab that opens a conversation, sends turns and watches the pushes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text
from benchmarks.apps import HYDRATED, ROOT_STATE, AppProfile
from benchmarks.client import ReflexTab


@dataclasses.dataclass
class Turn:
    """One message sent and everything received until its reply ended."""

    tokens: int
    tps: float
    ttft: float = 0.3
    extra: str = ""  # more [[sim]] options, e.g. "ping=0"
    chunk: int = 1  # tokens per text delta (the simulator sends a delta when its last is due)
    tag: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:12])
    sent_at: float = 0.0
    stop_sent_at: float | None = None
    # (receive time, text length, frame bytes) of each push that carried reply text
    text_pushes: list[tuple[float, int, int]] = dataclasses.field(default_factory=list)
    frames: int = 0  # every frame from the send to the end, text or not
    bytes: int = 0
    regressions: int = 0  # pushes whose text did not extend the previous one
    final_text: str | None = None
    ended_at: float | None = None
    done: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    streaming: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)  # text arrived
    _last_text: str = ""
    _head: str = ""
    _tail: str = ""

    @property
    def prompt(self) -> str:
        opts = f"tokens={self.tokens} tps={self.tps:g} ttft={self.ttft:g} tag={self.tag}"
        if self.chunk > 1:
            opts += f" chunk={self.chunk}"
        opts += f" {self.extra}"
        return f"Benchmark turn {self.tag} [[sim {opts.strip()}]]"

    def expected_text(self) -> str:
        return reply_text(strip_directives(self.prompt), self.tokens)

    def sent_after_first_s(self, k: int) -> float:
        """When token k left the simulator, after the first delta (what `first_token_at`
        stamps): a delta goes out when its last token is due (the last delta may be short)."""

        def last_of_delta(i: int) -> int:
            return min((i // self.chunk + 1) * self.chunk, self.tokens) - 1

        return (last_of_delta(k) - last_of_delta(0)) / self.tps

    def first_text_at(self) -> float | None:
        return next((at for at, length, _ in self.text_pushes if length), None)

    def observe_parts(self, head: str | None, tail: str | None, at: float, size: int) -> None:
        """A push that changed the head and/or the tail of the reply shown so far."""
        if head is not None:
            self._head = head
        if tail is not None:
            self._tail = tail
        if self._head or self._tail:
            self.observe_text(self._head + self._tail, at, size)

    def observe_text(self, text: str, at: float, size: int) -> None:
        if not text.startswith(self._last_text):
            self.regressions += 1
        self._last_text = text
        self.text_pushes.append((at, len(text), size))
        self.streaming.set()


class ChatUser:
    """One browser tab of one user (its own client token and WebSocket)."""

    def __init__(self, app: AppProfile, port: int, host: str = "127.0.0.1") -> None:
        self.app = app
        self.tab = ReflexTab(host, port, self._on_push)
        self.turn: Turn | None = None
        self.hydrated = asyncio.Event()
        self.pushes = 0
        self.push_bytes = 0

    async def open(self, conversation_id: str = "", timeout: float = 60.0) -> None:
        """Connect at `/` or `/c/<id>`; returns once the page's on_load has run."""
        if conversation_id:
            await self.tab.connect(f"/c/{conversation_id}", {"cid": conversation_id})
        else:
            await self.tab.connect("/")
        await asyncio.wait_for(self.hydrated.wait(), timeout)

    async def send(self, turn: Turn) -> None:
        self.turn = turn
        turn.sent_at = await self.tab.emit(
            self.app.send_event, {"form_data": {"message": turn.prompt}}
        )

    async def stop(self) -> None:
        assert self.turn is not None
        self.turn.stop_sent_at = await self.tab.emit(self.app.stop_event, {})

    async def run_turn(self, turn: Turn, timeout: float) -> Turn:
        await self.send(turn)
        await asyncio.wait_for(turn.done.wait(), timeout)
        return turn

    async def close(self) -> None:
        await self.tab.close()

    def _on_push(self, push: dict[str, Any], size: int, at: float) -> None:
        self.pushes += 1
        self.push_bytes += size
        delta = push.get("delta") or {}
        if (delta.get(ROOT_STATE) or {}).get(HYDRATED) is True:
            self.hydrated.set()
        turn = self.turn
        if turn is None or turn.done.is_set():
            return
        turn.frames += 1
        turn.bytes += size
        seen = self.app.observe(delta)
        if seen.live_head is not None or seen.live_tail is not None:
            turn.observe_parts(seen.live_head, seen.live_tail, at, size)
        elif seen.live_text:
            turn.observe_text(seen.live_text, at, size)
        if seen.generating is False:
            turn.final_text, turn.ended_at = seen.final_text, at
            turn.done.set()


async def open_users(
    app: AppProfile, port: int, conversation_ids: list[str], parallel: int = 25
) -> list[ChatUser]:
    """Connect one user per conversation id ("" = a new chat), `parallel` at a time."""
    users = [ChatUser(app, port) for _ in conversation_ids]
    gate = asyncio.Semaphore(parallel)

    async def one(user: ChatUser, cid: str) -> None:
        async with gate:
            await user.open(cid)

    await asyncio.gather(*(one(u, c) for u, c in zip(users, conversation_ids, strict=True)))
    return users


async def close_users(users: list[ChatUser]) -> None:
    await asyncio.gather(*(u.close() for u in users), return_exceptions=True)
