"""What a push means for each app under test: event names and where the reply text is."""

from __future__ import annotations

import dataclasses
from typing import Any

from reflex_base.utils.format import format_event_handler

ROOT_STATE = "reflex___state____state"
HYDRATED = "is_hydrated_rx_state_"


def _field(name: str) -> str:
    return f"{name}_rx_state_"  # how Reflex names a var on the wire


@dataclasses.dataclass(frozen=True)
class Observation:
    """What one push says about the reply in flight (None: the push doesn't say)."""

    live_text: str | None = None  # the reply so far (naive app: whole in every push)
    live_head: str | None = None  # ai_chat: the reply so far is head + tail, each
    live_tail: str | None = None  # resent only when it changed
    generating: bool | None = None
    final_text: str | None = None  # the stored reply, once the turn has ended


@dataclasses.dataclass(frozen=True)
class AppProfile:
    name: str
    send_event: str
    stop_event: str
    history_state: str  # full name of the state that holds the turns
    live_state: str  # full name of the state that holds the reply in flight
    naive: bool = False
    turns_var: str = "messages"  # the var a turn's end appends the reply to

    def observe(self, delta: dict[str, Any]) -> Observation:
        live = delta.get(self.live_state) or {}
        history = delta.get(self.history_state) or {}
        generating = live.get(_field("generating"))
        messages = history.get(_field(self.turns_var))
        last = messages[-1] if messages else None
        assistant_text = last["content"] if last and last.get("role") == "assistant" else None
        if self.naive:  # the reply in flight IS the last history message
            return Observation(
                live_text=assistant_text if generating is not False else None,
                generating=generating,
                final_text=assistant_text if generating is False else None,
            )
        return Observation(
            live_head=live.get(_field("live_text_head")),
            live_tail=live.get(_field("live_text_tail")),
            generating=generating,
            final_text=assistant_text if generating is False else None,
        )


def app_profile() -> AppProfile:
    """ai_chat as deployed: names computed from its states, so renames follow."""
    from ai_chat.state.chat import ChatState
    from ai_chat.state.live import LiveState

    return AppProfile(
        name="app",
        send_event=format_event_handler(LiveState.event_handlers["send"]),
        stop_event=format_event_handler(LiveState.event_handlers["stop"]),
        history_state=ChatState.get_full_name(),
        live_state=LiveState.get_full_name(),
        turns_var="new_messages",
    )


def naive_profile() -> AppProfile:
    """benchmarks/naive_app: one state; not imported here (importing it builds its rx.App)."""
    state = f"{ROOT_STATE}.naive_app___naive_app____naive_state"
    return AppProfile(
        name="naive",
        send_event=f"{state}.send",
        stop_event=f"{state}.stop",
        history_state=state,
        live_state=state,
        naive=True,
    )
