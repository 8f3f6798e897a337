"""Versions in the store, on SQLite and PostgreSQL: Regenerate and Edit add a version beside
what they replace (nothing is deleted), the path shown follows the chosen versions, a
switch shows another version with its branch, and the migration links existing rows."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ai_chat.config import async_url
from ai_chat.store import attachments, branches, conversations, migrations, turns
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import AttachmentKind, MessageRow, utcnow
from tests.conftest import sync_url

OWNER = "alice"


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


def _in_flight() -> MessageRow:
    return MessageRow(
        "", -1, "assistant", status="thinking", lease_until=utcnow() + timedelta(seconds=5)
    )


async def _turn(adb, cid, text, version_of=None, regenerate=False, reply_text="answer"):
    """A turn whose reply ends with `reply_text`: (user message, reply row, history sent)."""
    reply = _in_flight()
    conv, previous, user = await run_write(
        turns.start_turn_sync,
        OWNER,
        cid,
        text,
        None,
        version_of,
        None,
        reply,
        regenerate,
        url=adb,
    )
    ended = MessageRow(conv.id, reply.seq, "assistant", id=reply.id, content=reply_text)
    await run_write(turns.finish_assistant_message_sync, OWNER, ended, url=adb)
    return conv.id, user, reply, [r.content for r in previous]


async def _shown(adb, cid):
    path = await run_read(branches.active_path_sync, OWNER, cid, url=adb)
    return [m.content for m in path], {
        next(m.content for m in path if m.id == k): v for k, v in path.versions.items()
    }


async def _all(adb, cid):
    return await run_read(conversations.list_messages_sync, OWNER, cid, url=adb)


async def test_regenerate_keeps_the_old_reply_as_version_one(adb):
    cid, _, _, _ = await _turn(adb, None, "q1", reply_text="a1")
    _, q2, old, _ = await _turn(adb, cid, "q2", reply_text="a2 first")
    _, again, new, previous = await _turn(
        adb, cid, "q2", version_of=q2.id, regenerate=True, reply_text="a2 second"
    )
    assert again.id == q2.id  # the question is not stored again
    assert previous == ["q1", "a1"]  # what Claude is sent before the question
    assert await _shown(adb, cid) == (["q1", "a1", "q2", "a2 second"], {"a2 second": (2, 2)})
    rows = {r.id: r for r in await _all(adb, cid)}
    assert len(rows) == 5 and not rows[old.id].active and rows[old.id].content == "a2 first"
    assert rows[new.id].parent_id == q2.id == rows[old.id].parent_id
    assert rows[new.id].seq > max(r.seq for r in rows.values() if r.id != new.id)


async def test_edit_adds_a_user_version_and_keeps_the_old_branch_and_its_files(adb):
    cid, _, _, _ = await _turn(adb, None, "q1", reply_text="a1")
    _, q2, _, _ = await _turn(adb, cid, "q2", reply_text="a2")
    await _turn(adb, cid, "q3", reply_text="a3")
    data = b"notes"
    sha = hashlib.sha256(data).hexdigest()
    upload = await run_write(
        lambda s: attachments.store_upload_sync(
            s,
            OWNER,
            data=data,
            sha256=sha,
            filename="notes.txt",
            media_type="text/plain",
            kind=AttachmentKind.TEXT,
        ),
        url=adb,
    )
    await run_write(
        lambda s: attachments.link_sync(
            s, OWNER, q2.id, [upload.id], max_files=5, max_encoded_bytes=10**6
        ),
        url=adb,
    )
    _, edited, _, previous = await _turn(adb, cid, "q2 edited", version_of=q2.id, reply_text="b2")
    assert previous == ["q1", "a1"]
    assert await _shown(adb, cid) == (["q1", "a1", "q2 edited", "b2"], {"q2 edited": (2, 2)})
    files = await run_read(attachments.for_messages_sync, OWNER, [q2.id, edited.id], url=adb)
    assert [a.filename for a in files[edited.id]] == ["notes.txt"]  # the edit keeps its files
    assert [a.filename for a in files[q2.id]] == ["notes.txt"]  # and so does the old version
    assert [r.content for r in await _all(adb, cid)] == [
        "q1",
        "a1",
        "q2",
        "a2",
        "q3",
        "a3",
        "q2 edited",
        "b2",
    ]


async def test_switching_shows_a_version_with_the_turns_of_its_branch(adb):
    cid, _, _, _ = await _turn(adb, None, "q1", reply_text="a1")
    _, q2, _, _ = await _turn(adb, cid, "q2", reply_text="a2")
    _, q3, a3, _ = await _turn(adb, cid, "q3", reply_text="a3")
    _, _, a3_again, _ = await _turn(
        adb, cid, "q3", version_of=q3.id, regenerate=True, reply_text="a3 again"
    )
    _, edited, _, _ = await _turn(adb, cid, "q2 edited", version_of=q2.id, reply_text="b2")
    path = await run_write(branches.switch_sync, OWNER, cid, edited.id, -1, url=adb)
    shown = [m.content for m in path]
    # The old branch, with the reply chosen in it (the regenerated one).
    assert shown == ["q1", "a1", "q2", "a2", "q3", "a3 again"]
    assert path.versions == {q2.id: (1, 2), a3_again.id: (2, 2)}
    # The choice is stored: a new turn goes on this branch, and Claude is sent this path.
    _, _, _, previous = await _turn(adb, cid, "q4", reply_text="a4")
    assert previous == shown
    path = await run_write(branches.switch_sync, OWNER, cid, q2.id, +1, url=adb)
    assert [m.content for m in path] == ["q1", "a1", "q2 edited", "b2"]
    path = await run_write(branches.switch_sync, OWNER, cid, edited.id, -1, url=adb)
    assert [m.content for m in path][-4:] == ["q3", "a3 again", "q4", "a4"]
    # The first reply to q3 had no later turns: the path ends with it.
    path = await run_write(branches.switch_sync, OWNER, cid, a3_again.id, -1, url=adb)
    assert [m.id for m in path][-1] == a3.id and path.versions[a3.id] == (1, 2)
    shown, _ = await _shown(adb, cid)  # as a reload shows it
    assert shown == ["q1", "a1", "q2", "a2", "q3", "a3"]


async def test_a_switch_is_refused_out_of_range_while_streaming_and_for_others(adb):
    cid, q1, reply, _ = await _turn(adb, None, "q1", reply_text="a1")
    with pytest.raises(LookupError):
        await run_write(branches.switch_sync, OWNER, cid, q1.id, -1, url=adb)  # only one version
    with pytest.raises(LookupError):
        await run_write(branches.switch_sync, OWNER, cid, "f" * 32, 1, url=adb)
    with pytest.raises(conversations.ConversationNotFound):
        await run_write(branches.switch_sync, "mallory", cid, q1.id, 1, url=adb)
    with pytest.raises(ValueError):
        await run_write(branches.switch_sync, OWNER, cid, q1.id, 2, url=adb)
    await run_write(
        turns.start_turn_sync, OWNER, cid, "q1", None, q1.id, None, _in_flight(), True, url=adb
    )
    with pytest.raises(branches.VersionsBusy):  # the regenerated reply still streams
        await run_write(branches.switch_sync, OWNER, cid, reply.id, 1, url=adb)
    assert await run_read(branches.version_sync, OWNER, cid, reply.id, url=adb) == (1, 2)


async def test_a_new_turn_goes_at_the_end_of_the_path_even_with_a_stale_history(adb):
    """SQLite's path reads the history apart from the write: a tip that is stale (another
    turn was written since) is found again in the write."""
    cid, q1, _, _ = await _turn(adb, None, "q1", reply_text="a1")
    _, _, tip = await run_read(turns.turn_history_sync, OWNER, cid, url=adb)
    await _turn(adb, cid, "q1", version_of=q1.id, regenerate=True, reply_text="a1 again")
    new = await run_write(turns.add_user_message_sync, OWNER, cid, "q2", None, None, tip, url=adb)
    shown, _ = await _shown(adb, cid)
    assert shown == ["q1", "a1 again", "q2"] and new.parent_id != tip.tail


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_migration_links_existing_rows_in_seq_order(backend, request):
    url = sync_url(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    migrations.upgrade(url, "0005_attachments_defaults")
    engine = sa.create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        for cid in ("c1", "c2"):
            conn.execute(
                sa.text(
                    "INSERT INTO conversation (id, owner, title, created_at, updated_at, "
                    "system_prompt) VALUES (:id, 'alice', 't', :now, :now, '')"
                ),
                {"id": cid, "now": now},
            )
        # c1: a question without its reply row (older data: seq 2 left for it), then more.
        for cid, seq, role in [
            ("c1", 0, "user"),
            ("c1", 1, "assistant"),
            ("c1", 2, "user"),
            ("c1", 4, "user"),
            ("c1", 5, "assistant"),
            ("c2", 0, "user"),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO message (id, conversation_id, seq, role, content, thinking, "
                    "status, output_tokens_estimated, created_at) VALUES "
                    "(:id, :cid, :seq, :role, :content, '', 'complete', false, :now)"
                ),
                {
                    "id": f"{cid}-{seq}",
                    "content": "x",
                    "cid": cid,
                    "seq": seq,
                    "role": role,
                    "now": now,
                },
            )
    migrations.upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, parent_id, active FROM message ORDER BY conversation_id, seq")
        ).all()
    engine.dispose()
    assert [(r.id, r.parent_id, bool(r.active)) for r in rows] == [
        ("c1-0", None, True),
        ("c1-1", "c1-0", True),
        ("c1-2", "c1-1", True),
        ("c1-4", "c1-2", True),
        ("c1-5", "c1-4", True),
        ("c2-0", None, True),
    ]
    assert [r.id for r in branches.walk([r for r in rows if r.id.startswith("c1")])] == [
        "c1-0",
        "c1-1",
        "c1-2",
        "c1-4",
        "c1-5",
    ]


async def test_rows_written_without_parents_are_one_line_without_versions(adb):
    """Rows inserted as before versions (no parent: older tools, direct writes) read as
    the conversation in seq order, never as versions of a first message."""
    from ai_chat.store.models import Message

    def write(session) -> str:
        conversation = conversations.create_conversation_sync(session, OWNER, "old")
        for seq, role in enumerate(["user", "assistant", "user", "assistant"]):
            session.add(
                Message(conversation_id=conversation.id, seq=seq, role=role, content=f"m{seq}")
            )
        return conversation.id

    cid = await run_write(write, url=adb)
    assert await _shown(adb, cid) == (["m0", "m1", "m2", "m3"], {})
    first = (await _all(adb, cid))[0]
    with pytest.raises(LookupError):
        await run_write(branches.switch_sync, OWNER, cid, first.id, 1, url=adb)
    # A turn sent now follows the last of them.
    _, _, _, previous = await _turn(adb, cid, "m4", reply_text="m5")
    assert previous == ["m0", "m1", "m2", "m3"]
    assert (await _shown(adb, cid))[0] == ["m0", "m1", "m2", "m3", "m4", "m5"]
