"""Files in the chat: the composer's attach button and tray, and a sent message's files.

The uploads themselves are the browser's (assets/attachments.js): it checks type and size,
posts each file to /_files with progress, and shows the upload's chip until the server has
listed the file in `AttachmentsState.pending` (or said why not, `AttachmentsState.refused`).
The elements it finds: `.attach-input` (the hidden file picker, with the limits as data
attributes), `#attach-button`, `#attach-tray`, `.attach-uploads` (its own chips; React
renders nothing there), `.attach-sink` (where it names an uploaded file's id, which
React turns into `AttachmentsState.attach`), `#drop-zone`."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from ai_chat.components._typed_reflex import icon
from ai_chat.files.inspect import TEXT_EXTENSIONS
from ai_chat.state.attachments import (
    AttachmentsState,
    AttachmentView,
    Refusal,
    page_limits,
)
from ai_chat.state.shared import event_of

ATTACH_LABEL = "Attach files"
IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp"


def _accept() -> str:
    """The picker's filter: the types and extensions the server accepts."""
    return ",".join(
        [IMAGE_TYPES, "application/pdf", "text/*", *sorted(f".{e}" for e in TEXT_EXTENSIONS)]
    )


def attach_button() -> rx.Component:
    """The paperclip: opens the file picker (assets/attachments.js)."""
    return rx.fragment(
        rx.el.input(
            type="file",
            multiple=True,
            accept=_accept(),
            class_name="attach-input",
            tab_index=-1,
            aria_hidden="true",
            custom_attrs={**page_limits(), "data-text-exts": " ".join(sorted(TEXT_EXTENSIONS))},
        ),
        rx.tooltip(
            rx.icon_button(
                icon("paperclip", size=18),
                id="attach-button",
                type="button",
                variant="ghost",
                color_scheme="gray",
                size="3",
                aria_label=ATTACH_LABEL,
                class_name="attach-button",
            ),
            content="Attach images, PDFs or text files (or drop or paste them)",
        ),
    )


def _pending_chip(view: ObjectVar[AttachmentView]) -> rx.Component:
    return rx.box(
        _preview(view),
        rx.box(
            rx.el.span(view.filename, class_name="attach-name"),
            rx.el.span(view.size_label, class_name="attach-size"),
            class_name="attach-text",
        ),
        rx.el.button(
            icon("x", size=14),
            type="button",
            class_name="attach-remove",
            aria_label="Remove " + view.filename.to(str),
            on_click=event_of(AttachmentsState.remove, view.id),
        ),
        class_name="attach-chip",
        data_attachment_id=view.id,
        data_kind=view.kind,
        data_size=view.size,
    )


def _preview(view: ObjectVar[AttachmentView]) -> rx.Component:
    return rx.cond(
        view.thumb_url != "",
        rx.el.img(src=view.thumb_url, alt="", class_name="attach-thumb", loading="lazy"),
        rx.box(icon("file-text", size=18), class_name="attach-icon", aria_hidden="true"),
    )


def _refusal(refusal: ObjectVar[Refusal]) -> rx.Component:
    return rx.el.span(refusal.message, data_refused_id=refusal.id, hidden=True)


def attach_tray() -> rx.Component:
    """The files the next message carries: the server's list, then the uploads in progress
    (or refused), and the sink; with the drop zone shown while files are dragged in."""
    return rx.box(
        rx.foreach(AttachmentsState.pending, _pending_chip),
        rx.box(class_name="attach-uploads"),
        rx.foreach(AttachmentsState.refused, _refusal),
        rx.el.input(
            type="text",
            class_name="attach-sink",
            hidden=True,
            tab_index=-1,
            aria_hidden="true",
            on_change=AttachmentsState.attach,
        ),
        rx.box(
            icon("paperclip", size=28),
            rx.text("Drop files to attach them", size="4", weight="medium"),
            id="drop-zone",
            class_name="drop-zone",
            aria_hidden="true",
        ),
        id="attach-tray",
        class_name="attach-tray",
        role="group",
        aria_label="Attached files",
    )


def sent_files(files: rx.Var[list[AttachmentView]]) -> rx.Component:
    """A sent message's files: images as thumbnails linking to the file, others as chips
    that open or download it."""
    return rx.cond(
        files.length() > 0,  # type: ignore[attr-defined]
        rx.box(rx.foreach(files, _sent_file), class_name="message-files"),
    )


def _sent_file(view: ObjectVar[AttachmentView]) -> rx.Component:
    label = view.filename.to(str) + " (" + view.size_label.to(str) + ")"
    return rx.cond(
        view.thumb_url != "",
        rx.el.a(
            rx.el.img(
                src=view.thumb_url,
                alt=view.filename,
                loading="lazy",
                class_name="file-thumb-img",
            ),
            href=view.url,
            target="_blank",
            rel="noopener",
            title=label,
            aria_label=label,
            class_name="file-thumb",
            data_attachment_id=view.id,
        ),
        rx.el.a(
            icon("file-text", size=16),
            rx.el.span(view.filename, class_name="file-name"),
            rx.el.span(view.size_label, class_name="file-size"),
            href=view.url,
            target="_blank",
            rel="noopener",
            title=label,
            class_name="file-chip",
            data_attachment_id=view.id,
            data_kind=view.kind,
        ),
    )
