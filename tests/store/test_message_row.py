"""The row a turn writes stands for the ORM model: same columns, same defaults."""

from __future__ import annotations

import dataclasses

from ai_chat.store.models import Message, MessageRow


def test_a_message_row_has_the_message_tables_columns_and_defaults():
    columns = {column.name for column in Message.__table__.columns}  # type: ignore[attr-defined]
    assert {field.name for field in dataclasses.fields(MessageRow)} == columns
    row = MessageRow("c", 0, "user")
    model = Message(conversation_id="c", seq=0, role="user")
    for name in columns - {"id", "created_at"}:  # drawn afresh for each message
        assert getattr(row, name) == getattr(model, name), name
    assert len(row.id) == len(model.id) and row.id != MessageRow("c", 0, "user").id
    assert row.created_at.tzinfo is not None and model.created_at.tzinfo is not None
