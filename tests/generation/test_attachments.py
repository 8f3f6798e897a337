"""A turn with files, against the simulator over real HTTP with the real SDK: the files are
linked to the user message at the turn's start, reach Claude as image and document blocks
(with the top-level cache_control), come again with the history, and give way to a note
when the request would pass its size limit. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

from ai_chat.config import get_settings
from ai_chat.files.inspect import inspect
from ai_chat.generation.job import GenerationJob
from ai_chat.store import attachments as store
from ai_chat.store.db import run_read, run_write
from tests.files import samples
from tests.generation.helpers import OWNER, make_job, run_turn, unique_tag


async def upload(data: bytes, filename: str, owner: str = OWNER) -> str:
    found = inspect(data, filename, "", get_settings())

    def work(session):
        return store.store_upload_sync(
            session,
            owner,
            data=data,
            sha256=found.sha256,
            filename=found.filename,
            media_type=found.media_type,
            kind=found.kind,
            thumb=found.thumb,
        )

    return (await run_write(work)).id


def with_files(job: GenerationJob, *ids: str) -> GenerationJob:
    return dataclasses.replace(job, attachment_ids=ids)


async def test_files_reach_claude_as_blocks_and_stay_with_the_history(app_env, sim, db_url):
    app_env(db_url=db_url)
    png, pdf = samples.png(), samples.pdf(3)
    ids = (await upload(png, "photo.png"), await upload(pdf, "report.pdf"))
    tag = unique_tag()
    first = await run_turn(with_files(make_job(f"What are these? [[sim tag={tag}]]"), *ids))

    reply = first.finished.message
    assert reply.status == "complete", reply.error
    assert reply.content.startswith(
        f"I received 2 attachments: image/png image ({len(png):,} bytes), "
        'document "report.pdf" (application/pdf, 3 pages).'
    )
    (record,) = sim.recorder.find(tag)
    assert record.cache_control == {"type": "ephemeral"}
    (question,) = record.messages
    assert [b["type"] for b in question["content"]] == ["image", "document", "text"]
    assert question["content"][1]["title"] == "report.pdf"
    assert question["content"][2]["text"].startswith("What are these?")
    linked = await run_read(store.for_messages_sync, OWNER, [first.started.user_message.id])
    assert [a.id for a in linked[first.started.user_message.id]] == list(ids)
    assert await run_read(store.pending_sync, OWNER, ids) == []

    again = unique_tag()
    second = await run_turn(
        make_job(f"And now? [[sim tag={again}]]", first.started.conversation_id)
    )
    assert second.finished.message.status == "complete"
    assert not second.finished.message.content.startswith("I received")
    (record,) = sim.recorder.find(again)
    assert [b["type"] for b in record.messages[0]["content"]] == ["image", "document", "text"]
    assert [a["message"] for a in record.attachments] == [0, 0]
    assert record.messages[2]["content"].startswith("And now?")  # no files: still a string


async def test_a_file_that_is_not_the_users_ends_the_turn_with_nothing_stored(app_env):
    theirs = await upload(b"not yours", "secret.txt", owner="someone-else")
    mine = await upload(b"mine", "notes.txt")
    result = await run_turn(with_files(make_job("Read these"), mine, theirs))
    finished = result.finished
    assert not finished.user_turn_saved and finished.user_text == "Read these"
    assert finished.error_kind == "attachments"
    assert "no longer available" in (finished.message.error or "")
    assert [a.id for a in await run_read(store.pending_sync, OWNER, [mine])] == [mine]


async def test_too_many_pdf_pages_together_are_refused_before_anything_is_stored(app_env):
    ids = (await upload(samples.pdf(60), "a.pdf"), await upload(samples.pdf(50), "b.pdf"))
    result = await run_turn(with_files(make_job("Both please"), *ids))
    assert not result.finished.user_turn_saved
    assert "110 pages" in (result.finished.message.error or "")
    assert len(await run_read(store.pending_sync, OWNER, ids)) == 2


async def test_an_older_file_that_would_pass_the_size_limit_becomes_a_note(app_env, sim):
    app_env(request_max_bytes=str((1 << 20) + 500_000))
    first_file = await upload(b"a" * 300_000, "first.txt")
    first = await run_turn(with_files(make_job("one [[sim tokens=5]]"), first_file))
    assert first.finished.message.status == "complete"
    tag = unique_tag()
    second_file = await upload(b"b" * 300_000, "second.txt")
    job = make_job(f"two [[sim tokens=5 tag={tag}]]", first.started.conversation_id)
    second = await run_turn(with_files(job, second_file))
    assert second.finished.message.status == "complete"
    (record,) = sim.recorder.find(tag)
    old_blocks = record.messages[0]["content"]
    assert old_blocks[0]["type"] == "text" and "“first.txt”" in old_blocks[0]["text"]
    assert "is not included again" in old_blocks[0]["text"]
    assert [a["title"] for a in record.attachments] == ["second.txt"]
