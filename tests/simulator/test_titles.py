"""The simulator's answer to the app's title request: recognised by its system prompt, a
title tests can predict, through the real SDK."""

from __future__ import annotations

import anthropic

from ai_chat.llm import titles as app_titles
from ai_chat.llm.titles import request_title
from ai_chat.simulator import titles as sim_titles


def test_the_simulator_knows_the_apps_title_prompt() -> None:
    # The simulator keeps its own copies (it imports nothing of the app): they must match.
    assert sim_titles.TITLE_SYSTEM_PROMPT == app_titles.TITLE_SYSTEM_PROMPT
    assert (sim_titles.MESSAGE_OPEN, sim_titles.MESSAGE_CLOSE) == (
        app_titles.MESSAGE_OPEN,
        app_titles.MESSAGE_CLOSE,
    )
    assert sim_titles.is_title_request(app_titles.TITLE_SYSTEM_PROMPT)
    assert sim_titles.is_title_request([{"type": "text", "text": app_titles.TITLE_SYSTEM_PROMPT}])
    assert not sim_titles.is_title_request("You are helpful.")
    assert not sim_titles.is_title_request(None)


def test_the_title_is_the_first_words_of_the_message() -> None:
    assert sim_titles.expected_title("plan a weekend trip to the Alps, please") == (
        "plan a weekend trip to"
    )
    assert sim_titles.expected_title("**What's** 2+2?") == "What's 2 2"
    assert sim_titles.expected_title("???") == "Conversation"
    prompt = app_titles.title_prompt("hello there world", "The reply mentions other words.")
    assert sim_titles.title_reply(prompt) == '"hello there world"'


async def test_a_title_request_through_the_sdk_gets_the_predicted_title(
    client: anthropic.AsyncAnthropic,
) -> None:
    result = await request_title(
        client,
        "claude-haiku-5-5",
        "**Plan** a weekend [[sim tokens=3]] trip to the Alps with kids",
        "Here is a plan for your trip…",
    )
    # The directive was left out of the request; quotes and Markdown cleaned off.
    assert result.title == "Plan a weekend trip to"
    assert result.billed_tokens > 0


async def test_an_ordinary_request_is_not_answered_with_a_title(
    client: anthropic.AsyncAnthropic,
) -> None:
    response = await client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=50,
        system="You are helpful.",
        messages=[{"role": "user", "content": app_titles.title_prompt("hello there", "")}],
    )
    text = "".join(getattr(b, "text", "") for b in response.content)
    assert text != '"hello there"'
