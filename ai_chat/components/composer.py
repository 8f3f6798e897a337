"""The message box: Enter sends, Shift+Enter adds a line, Send/Stop swap while streaming."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ai_chat.config import get_settings
from ai_chat.state.chat import COMPOSER_ID, ChatState
from ai_chat.state.live import LiveState

MESSAGE_ERROR_ID = "message-error"

# Connected = the page hydrated over the live socket and no connection error since.
connected = rx.State.is_hydrated & ~has_connection_errors

# Browser-side behaviour that needs no server round trip:
# - Enter in the message box sends once the live connection is up (never a newline);
# - Esc stops a streaming reply wherever the focus is; Ctrl/Cmd+Shift+O starts a new chat;
# - the second click of a double click on Send doesn't stop the reply it sent (Send turns
#   into Stop in place as soon as the reply starts, which can be between the two clicks);
# - the message list follows new content while the reader is at (or near) the bottom;
#   scrolled up, it stays put and "Jump to latest" appears;
# - a text over its limit (`limited_field_attrs`) is refused before it is sent, with a
#   message in its error element: a frame over the socket's 1,000,000 bytes would make the
#   socket drop and reconnect without a word. The text stays in the box.
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
  const FRAME_BYTES = 900000;  // under engine.io's 1,000,000, with room for the event around it
  const fmt = (n) => n.toLocaleString('en-US');
  const tooLong = (field) => {
    const value = field.value, limit = Number(field.dataset.maxChars), d = field.dataset;
    // Characters as the server counts them (code points): counted only when it may be over.
    const chars = value.length <= limit ? value.length
      : value.length - (value.match(/[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]/g) || []).length;
    if (chars > limit) {
      return `${d.what} is ${fmt(chars)} characters; the limit is ${fmt(limit)}. `
        + `Shorten it and ${d.action} again (your text is still in the box).`;
    }
    const bytes = value.length * 6 > FRAME_BYTES
      ? new TextEncoder().encode(JSON.stringify(value)).length : 0;
    return bytes > FRAME_BYTES
      ? `${d.what} is too large to ${d.action} at once (${fmt(bytes)} bytes). Shorten it.` : '';
  };
  const show = (field, problem) => {
    const error = document.getElementById(field.dataset.errorId);
    if (error) error.textContent = problem;
    field.setAttribute('aria-invalid', problem ? 'true' : 'false');
  };
  window.addEventListener('submit', (e) => {
    // Capture on the window: before React's own listener, which would send the form.
    let refused = false;
    for (const field of e.target.querySelectorAll('[data-max-chars]')) {
      const problem = tooLong(field);
      show(field, problem);
      if (problem && !refused) { refused = true; field.focus(); }
    }
    if (refused) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  // The reply shown live has not moved for 3 s (its elapsed time moves each second while
  // its owner is alive), or the page is shown again: the server checks that a watcher runs
  // for this tab (the worker that had it may be gone) and that the reply's owner lives.
  let liveSeen = null, liveSince = 0;
  const checkLive = () => document.getElementById('live-check')?.click();
  setInterval(() => {
    const meta = document.querySelector('#live-reply .live-meta');
    if (!meta) { liveSeen = null; return; }
    const now = Date.now();
    if (meta.textContent !== liveSeen) { liveSeen = meta.textContent; liveSince = now; return; }
    if (now - liveSince >= 3000) { liveSince = now; checkLive(); }
  }, 1000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkLive();
  });
  document.addEventListener('input', (e) => {
    const field = e.target;
    if (field.dataset?.maxChars && field.getAttribute('aria-invalid') === 'true') {
      show(field, tooLong(field));
    }
  });
}
"""


def limited_field_attrs(limit: int, what: str, action: str, error_id: str) -> dict[str, str]:
    """Attributes for a text field whose value is refused in the browser past `limit`
    characters (PAGE_SCRIPT); `what` names it in the message ("Your message"), `action` is
    what the form does ("send"), `error_id` the id of the element that shows the message."""
    return {
        "data-max-chars": str(limit),
        "data-what": what,
        "data-action": action,
        "data-error-id": error_id,
        "aria-describedby": error_id,
    }


def field_error(error_id: str) -> rx.Component:
    """Where PAGE_SCRIPT says why a text can't be sent (empty otherwise): announced at once."""
    return rx.el.p(
        id=error_id,
        role="alert",
        class_name="field-error",
        color=rx.color("red", 11),
        font_size="0.875rem",
        margin="0",
    )


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


def composer(max_chars: int | None = None) -> rx.Component:
    """`max_chars`: the longest message (AI_CHAT_MAX_MESSAGE_CHARS by default), checked in the
    browser before sending; ChatState.send checks it again."""
    limit = get_settings().max_message_chars if max_chars is None else max_chars
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
                custom_attrs=limited_field_attrs(limit, "Your message", "send", MESSAGE_ERROR_ID),
            ),
            rx.cond(
                LiveState.shows_live,
                rx.button(
                    rx.icon("square", size=16),
                    "Stop",
                    type="button",
                    aria_label="Stop",
                    color_scheme="red",
                    # Radix's solid red-9 under white text is 3.9:1 (WCAG AA wants 4.5:1).
                    high_contrast=True,
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
        field_error(MESSAGE_ERROR_ID),
        rx.cond(
            ~connected,
            rx.text("Connecting to the server…", size="1", color_scheme="orange", role="status"),
        ),
        on_submit=ChatState.send,
        reset_on_submit=False,
        width="100%",
        class_name="composer",
    )
