import pytest

from ai_chat.llm.history import Turn, build_messages, unanswered


def test_new_user_text_is_appended_exactly_once():
    history = [Turn("user", "hi"), Turn("assistant", "hello")]
    messages = build_messages(history, "how are you?", max_chars=10_000)
    assert messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "how are you?"},
    ]


def test_a_question_whose_reply_failed_before_any_text_is_left_out_not_merged():
    history = [Turn("user", "first"), Turn("assistant", "", "failed")]
    messages = build_messages(history, "second", max_chars=10_000)
    assert messages == [{"role": "user", "content": "second"}]


@pytest.mark.parametrize(
    "lost",
    [
        [],  # the reply never started (no assistant row)
        [Turn("assistant", "", "interrupted")],  # the process died before any checkpoint
        [Turn("assistant", "  ", "cancelled")],  # stopped before any text
        [Turn("assistant", "", "streaming")],  # an in-flight row whose owner is gone
    ],
)
def test_an_unanswered_question_is_never_glued_onto_the_next(lost):
    history = [Turn("user", "q1"), Turn("assistant", "a1"), Turn("user", "lost question"), *lost]
    messages = build_messages(history, "next question", max_chars=10_000)
    assert messages == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "next question"},
    ]
    assert all("lost question" not in m["content"] for m in messages)


def test_an_interrupted_reply_with_text_is_kept_as_context():
    history = [Turn("user", "q"), Turn("assistant", "half an answer", "interrupted")]
    messages = build_messages(history, "go on", max_chars=10_000)
    assert [m["content"] for m in messages] == ["q", "half an answer", "go on"]


def test_unanswered_marks_user_turns_without_reply_text():
    turns = [
        Turn("user", "a"),
        Turn("assistant", "x"),
        Turn("user", "b"),
        Turn("user", "c"),
        Turn("assistant", "", "failed"),
        Turn("user", "d"),
    ]
    assert unanswered(turns) == [False, False, True, True, False, True]


def test_cancelled_partial_reply_is_kept_as_context():
    history = [Turn("user", "q"), Turn("assistant", "partial ans", "cancelled")]
    messages = build_messages(history, "go on", max_chars=10_000)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "partial ans"


def test_oldest_turns_are_trimmed_and_list_starts_with_user():
    history = [
        Turn("user", "a" * 50),
        Turn("assistant", "b" * 50),
        Turn("user", "c" * 10),
        Turn("assistant", "d" * 10),
    ]
    messages = build_messages(history, "e" * 10, max_chars=40)
    assert messages[0]["role"] == "user"
    assert messages[-1] == {"role": "user", "content": "e" * 10}
    assert sum(len(m["content"]) for m in messages) <= 40
    assert all("a" not in m["content"] for m in messages)


def test_the_new_message_survives_even_if_alone_too_large():
    messages = build_messages([Turn("user", "old"), Turn("assistant", "x")], "n" * 100, 10)
    assert messages == [{"role": "user", "content": "n" * 100}]
