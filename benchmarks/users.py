"""Simulated users: a tab that opens a conversation, sends turns and watches the pushes.

Each user is a signed-in account (`benchmarks/accounts.py`): user i of a scenario is account
i of the server, and the conversations it opens are seeded as account i's."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import TYPE_CHECKING, Any

from ai_chat.limits.refusal import KEEP
from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text
from benchmarks.accounts import NO_ACCOUNT, Account
from benchmarks.apps import HYDRATED, ROOT_STATE, AppProfile
from benchmarks.seed import seed_conversation
from tests.support.client import ReflexTab

if TYPE_CHECKING:
    from benchmarks.rig import Rig


class TurnRefused(RuntimeError):
    """A limit refused a benchmark turn: the measurement is wrong, not just slow."""


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
    refused: str = ""  # why a limit refused the turn (the toast's text), if one did
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

    def __init__(
        self, app: AppProfile, port: int, host: str = "127.0.0.1", account: Account = NO_ACCOUNT
    ) -> None:
        self.app, self.account = app, account
        origin = f"http://{host}:{port}"  # the page's own, as a browser sends it
        self.tab = ReflexTab(host, port, self._on_push, cookie=account.cookie, origin=origin)
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
        if turn.refused:
            raise TurnRefused(f"{self.account.username}: {turn.refused}")
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
            if turn.final_text is None:  # nothing stored: was it a limit? (its toast says so)
                turn.refused = _refusal(push.get("events"))
            turn.done.set()


def _refusal(events: Any) -> str:
    """The toast of a turn refused by a limit, if the push carries one."""
    if not events:
        return ""
    text = json.dumps(events, ensure_ascii=False)
    at = text.find(KEEP)
    if at < 0:
        return ""
    start = text.rfind('"', 0, at) + 1  # the toast's message is a JSON string
    return text[start : at + len(KEEP)]


async def seed_chats(rig: Rig, histories: list[int]) -> list[str]:
    """Conversation i holding `histories[i]` messages, owned by the server's account i."""
    accounts = await rig.accounts.take(len(histories))  # type: ignore[union-attr]
    pairs = zip(accounts, histories, strict=True)
    return [await seed_conversation(rig.db_url, prior, a.user_id) for a, prior in pairs]


async def open_users(rig: Rig, conversation_ids: list[str], parallel: int = 25) -> list[ChatUser]:
    """User i (the server's account i, signed in) opens conversation i ("" = a new chat),
    `parallel` at a time."""
    accounts = await rig.accounts.take(len(conversation_ids))  # type: ignore[union-attr]
    users = [ChatUser(rig.app, rig.port, account=a) for a in accounts]
    gate = asyncio.Semaphore(parallel)

    async def one(user: ChatUser, cid: str) -> None:
        async with gate:
            await user.open(cid)

    await asyncio.gather(*(one(u, c) for u, c in zip(users, conversation_ids, strict=True)))
    return users


async def close_users(users: list[ChatUser]) -> None:
    await asyncio.gather(*(u.close() for u in users), return_exceptions=True)
