"""What a watcher (state/watch.py) changes in a tab's LiveState, inside its lock: the
reply of another tab shown live, its end, an owner gone, a Stop nobody answered."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.generation.fanout import LiveFrame
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.state.attachments import AttachmentView
from ai_chat.state.chat import ChatState
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.views import ChatMessage
from ai_chat.store.models import Message, new_id

# (message, conversation, owner, generation) of a Stop in progress
StopTarget = tuple[str, str, str, str]


@dataclasses.dataclass(frozen=True)
class Plan:
    token: str
    owner: str  # user id: every read is scoped to it
    conversation_id: str
    own_generation: str = ""  # set: guard this tab's own reply (its task is elsewhere)
    own_message: str = ""
    watched_message: str = ""  # a reply of another tab already shown (from its checkpoint)


LOST = (
    "The server writing this reply stopped. The text up to its last save was kept and "
    "marked Interrupted: Continue or Retry it."
)
UNCONFIRMED_STOP = (
    "The server has not confirmed the stop yet; this is the reply as this tab last saw it."
)


def lost_toast() -> EventSpec:
    return rx.toast.warning(LOST)


def new_watch(live: LiveVars, chat: ChatState, own: bool = False, watched: str = "") -> bool:
    """Sets up a watcher for the conversation shown (started by `LiveState.watch`)."""
    if not chat.conversation_id or not live._owner_id:
        return False
    live._watch_token, live._watch_claimed = new_id(), False
    live._watch_cid = live.live_conversation_id if own else chat.conversation_id
    live._watch_own, live._watch_message = own, watched
    live._watch_beat = time.time()
    return True


def watch_plan(live: LiveVars) -> Plan | None:
    if not live._watch_token or live._watch_claimed or not live._owner_id:
        return None
    live._watch_claimed, live._watch_beat = True, time.time()
    own = live._watch_own and live.generating
    return Plan(
        token=live._watch_token,
        owner=live._owner_id,
        conversation_id=live._watch_cid,
        own_generation=live.generation_id if own else "",
        own_message=live.live_message_id if own else "",
        watched_message="" if own else live._watch_message,
    )


def watch_wanted(live: LiveVars, token: str) -> bool:
    wanted = live._watch_token == token and (
        live._watch_own or live._watch_cid == live.conversation_id
    )
    if wanted:
        live._watch_beat = time.time()
    return wanted


def watch_quit(live: LiveVars, token: str) -> None:
    if live._watch_token == token:
        live._watch_token = ""


def watch_show(live: LiveVars, token: str, frame: LiveFrame) -> bool:
    if not watch_wanted(live, token):
        return False
    if live.watching and live.live_message_id == frame.message_id:
        live.generation_id = frame.generation_id
        live._show(
            LiveSnapshot(
                frame.generation_id,
                frame.text,
                frame.status,
                frame.output_tokens,
                frame.elapsed_s,
                frame.thinking,
            )
        )
    return True


def watch_sync(
    live: LiveVars,
    token: str,
    rows: Sequence[Message],
    frame: LiveFrame | None,
    live_id: str,
    files: Mapping[str, list[AttachmentView]] | None = None,
) -> bool:
    """The conversation as stored, with `live_id` (another tab's reply) shown live;
    `files`: its user turns' attachments."""
    if not watch_wanted(live, token):
        return False
    if live.generating:  # this tab's own reply began meanwhile: its task shows it
        return True
    live._chat()._sync_rows(rows, live_id, files)
    if live_id and frame is not None:
        watch_begin(live, live_id, frame.generation_id)
        watch_show(live, token, frame)
    elif live.watching:
        unwatch(live)
    return True


def watch_begin(
    live: LiveVars,
    message_id: str,
    generation_id: str = "",
    text: str = "",
    status: str = "thinking",
) -> None:
    live.generation_id, live.live_message_id = generation_id, message_id
    live._assign(
        watching=True,
        stopping=False,
        live_conversation_id=live.conversation_id,
        live_text_head="",
        live_text_tail="",
        live_too_deep=False,
        live_status=status,
        live_thinking="",
        live_output_tokens=0,
        live_elapsed_s=0.0,
        announcement="Claude is replying (another tab)…",
    )
    if text:
        live._show(LiveSnapshot(generation_id, text, status, 0, 0.0))


def unwatch(live: LiveVars) -> None:
    live._end()
    live._assign(watching=False, live_conversation_id="")


def own_lost(live: LiveVars, plan: Plan, rows: Sequence[Message]) -> bool:
    if live.generation_id != plan.own_generation:
        return False
    live._end()
    if live.conversation_id == plan.conversation_id:
        live._chat()._sync_rows(rows, "")
    live._watch_token = ""
    return True


def stop_target(live: LiveVars) -> StopTarget | None:
    """(message, conversation, owner, generation) of the Stop in progress, if any (the
    generation id may arrive after the click, with a watcher's first frame)."""
    if not live.stopping or not (live.generating or live.watching):
        return None
    owner = live._owner_id
    return (live.live_message_id, live.live_conversation_id, owner, live.generation_id)


def stop_settled(
    live: LiveVars,
    target: StopTarget,
    rows: Sequence[Message],
    lost: bool,
    send: Callable[[str], EventSpec],
) -> list[EventSpec] | None:
    """`rows`: the conversation once the reply is no longer running ([]: it still runs
    and did not answer the stop: the tab ends it on its own, as last seen)."""
    now = stop_target(live)
    if now is None or now[:3] != target[:3]:
        return None
    shown = live.live_conversation_id == live.conversation_id
    if not rows and shown:
        text = live.live_text_head + live.live_text_tail
        live._chat()._add_message(
            ChatMessage(
                id=live.live_message_id,
                role="assistant",
                content=text,
                status="cancelled",
                error=UNCONFIRMED_STOP,
            )
        )
    queued = live._take_queued()  # sent after the stop: sent now
    if live.watching:
        unwatch(live)
    else:
        live._end()
    if rows and shown:
        live._chat()._sync_rows(rows, "")
    events = [lost_toast()] if lost else []
    if not rows:
        events.append(rx.toast.warning(UNCONFIRMED_STOP))
    if queued:  # it starts a turn, or comes back to the box with the reason
        events.append(send(queued))
    return events
