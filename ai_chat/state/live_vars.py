"""The in-flight reply of a tab: its vars and the changes to them, as a Reflex state mixin.

`LiveState` (state/live.py) is this mixin plus its event handlers; the modules that change
a tab's live reply (watchers, loading, the reply's end) work on a `LiveVars`, so none of
them imports the state that calls them. The vars are bound to `LiveState`, a substate of
the chat: a push of the live reply never resends the history.
"""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.generation import runtime
from ai_chat.generation.job import GenerationJob
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.limits.user_limits import limits_for
from ai_chat.state.attachments import AttachmentView, attachment_ids
from ai_chat.state.chat import ChatState
from ai_chat.state.markdown_depth import streaming_too_deep
from ai_chat.store.models import MessageStatus, new_id

# The reply's text is split into a head and a tail, the tail at most this long: a push
# resends the tail, and the head only when the tail is folded into it.
FOLD_CHARS = 1024


class LiveVars(ChatState, mixin=True):
    # This tab's own reply is in flight
    generating: rx.Field[bool] = rx.field(False)
    # Another tab's reply in this conversation is shown live
    watching: rx.Field[bool] = rx.field(False)
    stopping: rx.Field[bool] = rx.field(False)
    generation_id: rx.Field[str] = rx.field("")
    live_conversation_id: rx.Field[str] = rx.field("")
    live_message_id: rx.Field[str] = rx.field("")
    # The reply so far is head + tail. A push resends only the vars that changed: the tail
    # (the text since the last fold) every time, the head only when the tail is folded in.
    live_text_head: rx.Field[str] = rx.field("")
    live_text_tail: rx.Field[str] = rx.field("")
    # The reply so far nests too deeply for the Markdown renderer: shown as plain text.
    live_too_deep: rx.Field[bool] = rx.field(False)
    live_thinking: rx.Field[str] = rx.field("")
    live_status: rx.Field[str] = rx.field("")
    live_output_tokens: rx.Field[int] = rx.field(0)
    live_elapsed_s: rx.Field[float] = rx.field(0.0)
    # Claude's API refused to start (overloaded, rate limited) and is asked again:
    # "Retrying (attempt/max)…" instead of a silent "thinking". 0: not retrying.
    live_retry_attempt: rx.Field[int] = rx.field(0)
    live_retry_max: rx.Field[int] = rx.field(0)
    # For screen readers (aria-live=polite): changes on status transitions, never per token.
    announcement: rx.Field[str] = rx.field("")
    # Backend-only: what the background task needs, never sent to the browser.
    _user_text: str = ""
    _user_message_id: str = ""
    _queued_text: str = ""  # sent while the reply was stopping: sent when it has ended
    _owner_id: str = ""  # the signed-in user: a watcher's reads are scoped to them
    _watch_token: str = ""  # the current watcher's (state/watch.py); "" none
    _watch_claimed: bool = False
    _watch_cid: str = ""
    _watch_own: bool = False  # the watcher guards this tab's own reply (task elsewhere)
    _watch_beat: float = 0.0  # when the watcher last looked (a dead one is replaced)
    _watch_message: str = ""  # another tab's reply shown from its checkpoint at load
    _checked_at: float = 0.0
    _begun_at: float = 0.0  # when `_begin` set the turn up (a `generate` claims it at once)
    _replace_from: str = ""
    _new_settings: dict[str, Any] = {}
    _live_title: str = ""  # the conversation's title, for the sidebar at the turn's end
    _who: Identity | None = None  # whose turn it is (resolved by the handler that began it)
    _claimed: bool = False  # a `generate` has taken the turn: a second (forged) one can't
    _files: list[AttachmentView] = []  # the files sent with the turn (given back if unsaved)

    def _chat(self) -> ChatState:
        """The conversation this tab shows (the parent state, loaded with this one)."""
        chat = self.parent_state
        assert isinstance(chat, ChatState)
        return chat

    def _begin(
        self,
        who: Identity,
        conversation_id: str,
        user_text: str,
        user_message_id: str,
        replace_from: str = "",
    ) -> None:
        self._who, self._claimed = who, False
        self._replace_from, self._user_text = replace_from, user_text
        self._user_message_id, self._owner_id = user_message_id, who.user_id
        self.generation_id, self.live_message_id = new_id(), new_id()
        self._watch_token = ""  # this tab's watcher steps aside while its own reply runs
        self._begun_at = time.time()
        self._assign(
            generating=True,
            watching=False,
            stopping=False,
            live_conversation_id=conversation_id,
            live_text_head="",
            live_text_tail="",
            live_too_deep=False,
            live_status=MessageStatus.THINKING.value,
            live_output_tokens=0,
            live_elapsed_s=0.0,
            live_retry_attempt=0,
            live_retry_max=0,
            announcement="Claude is thinking…",
        )

    def _end(self) -> None:
        self._assign(
            generating=False,
            stopping=False,
            generation_id="",
            live_message_id="",
            live_status="",
            live_text_head="",
            live_text_tail="",
            live_too_deep=False,
            live_thinking="",
            live_output_tokens=0,
            live_elapsed_s=0.0,
            live_retry_attempt=0,
            live_retry_max=0,
        )
        self._user_text = self._user_message_id = ""
        self._replace_from, self._new_settings, self._live_title = "", {}, ""
        self._who, self._claimed = None, False
        self._files = []

    def _take_queued(self) -> str:
        """The message sent while the reply was stopping, taken (sent once)."""
        queued, self._queued_text = self._queued_text, ""
        return queued

    async def _stop_generation(self) -> bool:
        """Asks for this tab's reply (or the one shown from another tab) to stop, on any
        worker; False when there is none, or a stop is already on its way."""
        if not (self.generating or self.watching) or self.stopping:
            return False
        self.stopping = True
        cancellation = runtime.get_service().cancellation
        if self.generation_id:
            await cancellation.request_stop(self.generation_id)
        else:  # shown from its checkpoint, no frame yet: the conversation's one reply
            await cancellation.stop_conversation(self.live_conversation_id)
        return True

    def _job(self) -> GenerationJob | None:
        """The turn `_begin` set up, or None if there is none (stopped, or already ended)."""
        has_input = self._user_text or self._files  # a message may be files alone
        if not self.generating or not has_input or self._claimed or self._who is None:
            return None
        self._claimed = True
        settings = get_settings()
        return GenerationJob(
            owner=self._who.user_id,
            limits=limits_for(self._who),
            conversation_id=self.live_conversation_id or None,
            user_text=self._user_text,
            user_message_id=self._user_message_id or None,
            version_of=self._replace_from or None,  # edit, or regenerate (same message)
            regenerate=bool(self._replace_from) and self._replace_from == self._user_message_id,
            new_conversation_settings=self._new_settings,
            generation_id=self.generation_id,
            assistant_message_id=self.live_message_id,
            model=settings.model,
            max_tokens=settings.max_output_tokens,
            attachment_ids=attachment_ids(self._files),
        )

    def _show(self, snapshot: LiveSnapshot) -> None:
        if snapshot.status == "streaming" and self.live_status != "streaming":
            self.announcement = "Claude is replying…"
        elif snapshot.retry_attempt and snapshot.retry_attempt != self.live_retry_attempt:
            self.announcement = retrying_label(snapshot.retry_attempt, snapshot.retry_max)
        too_deep = streaming_too_deep(
            self.live_too_deep, self.live_text_head, self.live_text_tail, snapshot.text
        )
        head, tail = split_live_text(self.live_text_head, snapshot.text)
        self._assign(
            live_too_deep=too_deep,
            live_status=snapshot.status,
            live_text_head=head,
            live_text_tail=tail,
            live_thinking=snapshot.thinking,
            live_output_tokens=snapshot.output_tokens,
            live_elapsed_s=snapshot.elapsed_s,
            live_retry_attempt=snapshot.retry_attempt,
            live_retry_max=snapshot.retry_max,
        )


def retrying_label(attempt: int, retries: int) -> str:
    return f"Claude is busy. Retrying ({attempt}/{retries})…"


def split_live_text(head: str, text: str) -> tuple[str, str]:
    """`text` as (head, tail) given the head already shown: the head stays while the tail
    is short, else the whole text becomes the head (also when `text` doesn't extend it)."""
    if text.startswith(head) and len(text) - len(head) <= FOLD_CHARS:
        return head, text[len(head) :]
    return text, ""
