"""The tray of files for the next message, server state first, through Reflex's event
processor: only the user's own unsent uploads enter it, send takes it (never ids from the
form), a refused send keeps it, and a loaded conversation shows each message's files."""

from __future__ import annotations

import base64
import hashlib

from reflex.istate.manager.token import BaseStateToken
from reflex.state import State

from ai_chat.state.attachments import AttachmentsState
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.versions import EDIT_FIELD
from ai_chat.store import attachments as files_store
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import Attachment, AttachmentKind
from tests.conftest import eventually
from tests.files import samples
from tests.generation.helpers import unique_tag
from tests.state.harness import Tab, sign_in_user
from tests.state.test_send_stream import wait_idle


async def _upload(owner: str, name: str = "notes.txt", data: bytes = b"hello, file") -> str:
    """An unsent upload of `owner`, as POST /_files stores it."""
    kind = AttachmentKind.IMAGE if name.endswith(".png") else AttachmentKind.TEXT
    media = "image/png" if kind is AttachmentKind.IMAGE else "text/plain"

    def store(session) -> str:
        attachment = files_store.store_upload_sync(
            session,
            owner,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=name,
            media_type=media,
            kind=kind,
        )
        return attachment.id

    return await run_write(store)


async def _tray(tab: Tab) -> AttachmentsState:
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        return await root.get_state(AttachmentsState)


async def _attach(tab: Tab, attachment_id: object) -> None:
    await tab.fire(AttachmentsState, "attach", attachment_id=attachment_id)


async def _linked(attachment_id: str) -> str | None:
    def read(session) -> str | None:
        row = session.get(Attachment, attachment_id)
        return row.message_id if row is not None else "deleted"

    return await run_read(read)


async def test_only_the_users_own_unsent_upload_enters_the_tray(tab):
    await tab.open()
    mine = await _upload(tab.owner, "notes.txt")
    mallory = Tab(tab.processor, tab.manager, tab.namespace, cookie=await sign_in_user("mallory"))
    theirs = await _upload(mallory.owner, "secret.txt")

    await _attach(tab, mine)
    await _attach(tab, mine)  # twice: listed once
    await _attach(tab, theirs)  # another user's id, guessed or stolen
    await _attach(tab, "f" * 32)  # unknown
    await _attach(tab, {"id": mine})  # malformed: ignored
    tray = await _tray(tab)
    assert [(v.id, v.filename, v.size, v.url) for v in tray.pending] == [
        (mine, "notes.txt", 11, f"/_files/{mine}")
    ]
    assert tray.pending[0].thumb_url == "" and tray.pending[0].size_label == "11 bytes"
    assert [r.id for r in tray.refused] == [theirs, "f" * 32]
    assert "not found" in tray.refused[0].message
    # Only names, sizes and URLs were pushed: never the file's bytes.
    assert all("hello, file" not in str(p.delta) for p in tab.pushes())


async def test_the_tray_holds_at_most_the_configured_number_of_files(tab, app_env):
    app_env(attachment_max_files="2", keep_sign_ins="1")
    await tab.open()
    ids = [await _upload(tab.owner, f"f{i}.txt", f"file {i}".encode()) for i in range(3)]
    for attachment_id in ids:
        await _attach(tab, attachment_id)
    tray = await _tray(tab)
    assert [v.id for v in tray.pending] == ids[:2]
    assert tray.refused[-1].id == ids[2] and "at most 2 files" in tray.refused[-1].message


async def test_remove_takes_a_file_off_the_tray_and_deletes_the_upload(tab):
    await tab.open()
    keep, drop = await _upload(tab.owner, "keep.txt", b"k"), await _upload(tab.owner, "x.txt", b"x")
    await _attach(tab, keep)
    await _attach(tab, drop)
    await tab.fire(AttachmentsState, "remove", attachment_id=drop)
    assert [v.id for v in (await _tray(tab)).pending] == [keep]
    assert await _linked(drop) == "deleted"
    assert await _linked(keep) is None  # still an unsent upload


async def test_send_takes_the_trays_files_to_claude_and_the_message_shows_them(tab, sim):
    await tab.open()
    image = await _upload(tab.owner, "red.png", samples.png())
    text = await _upload(tab.owner, "notes.txt", b"the notes")
    await _attach(tab, image)
    await _attach(tab, text)
    tag = unique_tag()
    # ids in the form are not how files go: only the tray's list is sent
    await tab.fire(
        LiveState,
        "send",
        form_data={"message": f"What are these? [[sim tokens=5 tps=1000 ttft=0 tag={tag}]]"},
    )
    assert (await _tray(tab)).pending == []
    await wait_idle(tab)

    chat = await tab.chat()
    user = chat._shown_messages()[0]
    assert [v.id for v in user.attachments] == [image, text]
    assert await _linked(image) == user.id and await _linked(text) == user.id
    (record,) = sim.recorder.find(tag)
    blocks = record.messages[-1]["content"]
    assert [b["type"] for b in blocks] == ["image", "document", "text"]

    # a reload (another tab opening the conversation) shows them from the database
    other = Tab(tab.processor, tab.manager, tab.namespace, cookie=tab.cookie)
    await other.open(chat.conversation_id)
    loaded = (await other.chat())._shown_messages()[0]
    assert [(v.id, v.kind) for v in loaded.attachments] == [(image, "image"), (text, "text")]
    assert loaded.attachments[0].thumb_url == ""  # no preview stored by this test's upload


async def test_files_alone_are_a_message_and_an_empty_box_alone_is_not(tab, sim):
    await tab.open()
    await tab.send("   ")
    assert not (await tab.live()).generating  # nothing to send
    attachment = await _upload(tab.owner, "only.txt", b"just the file")
    await _attach(tab, attachment)
    await tab.send("")
    await wait_idle(tab)
    user = (await tab.chat())._shown_messages()[0]
    assert user.content == "" and [v.id for v in user.attachments] == [attachment]
    assert await _linked(attachment) == user.id


async def test_a_send_refused_while_claude_replies_keeps_the_files(tab, sim):
    await tab.open()
    await tab.send(f"long [[sim tokens=3000 tps=50 ttft=0 tag={unique_tag()}]]")

    async def streaming() -> bool:
        return bool(await tab.live_text())

    await eventually(streaming, what="streamed text")
    attachment = await _upload(tab.owner, "later.txt", b"for the next message")
    await _attach(tab, attachment)
    await tab.send("and this file?")
    assert [v.id for v in (await _tray(tab)).pending] == [attachment]
    assert await _linked(attachment) is None
    assert any("still replying" in str(p.events) for p in tab.pushes())
    await tab.stop()
    await wait_idle(tab)


async def test_a_turn_refused_at_its_start_gives_its_files_back(tab, sim, app_env):
    await tab.open()
    ids = [await _upload(tab.owner, f"n{i}.txt", f"note {i}".encode()) for i in range(2)]
    for attachment_id in ids:
        await _attach(tab, attachment_id)
    app_env(attachment_max_files="1", keep_sign_ins="1")  # lowered while they were pending
    await tab.send("both notes, please")
    await wait_idle(tab)
    assert [v.id for v in (await _tray(tab)).pending] == ids  # nothing lost
    assert [await _linked(i) for i in ids] == [None, None]


async def test_regenerate_and_edit_keep_the_messages_files(tab, sim):
    await tab.open()
    image = await _upload(tab.owner, "red.png", samples.png())
    await _attach(tab, image)
    await tab.send("describe [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    question = (await tab.chat())._shown_messages()[0]

    await tab.fire(LiveState, "regenerate")
    await wait_idle(tab)
    shown = (await tab.chat())._shown_messages()
    assert [v.id for v in shown[0].attachments] == [image]

    tag = unique_tag()
    await tab.fire(ChatState, "start_edit", message_id=question.id)
    text = f"describe it again [[sim tokens=5 tps=1000 ttft=0 tag={tag}]]"
    await tab.fire(LiveState, "save_edit", form_data={EDIT_FIELD: text})
    await wait_idle(tab)
    edited = [m for m in (await tab.chat())._shown_messages() if m.role == "user"][-1]
    assert [v.filename for v in edited.attachments] == ["red.png"]
    (record,) = sim.recorder.find(tag)
    assert [b["type"] for b in record.messages[-1]["content"]] == ["image", "text"]


async def test_a_tab_open_on_the_conversation_shows_the_new_questions_files(tab, sim):
    await tab.open()
    await tab.send("first [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    other = Tab(tab.processor, tab.manager, tab.namespace, cookie=tab.cookie)
    await other.open(cid)  # idle: it watches the conversation
    attachment = await _upload(tab.owner, "plan.txt", b"the plan")
    await _attach(tab, attachment)
    await tab.send("and this? [[sim tokens=300 tps=100 ttft=0]]")

    async def shown_with_its_file() -> bool:
        shown = (await other.chat())._shown_messages()
        return len(shown) >= 3 and [v.id for v in shown[2].attachments] == [attachment]

    await eventually(shown_with_its_file, what="the other tab to show the question's file")
    await tab.stop()
    await wait_idle(tab)
    await eventually(lambda: _still_shown(other, attachment), what="the file kept at the end")


async def _still_shown(other: Tab, attachment: str) -> bool:
    shown = (await other.chat())._shown_messages()
    ended = not (await other.live()).watching and shown[-1].role == "assistant"
    return ended and [v.id for v in shown[2].attachments] == [attachment]


async def test_a_tab_signed_in_as_someone_else_shows_none_of_the_last_users_files(tab):
    await tab.open()
    await _attach(tab, await _upload(tab.owner, "private.txt", b"mine only"))
    assert len((await _tray(tab)).pending) == 1
    tab.cookie = await sign_in_user("next-user")  # signed out, and in as another user
    await tab.open()
    tray = await _tray(tab)
    assert tray.pending == [] and tray.refused == []


async def test_opening_a_conversation_with_20_images_pushes_their_urls_not_their_bytes(tab, sim):
    await tab.open()
    photos = [samples.png(64, 64, (i * 12, 90, 200)) for i in range(20)]
    ids = [await _upload(tab.owner, f"photo-{i}.png", photo) for i, photo in enumerate(photos)]
    for attachment_id in ids:
        await _attach(tab, attachment_id)
    await tab.send("An album [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id

    other = Tab(tab.processor, tab.manager, tab.namespace, cookie=tab.cookie)
    await other.open(cid)
    (loaded,) = [p for p in other.pushes() if "photo-19.png" in str(p.delta)]
    assert [v.id for v in (await other.chat())._shown_messages()[0].attachments] == ids
    assert loaded.size < 12_000, loaded.size  # ids, names, sizes, URLs: about 400 bytes a file
    encoded = [base64.b64encode(photo).decode()[:60] for photo in photos]
    assert not any(e in str(p.delta) for p in other.pushes() for e in encoded)
