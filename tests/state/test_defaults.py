"""A user's last choices (model, output limit, thinking) are saved to their account when
changed, validated, and are the settings of their next new chat (a new tab: any device)."""

from __future__ import annotations

from reflex.istate.manager.token import BaseStateToken
from reflex.state import State

from ai_chat.llm.catalog import model_info
from ai_chat.state.chat import ChatState
from ai_chat.state.settings import SettingsState, fit_to_model, valid_defaults
from ai_chat.state.sidebar import SidebarState
from ai_chat.store import conversations as store
from ai_chat.store import users
from ai_chat.store.db import run_read, session_scope
from tests.generation.helpers import unique_tag
from tests.state.harness import Tab, sign_in_user
from tests.state.hostile import toasts
from tests.state.test_send_stream import wait_idle

FAST = "tokens=5 tps=1000 ttft=0"


async def _state(tab: Tab, cls: type):
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        return await root.get_state(cls)


async def _open(tab: Tab, cid: str = "") -> None:
    """A page load: the route, then the choices (ai_chat.py ON_LOAD)."""
    await tab.open(cid)
    await tab.fire(SettingsState, "load_choices")


async def _defaults(tab: Tab) -> dict[str, object]:
    return await run_read(users.get_defaults, tab.owner)


async def _conversation(tab: Tab):
    cid = (await tab.chat()).conversation_id
    async with session_scope() as session:
        return await store.require_conversation(session, tab.owner, cid)


async def test_the_picked_model_is_saved_and_starts_the_next_new_chat(tab, sim):
    await _open(tab)
    assert (await _state(tab, SettingsState)).picker_model == "claude-sonnet-5-5"
    await tab.fire(SettingsState, "choose_model", model="claude-opus-5-5")
    assert (await _defaults(tab))["model"] == "claude-opus-5-5"
    assert (await tab.chat()).model == "Claude Opus 5.5"  # the header follows
    tag = unique_tag()
    await tab.send(f"first [[sim {FAST} tag={tag}]]")
    await wait_idle(tab)
    assert [r.model for r in sim.recorder.find(tag)] == ["claude-opus-5-5"]

    # Another tab of the same user (another device): its new chat starts on Opus.
    other = Tab(tab.processor, tab.manager, tab.namespace)
    await _open(other)
    assert (await _state(other, SettingsState)).picker_model == "claude-opus-5-5"
    assert (await other.chat()).model == "Claude Opus 5.5"
    tag2 = unique_tag()
    await other.send(f"second [[sim {FAST} tag={tag2}]]")
    await wait_idle(other)
    assert [r.model for r in sim.recorder.find(tag2)] == ["claude-opus-5-5"]


async def test_the_picker_changes_the_open_conversations_next_reply(tab, sim):
    await _open(tab)
    await tab.send(f"hello [[sim {FAST}]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    await _open(tab, cid)
    assert (await _state(tab, SettingsState)).picker_model == "claude-sonnet-5-5"
    await tab.fire(SettingsState, "choose_model", model="claude-haiku-5-5")
    assert (await _conversation(tab)).model == "claude-haiku-5-5"
    tag = unique_tag()
    await tab.send(f"again [[sim {FAST} tag={tag}]]")
    await wait_idle(tab)
    assert [r.model for r in sim.recorder.find(tag)] == ["claude-haiku-5-5"]
    await _open(tab, cid)  # a reload shows the conversation's model in the picker
    assert (await _state(tab, SettingsState)).picker_model == "claude-haiku-5-5"


async def test_dialog_choices_become_the_defaults_of_new_chats(tab, sim):
    await _open(tab)
    await tab.fire(
        SettingsState,
        "save",
        form={"max_output_tokens": "1500", "thinking": "on", "thinking_budget": "2048"},
    )
    assert await _defaults(tab) == {
        "model": "claude-sonnet-5-5",
        "max_output_tokens": 1500,
        "thinking_budget": 2048,
    }
    await tab.fire(ChatState, "new_chat")
    await _open(tab)
    tag = unique_tag()
    await tab.send(f"think [[sim {FAST} tag={tag}]]")
    await wait_idle(tab)
    (record,) = sim.recorder.find(tag)
    assert record.thinking == {"type": "enabled", "budget_tokens": 2048}
    conversation = await _conversation(tab)
    assert (conversation.max_output_tokens, conversation.thinking_budget) == (1500, 2048)

    # Thinking turned off is remembered as off (0), and the next new chat has none.
    await tab.fire(SettingsState, "save", form={"max_output_tokens": ""})
    async with session_scope() as session:
        row = await session.get(users.User, tab.owner)
        assert row is not None and row.default_thinking_budget == 0
    await _open(tab)
    tag2 = unique_tag()
    await tab.send(f"plain [[sim {FAST} tag={tag2}]]")
    await wait_idle(tab)
    (plain,) = sim.recorder.find(tag2)
    assert plain.thinking is None


async def test_unknown_models_and_bad_values_are_refused_and_change_nothing(tab, sim):
    await _open(tab)
    await tab.fire(SettingsState, "choose_model", model="claude-haiku-5-5")
    since = len(tab.pushes())
    await tab.fire(SettingsState, "choose_model", model="gpt-9")
    assert any("Unknown model" in t for t in toasts(tab, since))
    await tab.fire(SettingsState, "save", form={"max_output_tokens": "999999999"})
    assert any("between 1 and" in t for t in toasts(tab, since))
    await tab.fire(SettingsState, "save", form={"thinking": "on", "thinking_budget": "12"})
    assert any("between 1024 and" in t for t in toasts(tab, since))
    assert await _defaults(tab) == {
        "model": "claude-haiku-5-5",
        "max_output_tokens": None,
        "thinking_budget": None,
    }
    assert (await _state(tab, SettingsState)).picker_model == "claude-haiku-5-5"


async def test_one_users_choices_are_not_anothers(tab, sim):
    await _open(tab)
    await tab.fire(SettingsState, "choose_model", model="claude-opus-5-5")
    bob = Tab(tab.processor, tab.manager, tab.namespace, cookie=await sign_in_user("bob"))
    await _open(bob)
    assert (await _state(bob, SettingsState)).picker_model == "claude-sonnet-5-5"
    assert (await _defaults(bob))["model"] is None


def test_stored_defaults_are_checked_again_when_used():
    # A model since removed from the catalog, or limits it no longer allows: left out.
    assert valid_defaults({"model": "claude-retired-1", "max_output_tokens": 10}) == {
        "max_output_tokens": 10
    }
    assert valid_defaults(
        {"model": "claude-haiku-4-5-20251001", "max_output_tokens": 100_000, "thinking_budget": 5}
    ) == {"model": "claude-haiku-4-5-20251001"}
    assert valid_defaults({}) == {}


def test_a_smaller_model_gets_limits_it_accepts():
    haiku45 = model_info("claude-haiku-4-5-20251001")
    fitted = fit_to_model(
        {
            "model": "claude-haiku-4-5-20251001",
            "max_output_tokens": 100_000,
            "thinking_budget": 90_000,
        },
        haiku45,
    )
    assert (fitted["max_output_tokens"], fitted["thinking_budget"]) == (64_000, 64_000)


async def test_a_new_conversation_is_listed_when_its_first_turn_starts(tab, sim):
    """Listed as soon as it is created (TurnStarted), not when its first reply ends."""
    await _open(tab)
    await tab.send("a slow one [[sim tokens=200 tps=20 ttft=0]]")

    from tests.conftest import eventually

    async def listed() -> bool:
        chat = await tab.chat()
        sidebar = await _state(tab, SidebarState)
        return bool(chat.conversation_id) and any(
            i.id == chat.conversation_id for i in sidebar.items
        )

    await eventually(listed, 10, "the new conversation in the list")
    assert (await tab.live()).generating  # while its first reply still streams
    item = (await _state(tab, SidebarState)).items[0]
    assert item.title == "a slow one"
    await tab.stop()
    await wait_idle(tab)


async def test_without_accounts_the_choices_are_kept_in_the_tab(tab, sim, app_env):
    """AI_CHAT_AUTH=none: the one local user has no account row to save to."""
    app_env(auth="none")
    local = Tab(tab.processor, tab.manager, tab.namespace, cookie="")
    await _open(local)
    await local.fire(SettingsState, "choose_model", model="claude-haiku-5-5")
    await local.fire(ChatState, "new_chat")
    await _open(local)
    assert (await _state(local, SettingsState)).picker_model == "claude-haiku-5-5"
    tag = unique_tag()
    await local.send(f"local [[sim {FAST} tag={tag}]]")
    await wait_idle(local)
    assert [r.model for r in sim.recorder.find(tag)] == ["claude-haiku-5-5"]
