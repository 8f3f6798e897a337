"""The message box: Enter sends, Shift+Enter adds a line, Send/Stop swap while streaming."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ai_chat.state.chat import COMPOSER_ID, ChatState
from ai_chat.state.live import LiveState

# Connected = the page hydrated over the live socket and no connection error since.
connected = rx.State.is_hydrated & ~has_connection_errors

# Browser-side behaviour that needs no server round trip:
# - Enter in the message box sends once the live connection is up (never a newline);
# - Esc stops a streaming reply wherever the focus is; Ctrl/Cmd+Shift+O starts a new chat;
# - the second click of a double click on Send doesn't stop the reply it sent (Send turns
#   into Stop in place as soon as the reply starts, which can be between the two clicks);
# - the message list follows new content while the reader is at (or near) the bottom;
#   scrolled up, it stays put and "Jump to latest" appears.
PAGE_SCRIPT = """
if (!window.__aiChatWired) {
  window.__aiChatWired = true;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.target.id === 'message') {
      // Enter sends; it never becomes a newline. While the page is (re)connecting or
      // hydrating, the send waits for the live connection (Send enabled) instead.
      e.preventDefault();
      if (e.repeat) return;
      const form = e.target.form;
      const started = Date.now();
      const trySend = () => {
        const send = document.querySelector('button[aria-label="Send"]');
        const streaming = document.querySelector('button[aria-label="Stop"]');
        // while a reply streams the server decides (queued after a Stop, else ignored)
        if (streaming || (send && !send.disabled)) { form.requestSubmit(); }
        else if (Date.now() - started < 10000) { setTimeout(trySend, 50); }
      };
      trySend();
    }
    if (e.key === 'Escape') { document.querySelector('button[aria-label="Stop"]')?.click(); }
    if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === 'o') {
      e.preventDefault();
      document.querySelector('button[aria-label="New chat"]')?.click();
    }
  });
  document.addEventListener('click', (e) => {
    // Before React sees it (capture on the document): a click counted 2 or more by the
    // browser is the rest of a multi-click that began on Send.
    if (e.detail > 1 && e.target.closest?.('button[aria-label="Stop"]')) {
      e.stopPropagation();
      e.preventDefault();
    }
  }, true);
  let stick = true;
  const wire = () => {
    const log = document.getElementById('messages');
    if (!log || log.__followed) return;
    log.__followed = true;
    const jump = () => document.getElementById('jump-latest');
    let followed = log.scrollTop;  // where the view was when it last followed the bottom
    const follow = (on) => {
      stick = on;
      if (on) followed = log.scrollTop;
      if (jump()) jump().dataset.visible = String(!on);
    };
    log.addEventListener('scroll', () => {
      follow(log.scrollHeight - log.scrollTop - log.clientHeight < 80);
    });
    new MutationObserver(() => {
      // A scroll up whose scroll event is not dispatched yet (it waits for the next frame)
      // must not be undone by text that arrives first.
      const away = log.scrollHeight - log.scrollTop - log.clientHeight >= 80;
      if (stick && away && log.scrollTop < followed - 1) follow(false);
      if (stick) { log.scrollTop = log.scrollHeight; followed = log.scrollTop; }
    }).observe(log, {childList: true, subtree: true, characterData: true});
    document.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('#jump-latest')) {
        // instant: a smooth scroll's own scroll events would unset `stick`
        log.scrollTop = log.scrollHeight;
        follow(true);
      }
    });
  };
  new MutationObserver(wire).observe(document.body, {childList: true, subtree: true});
  wire();
}
"""


def _editing_banner() -> rx.Component:
    return rx.cond(
        ChatState.editing_id != "",
        rx.hstack(
            rx.icon("pencil", size=14),
            rx.text("Editing a message: sending replaces it and every reply after it.", size="2"),
            rx.spacer(),
            rx.button(
                "Cancel edit",
                size="1",
                variant="soft",
                type="button",
                on_click=ChatState.cancel_edit,
            ),
            class_name="editing-banner",
            align="center",
            width="100%",
            role="status",
        ),
    )


def composer() -> rx.Component:
    return rx.form(
        _editing_banner(),
        rx.hstack(
            rx.el.textarea(
                id=COMPOSER_ID,
                name=COMPOSER_ID,
                aria_label="Message",
                placeholder="Message Claude…  (Enter to send, Shift+Enter for a new line)",
                auto_height=True,
                rows="1",
                class_name="composer-input",
                auto_focus=True,
            ),
            rx.cond(
                LiveState.shows_live,
                rx.button(
                    rx.icon("square", size=16),
                    "Stop",
                    type="button",
                    aria_label="Stop",
                    color_scheme="red",
                    on_click=LiveState.stop,
                    disabled=LiveState.stopping,
                ),
                rx.button(
                    rx.icon("send", size=16),
                    "Send",
                    type="submit",
                    aria_label="Send",
                    disabled=~connected,
                ),
            ),
            align="end",
            width="100%",
        ),
        rx.cond(
            ~connected,
            rx.text("Connecting to the server…", size="1", color_scheme="orange", role="status"),
        ),
        on_submit=ChatState.send,
        reset_on_submit=False,
        width="100%",
        class_name="composer",
    )
