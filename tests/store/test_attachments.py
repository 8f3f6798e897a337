"""Attachment queries on SQLite and PostgreSQL: content-addressed blobs, owner-only reads,
linking at send, copies for an edit, deletion with the conversation, the unsent sweep."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ai_chat.config import async_url
from ai_chat.store import attachment_cleanup as cleanup
from ai_chat.store import attachments as store
from ai_chat.store import conversations, turns
from ai_chat.store.conversation_list import delete_conversation
from ai_chat.store.db import run_read, run_write, session_scope
from ai_chat.store.models import Attachment, AttachmentBlob, AttachmentKind, utcnow


@pytest.fixture
def url(db_url: str) -> str:
    return async_url(db_url)


def _upload(owner: str, data: bytes, name: str = "a.txt", thumb: bytes | None = None):
    def work(session):
        return store.store_upload_sync(
            session,
            owner,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=name,
            media_type="text/plain",
            kind=AttachmentKind.TEXT,
            thumb=(hashlib.sha256(thumb).hexdigest(), thumb) if thumb else None,
        )

    return work


async def _blob_count(url: str) -> int:
    def count(session):
        return session.exec(sa.select(sa.func.count()).select_from(AttachmentBlob)).one()[0]

    return await run_read(count, url=url)


async def _message(url: str, owner: str, conversation_id: str | None = None) -> tuple[str, str]:
    async with session_scope(url) as s:
        if conversation_id is None:
            conversation_id = (await conversations.create_conversation(s, owner)).id
        message = await turns.add_user_message(s, owner, conversation_id, "look")
    return conversation_id, message.id


async def test_identical_bytes_are_one_blob_and_each_upload_its_own_row(url):
    a = await run_write(_upload("alice", b"same bytes", "a.txt"), url=url)
    b = await run_write(_upload("bob", b"same bytes", "b.txt"), url=url)
    assert a.id != b.id and a.sha256 == b.sha256
    assert await _blob_count(url) == 1
    assert await run_read(store.blob_sync, a.sha256, url=url) == b"same bytes"


async def test_reads_are_the_owners_only(url):
    mine = await run_write(_upload("alice", b"private"), url=url)
    assert await run_read(store.get_owned_sync, "bob", mine.id, url=url) is None
    assert (await run_read(store.get_owned_sync, "alice", mine.id, url=url)).id == mine.id
    assert await run_read(store.pending_sync, "bob", [mine.id], url=url) == []


async def test_pending_keeps_the_given_order_and_drops_others(url):
    first = await run_write(_upload("alice", b"1"), url=url)
    second = await run_write(_upload("alice", b"2"), url=url)
    theirs = await run_write(_upload("bob", b"3"), url=url)
    ids = [second.id, "nope", theirs.id, first.id, second.id, 42, "x" * 40]
    found = await run_read(store.pending_sync, "alice", ids, url=url)
    assert [a.id for a in found] == [second.id, first.id]


async def test_link_orders_files_and_refuses_what_is_not_pending(url):
    _, message_id = await _message(url, "alice")
    a = await run_write(_upload("alice", b"a"), url=url)
    b = await run_write(_upload("alice", b"b"), url=url)
    theirs = await run_write(_upload("bob", b"c"), url=url)

    def link(ids, max_files=20, max_bytes=1000):
        return lambda s: store.link_sync(
            s, "alice", message_id, ids, max_files=max_files, max_encoded_bytes=max_bytes
        )

    with pytest.raises(store.AttachmentRefused, match="no longer available"):
        await run_write(link([a.id, theirs.id]), url=url)
    with pytest.raises(store.AttachmentRefused, match="At most 1 files"):
        await run_write(link([a.id, b.id], max_files=1), url=url)
    with pytest.raises(store.AttachmentRefused, match="too large together"):
        await run_write(link([a.id, b.id], max_bytes=1), url=url)
    assert len(await run_read(store.pending_sync, "alice", [a.id, b.id], url=url)) == 2
    await run_write(link([b.id, a.id]), url=url)
    by_message = await run_read(store.for_messages_sync, "alice", [message_id], url=url)
    assert [x.id for x in by_message[message_id]] == [b.id, a.id]
    assert await run_read(store.pending_sync, "alice", [a.id], url=url) == []  # sent now
    assert await run_read(store.for_messages_sync, "bob", [message_id], url=url) == {}
    with pytest.raises(store.AttachmentRefused):  # a sent file can't be sent again
        await run_write(link([a.id]), url=url)


async def test_an_edited_message_gets_copies_of_its_files(url):
    conversation_id, source = await _message(url, "alice")
    _, edited = await _message(url, "alice", conversation_id)
    files = [await run_write(_upload("alice", bytes([i])), url=url) for i in range(2)]
    await run_write(
        lambda s: store.link_sync(
            s, "alice", source, [f.id for f in files], max_files=5, max_encoded_bytes=100
        ),
        url=url,
    )
    copies = await run_write(store.copy_to_message_sync, "alice", source, edited, url=url)
    assert [c.sha256 for c in copies] == [f.sha256 for f in files]
    both = await run_read(store.for_messages_sync, "alice", [source, edited], url=url)
    assert [a.position for a in both[edited]] == [0, 1]
    assert {a.id for a in both[source]}.isdisjoint({a.id for a in both[edited]})
    assert await run_write(store.copy_to_message_sync, "bob", source, edited, url=url) == []
    added = await run_write(_upload("alice", b"added with the edit"), url=url)
    await run_write(
        lambda s: store.link_sync(
            s, "alice", edited, [added.id], max_files=5, max_encoded_bytes=100
        ),
        url=url,
    )
    after = await run_read(store.for_messages_sync, "alice", [edited], url=url)
    assert [(a.sha256, a.position) for a in after[edited]][-1] == (added.sha256, 2)
    with pytest.raises(store.AttachmentRefused, match="At most 3 files"):
        more = await run_write(_upload("alice", b"one too many"), url=url)
        await run_write(
            lambda s: store.link_sync(
                s, "alice", edited, [more.id], max_files=3, max_encoded_bytes=100
            ),
            url=url,
        )


async def test_deleting_a_conversation_deletes_its_files_and_unnamed_blobs(url):
    conversation_id, message_id = await _message(url, "alice")
    gone = await run_write(_upload("alice", b"only here", thumb=b"its preview"), url=url)
    shared = await run_write(_upload("alice", b"also elsewhere"), url=url)
    await run_write(_upload("alice", b"also elsewhere"), url=url)  # unsent, same bytes
    await run_write(
        lambda s: store.link_sync(
            s, "alice", message_id, [gone.id, shared.id], max_files=5, max_encoded_bytes=1000
        ),
        url=url,
    )
    assert await _blob_count(url) == 3
    async with session_scope(url) as s:
        await delete_conversation(s, "alice", conversation_id)
    assert await run_read(store.get_owned_sync, "alice", gone.id, url=url) is None
    assert await _blob_count(url) == 1  # the bytes another upload still names
    assert await run_read(store.blob_sync, shared.sha256, url=url) == b"also elsewhere"


async def test_unsent_uploads_older_than_the_cutoff_are_swept(url):
    old = await run_write(_upload("alice", b"old"), url=url)
    fresh = await run_write(_upload("alice", b"fresh"), url=url)

    def age(session):
        row = session.get(Attachment, old.id)
        row.created_at = utcnow() - timedelta(days=2)
        session.add(row)

    await run_write(age, url=url)
    assert await run_write(cleanup.sweep_unsent_sync, utcnow() - timedelta(days=1), url=url) == 1
    assert await run_read(store.get_owned_sync, "alice", old.id, url=url) is None
    assert await run_read(store.get_owned_sync, "alice", fresh.id, url=url) is not None
    assert await _blob_count(url) == 1


def test_view_gives_urls_and_no_bytes():
    attachment = Attachment(
        id="abc",
        owner="o",
        sha256="s",
        filename="f.png",
        media_type="image/png",
        kind="image",
        size=10,
        thumb_sha256="t",
    )
    shown = store.view(attachment).as_dict()
    assert shown == {
        "id": "abc",
        "filename": "f.png",
        "kind": "image",
        "media_type": "image/png",
        "size": 10,
        "url": "/_files/abc",
        "thumb_url": "/_files/abc/thumb",
    }
    assert store.view(attachment.model_copy(update={"thumb_sha256": None})).thumb_url == ""
