"""Files given with the next message: the tab's pending list, and what a message shows of its files.

Server state first: the browser uploads a file (POST /_files, assets/attachments.js) and then
names its id to `AttachmentsState.attach`, which lists it only if it is the signed-in user's
own unsent upload. `send` takes this list (never ids from the form) and hands the ids to the
turn (`GenerationJob.attachment_ids`). Only ids, names, sizes and URLs are in state: a file's
bytes never enter a var or a push."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.config import get_settings
from ai_chat.state import payloads
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.store import attachments as store
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import Attachment

MAX_REFUSALS = 20  # the newest refusals the page can still match to its uploads


@dataclasses.dataclass
class AttachmentView:
    """A file as the page shows it: a chip, or a thumbnail linking to the file."""

    id: str
    filename: str
    kind: str  # store.models.AttachmentKind: image | pdf | text
    media_type: str
    size: int
    size_label: str
    url: str
    thumb_url: str = ""  # images only


@dataclasses.dataclass
class Refusal:
    """An upload the server would not attach, and why: the page shows it on that upload."""

    id: str
    message: str


def size_label(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def to_attachment_view(attachment: Attachment) -> AttachmentView:
    shown = store.view(attachment)  # the URLs as the file routes serve them
    return AttachmentView(
        id=shown.id,
        filename=shown.filename,
        kind=shown.kind,
        media_type=shown.media_type,
        size=shown.size,
        size_label=size_label(shown.size),
        url=shown.url,
        thumb_url=shown.thumb_url,
    )


def encoded_total(views: Iterable[AttachmentView]) -> int:
    """What these files add to a request to Claude (base64, or a text's JSON string)."""
    return sum(store.encoded_size(view.kind, view.size) for view in views)


def page_limits() -> dict[str, str]:
    """The limits the page checks before uploading (the server checks them again): data
    attributes read by assets/attachments.js."""
    settings = get_settings()
    return {
        "data-max-files": str(settings.attachment_max_files),
        "data-image-max": str(settings.attachment_image_max_bytes),
        "data-pdf-max": str(settings.attachment_pdf_max_bytes),
        "data-text-max": str(settings.attachment_text_max_bytes),
        "data-total-max": str(store.files_budget(settings)),
    }


async def files_of(owner: str, message_ids: Sequence[str]) -> dict[str, list[AttachmentView]]:
    """The files of these messages (one query), by message id, in their order."""
    if not message_ids:
        return {}
    found = await run_read(store.for_messages_sync, owner, list(message_ids))
    return {mid: [to_attachment_view(a) for a in files] for mid, files in found.items()}


def attachment_ids(views: Iterable[AttachmentView]) -> tuple[str, ...]:
    return tuple(view.id for view in views)


class AttachmentsState(rx.State):
    # The files the next message carries, as confirmed by the server.
    pending: rx.Field[list[AttachmentView]] = rx.field(default_factory=list)
    refused: rx.Field[list[Refusal]] = rx.field(default_factory=list)
    _owner: str = ""  # whose files the tray holds (a tab signed in as someone else: emptied)

    @rx.event
    async def attach(self, attachment_id: str | None = None) -> EventSpec | None:
        """An upload finished (assets/attachments.js): list it if it is this user's own
        unsent file and the message still has room for it."""
        checked = payloads.entity_id(attachment_id)
        if checked is None:
            return payloads.malformed()
        if any(view.id == checked for view in self.pending):
            return None
        if (who := await signed_in(self)) is None:
            return to_signin()
        self._for_user(who.user_id)
        checked_file = await self._checked_file(who.user_id, checked)
        if isinstance(checked_file, AttachmentView):
            self.pending.append(checked_file)
        else:  # said once, on that upload's chip (assets/attachments.js shows it there)
            self.refused = [*self.refused[-(MAX_REFUSALS - 1) :], Refusal(checked, checked_file)]
        return None

    async def _checked_file(self, owner: str, attachment_id: str) -> AttachmentView | str:
        """The file as the tray shows it, or why it can't go with the message."""
        settings = get_settings()
        if len(self.pending) >= settings.attachment_max_files:
            return f"A message can carry at most {settings.attachment_max_files} files."
        found = await run_read(store.pending_sync, owner, [attachment_id])
        if not found:
            return "That file can't be attached: it was not found."
        view = to_attachment_view(found[0])
        if encoded_total([*self.pending, view]) > (budget := store.files_budget(settings)):
            return (
                f"“{view.filename}” does not fit: together, a message's files must stay "
                f"under {size_label(budget)} as sent to Claude."
            )
        return view

    @rx.event
    async def remove(self, attachment_id: str | None = None) -> EventSpec | None:
        """A pending file's remove button: off the tray, and its unsent upload deleted."""
        checked = payloads.entity_id(attachment_id)
        if checked is None:
            return payloads.malformed()
        kept = [view for view in self.pending if view.id != checked]
        if len(kept) == len(self.pending):
            return None
        self.pending = kept
        if (who := await signed_in(self)) is not None:
            await run_write(store.delete_unsent_sync, who.user_id, checked)
        return None

    def _for_user(self, owner: str) -> None:
        """The tray shows only `owner`'s files: another user's (the tab signed out and in
        again as someone else) are dropped from it."""
        if owner != self._owner and (self.pending or self.refused):
            self.pending, self.refused = [], []
        self._owner = owner

    def _take(self) -> list[AttachmentView]:
        """The pending files, handed to a turn that starts (the tray empties)."""
        taken = list(self.pending)
        if taken:
            self.pending = []
        return taken

    def _give_back(self, views: Sequence[AttachmentView]) -> None:
        """A turn that stored nothing gives its files back to the tray (nothing lost)."""
        known = {view.id for view in self.pending}
        back = [view for view in views if view.id not in known]
        if back:
            self.pending = [*back, *self.pending]


async def give_back_files(state: rx.State, files: Sequence[AttachmentView]) -> None:
    """A turn that stored nothing: its files back in the tab's tray."""
    if files:
        (await state.get_state(AttachmentsState))._give_back(files)
