"""The naive pattern: each token is appended to the last message INSIDE the history var.

Every `async with self` block that changed something pushes the whole new value of every
changed var (reflex#4156), so each token resends the entire conversation. Same simulator,
same DB rows, same message view (`ChatMessage`) as the app, so bytes compare like for like.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import anthropic
import reflex as rx

from ai_chat.llm.history import Turn, build_messages
from ai_chat.state.views import ChatMessage, to_view
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message, MessageStatus, new_id, utcnow

OWNER = "local"  # the app's single owner: both read the same seeded conversations


class NaiveState(rx.State):
    conversation_id: str = ""
    messages: list[ChatMessage] = []
    generating: bool = False
    _stop: bool = False

    @rx.event
    async def load_route(self):
        cid = str((self.router_data.get("query") or {}).get("cid", "") or "")
        self.conversation_id, self.messages = cid, []
        if cid:
            async with session_scope() as session:
                rows = await store.list_messages(session, OWNER, cid)
            self.messages = [to_view(row) for row in rows]

    @rx.event
    def send(self, form_data: dict):
        text = str(form_data.get("message", ""))
        if not text.strip() or self.generating or not self.conversation_id:
            return None
        self.messages.append(ChatMessage(id=new_id(), role="user", content=text))
        self.messages.append(ChatMessage(id=new_id(), role="assistant", content="", status=""))
        self.generating, self._stop = True, False
        return NaiveState.generate

    @rx.event
    def stop(self):
        self._stop = True  # seen by the stream loop at its next token, not before

    @rx.event(background=True)
    async def generate(self):
        async with self:
            history = [Turn(m.role, m.content, m.status) for m in self.messages[:-2]]
            user, reply_id, cid = (
                self.messages[-2].content,
                self.messages[-1].id,
                self.conversation_id,
            )
        client = _client()
        status, text = MessageStatus.COMPLETE, ""
        model = os.environ.get("AI_CHAT_MODEL", "claude-sonnet-5-5")
        async with client.messages.stream(
            model=model, max_tokens=4096, messages=build_messages(history, user, 400_000)
        ) as stream:
            async for delta in stream.text_stream:
                text += delta
                async with self:  # one push per token, carrying the whole history
                    last = self.messages[-1]
                    self.messages[-1] = dataclasses.replace(last, content=last.content + delta)
                    if self._stop:
                        status = MessageStatus.CANCELLED
                        break
        await _save(cid, user, reply_id, text, status)
        async with self:
            last = self.messages[-1]
            self.messages[-1] = dataclasses.replace(last, status=status.value)
            self.generating = False


@functools.lru_cache(maxsize=1)
def _client() -> anthropic.AsyncAnthropic:
    """One pooled client per process, as the app has: only the push pattern differs."""
    return anthropic.AsyncAnthropic(
        base_url=os.environ["ANTHROPIC_BASE_URL"],
        api_key=os.environ["ANTHROPIC_API_KEY"],
        max_retries=0,
    )


async def _save(cid: str, user: str, reply_id: str, text: str, status: MessageStatus) -> None:
    """The same two rows the app writes per turn."""
    async with session_scope() as session:
        turn = await turns.add_user_message(session, OWNER, cid, user)
        reply = Message(
            id=reply_id,
            conversation_id=cid,
            seq=turn.seq + 1,
            role="assistant",
            content=text,
            status=status.value,
            completed_at=utcnow(),
        )
        await turns.save_assistant_message(session, OWNER, reply)


def index() -> rx.Component:
    return rx.text("naive baseline: driven over the WebSocket by the benchmarks")


app = rx.App()
app.add_page(index, route="/", on_load=NaiveState.load_route)
app.add_page(index, route="/c/[cid]", on_load=NaiveState.load_route)
