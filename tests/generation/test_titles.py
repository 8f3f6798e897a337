"""Titles: the cleaning every title goes through, and the title job end to end (the real
SDK against the simulator, a real database): stored, counted, never over a rename."""

from __future__ import annotations

import pytest

from ai_chat.generation import runtime, titles
from ai_chat.limits import UserLimits
from ai_chat.llm.titles import TITLE_SYSTEM_PROMPT, clean_title, title_prompt
from ai_chat.store import conversations as store
from ai_chat.store.db import session_scope
from tests.generation.helpers import OWNER, make_job, run_turn

CLEANED = [
    ('"Trip to the Alps"', "Trip to the Alps"),
    ("**Bold** and _italic_ and `code`", "Bold and italic and code"),
    ("# Heading\nsecond line", "Heading second line"),
    ("Title: Weekend in Rome.", "Weekend in Rome"),
    ("“Curly quotes”", "Curly quotes"),
    ("hello [[sim tokens=5 tps=1000]] world", "hello world"),
    ("[[sim echo=1]]", ""),
    ("see [the docs](https://example.com) ![img](x.png)", "see the docs img"),
    ("```python\nprint(1)\n```", "print(1)"),
    ("- a list item\n> a quote", "a list item a quote"),
    ("<b>tags</b> gone", "tags gone"),
    ("tab\there\r\nnew   line", "tab here new line"),
    ("", ""),
    # Not Markdown: left as written.
    ("rename snake_case_name in C# code", "rename snake_case_name in C# code"),
    ("is 2*3*4 < 25?", "is 2*3*4 < 25?"),
    ("| a | b |\n~~old~~ new", "a b old new"),
]


@pytest.mark.parametrize(("raw", "clean"), CLEANED)
def test_a_title_is_one_line_of_plain_text(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_a_long_title_is_cut_at_a_word_under_the_limit() -> None:
    title = clean_title("word " * 40)
    assert len(title) <= 60 and title.endswith("word…")
    assert len(clean_title("x" * 100)) == 60  # one long word: cut inside it


def test_the_provisional_title_is_the_cleaned_first_message() -> None:
    assert store.provisional_title("**Plan** a trip [[sim tokens=5]]") == "Plan a trip"


def test_the_title_request_leaves_directives_out() -> None:
    prompt = title_prompt("hi [[sim error=500]] there", "reply")
    assert "[[sim" not in prompt and "hi  there" in prompt and "reply" in prompt


async def _conversation_title(cid: str) -> str:
    async with session_scope() as session:
        return (await store.require_conversation(session, OWNER, cid)).title


async def _first_turn(text: str) -> tuple[str, str, str]:
    """A new conversation's first turn run to its end: (id, first message, provisional)."""
    result = await run_turn(make_job(text))
    started = result.started
    return started.conversation_id, started.user_message.content, started.title


async def test_the_title_job_stores_claudes_title_and_counts_its_tokens(app_env, sim) -> None:
    cid, first, provisional = await _first_turn(
        "please plan a weekend trip to the Alps [[sim tokens=5 tps=1000 ttft=0]]"
    )
    assert provisional == "please plan a weekend trip to the Alps"
    assert await _conversation_title(cid) == provisional
    quotas = runtime.get_service().quotas
    used_before = await quotas.tokens_used(OWNER)
    sim.recorder.clear()

    assert titles.start(OWNER, UserLimits.defaults(), cid, first, "A plan.", provisional)
    title = await titles.wait(OWNER, cid)

    assert title == "please plan a weekend trip"  # the simulator's: its first five words
    assert await _conversation_title(cid) == title
    (request,) = [r for r in sim.recorder.all() if r.system == TITLE_SYSTEM_PROMPT]
    assert request.model == runtime.get_service().settings.title_model
    assert await quotas.tokens_used(OWNER) > used_before
    # Once per conversation; and another user can't wait on it.
    assert not titles.start(OWNER, UserLimits.defaults(), cid, first, "A plan.", provisional)
    assert await titles.wait("someone-else", cid) == ""


async def test_a_rename_before_the_title_arrives_wins(app_env) -> None:
    cid, first, provisional = await _first_turn(
        "tell me about the history of tea [[sim tokens=5 tps=1000 ttft=0]]"
    )
    from ai_chat.store import conversation_list

    async with session_scope() as session:
        await conversation_list.rename_conversation(session, OWNER, cid, "My tea notes")
    titles.start(OWNER, UserLimits.defaults(), cid, first, "Tea…", provisional)
    assert await titles.wait(OWNER, cid) == ""
    assert await _conversation_title(cid) == "My tea notes"


async def test_a_failed_title_request_keeps_the_cleaned_first_message(app_env) -> None:
    app_env(title_model="gpt-4")  # the simulator answers 404 for a model that isn't Claude's
    cid, first, provisional = await _first_turn(
        "**explain** quantum tunnelling to a child [[sim tokens=5 tps=1000 ttft=0]]"
    )
    titles.start(OWNER, UserLimits.defaults(), cid, first, "Imagine…", provisional)
    assert await titles.wait(OWNER, cid) == ""
    assert await _conversation_title(cid) == "explain quantum tunnelling to a child"


async def test_titles_can_be_turned_off(app_env) -> None:
    app_env(titles="0")
    cid, first, provisional = await _first_turn(
        "one two three four five six seven [[sim tokens=5 tps=1000 ttft=0]]"
    )
    assert not titles.start(OWNER, UserLimits.defaults(), cid, first, "x", provisional)
    assert await _conversation_title(cid) == provisional


async def test_a_generated_title_is_stored_only_over_the_provisional_one(db_url) -> None:
    """On SQLite and PostgreSQL: the owner's conversation, still provisionally titled; its
    recency untouched (a title is not activity)."""
    from ai_chat.config import async_url
    from ai_chat.store.db import run_write

    adb = async_url(db_url)
    async with session_scope(adb) as session:
        conversation = await store.create_conversation(session, "alice", "first words")
        cid, updated = conversation.id, conversation.updated_at
    assert not await run_write(
        store.set_generated_title_sync, "mallory", cid, "Stolen", "first words", url=adb
    )
    assert not await run_write(
        store.set_generated_title_sync, "alice", cid, "Late", "other words", url=adb
    )
    assert await run_write(
        store.set_generated_title_sync, "alice", cid, "Named", "first words", url=adb
    )
    async with session_scope(adb) as session:
        stored = await store.require_conversation(session, "alice", cid)
    assert stored.title == "Named"
    assert store.as_utc(stored.updated_at) == store.as_utc(updated)
