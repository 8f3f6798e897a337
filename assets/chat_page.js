// The chat page's browser-side behaviour: everything here works with no server round trip.
// Loaded by ai_chat/components/page_script.py (served from assets/ at the site root).
//
// - Enter in the message box sends once the live connection is up (never a newline);
// - Esc stops a streaming reply wherever the focus is; Ctrl/Cmd+Shift+O starts a new chat;
// - the second click of a double click on Send doesn't stop the reply it sent (Send turns
//   into Stop in place as soon as the reply starts, which can be between the two clicks);
// - the message list follows new content while the reader is at (or near) the bottom;
//   scrolled up, it stays put and "Jump to latest" appears;
// - a text over its limit (composer.limited_field_attrs) is refused before it is sent, with
//   a message in its error element: a frame over the socket's 1,000,000 bytes would make the
//   socket drop and reconnect without a word. The text stays in the box;
// - a live reply that stops moving, or a page shown again, asks the server to check the
//   reply's owner (the hidden #live-check button);
// - "Copy code" on a code block (window.aiChat.copyCode, called by the Markdown renderer,
//   ai_chat/components/_markdown_seam.py).
//
// The elements are found by the ids and labels the Python components give them: #message,
// #messages, #jump-latest, #live-check, #live-reply .live-meta, the Send/Stop/New chat
// buttons' aria-labels, and the data-max-chars/-what/-action/-error-id attributes.
// Wired once per page load: the page may mount this script again after a navigation.

window.aiChat = window.aiChat || {
  // `text` is the code block's text; `e` the click on its button. Feedback without React
  // state: data-copied is set for 1.5 s ("true" or "failed"), the CSS shows the word.
  copyCode(text, e) {
    const button = e.currentTarget;
    const clipboard = navigator.clipboard;
    const done = (outcome) => {
      button.dataset.copied = outcome;
      setTimeout(() => { delete button.dataset.copied; }, 1500);
    };
    if (!clipboard) { done('failed'); return; }
    clipboard.writeText(text).then(() => done('true'), () => done('failed'));
  },
};
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
    // A message edited in place (components/versions.py): Esc cancels, Ctrl/Cmd+Enter saves.
    const edit = e.target.closest?.('.edit-form');
    if (edit && e.key === 'Escape') { edit.querySelector('.edit-cancel')?.click(); return; }
    if (edit && e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      edit.requestSubmit();
      return;
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
      // Nothing below any more (another conversation, a shorter one): no "Jump to latest".
      if (!stick && !away) follow(true);
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
      : value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;
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

// The message box (ai_chat/components/composer.py), wired once per page load:
// - drafts per conversation, kept in this browser's localStorage under
//   ai_chat.draft.<user>.<conversation id or "new">: switching conversations (or to a new
//   chat) keeps what was typed in the one left and shows the draft of the one opened; a
//   message sent clears its draft; what is typed while a new chat's first message creates
//   its conversation becomes that conversation's draft;
// - the browser tab's title follows the open conversation's ("New chat" on `/`);
// - the box's height follows its text, set or typed (CSS field-sizing where the browser has
//   it, else measured here), so it is one line again once a message is sent.
// Read from #composer-context's data-user, data-conversation and data-title.
if (!window.__aiChatComposerWired) {
  window.__aiChatComposerWired = true;
  const PREFIX = 'ai_chat.draft.';
  const box = () => document.getElementById('message');
  const editing = () => document.querySelector('.editing-banner') !== null;
  const remember = (key, text) => {
    try {
      if (text) localStorage.setItem(key, text); else localStorage.removeItem(key);
    } catch (_) { /* storage full or off: drafts are a convenience */ }
  };
  const recall = (key) => {
    try { return localStorage.getItem(key) || ''; } catch (_) { return ''; }
  };
  const sized = window.CSS?.supports?.('field-sizing', 'content');
  const fit = (field) => {
    if (sized || !field) return;
    field.style.height = 'auto';
    field.style.height = `${field.scrollHeight + 2}px`;
  };
  const valueSetter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
  const fill = (field, text) => { valueSetter.call(field, text); fit(field); };
  // Where unsupported, a value the server sets (cleared after a send, an Edit) is measured
  // on the frames after the user's action.
  const refitSoon = () => {
    if (sized) return;
    const until = Date.now() + 3000;
    const step = () => { fit(box()); if (Date.now() < until) requestAnimationFrame(step); };
    requestAnimationFrame(step);
  };
  let user = '', conversation = '', key = '', adopt = false;
  const title = () => {
    const context = document.getElementById('composer-context');
    if (!context) return;
    const wanted = `${context.dataset.title || 'New chat'} · ai_chat`;
    if (document.title !== wanted) document.title = wanted;
  };
  const sync = () => {
    const context = document.getElementById('composer-context');
    const field = box();
    if (!context || !field) return;
    title();
    const who = context.dataset.user || '';
    if (!who) return;  // not known yet (the page is loading): nothing to key drafts by
    const now = context.dataset.conversation || '';
    // At /c/<id> before its conversation is loaded (or while New chat leaves it): wait.
    if (!now && location.pathname.startsWith('/c/')) return;
    const next = `${PREFIX}${encodeURIComponent(who)}.${now || 'new'}`;
    if (next === key) return;
    if (!key) {
      // The first time the user is known: what was typed before (a fast typist, a test)
      // stays and becomes the draft; else the saved draft is shown.
      if (field.value) remember(next, field.value); else fill(field, recall(next));
    } else if (who === user && conversation === '' && now !== '' && adopt) {
      remember(next, field.value);  // typed while the first message created it
    } else {
      if (key && field.value && !editing()) remember(key, field.value);
      fill(field, recall(next));
    }
    user = who; conversation = now; key = next; adopt = false;
  };
  new MutationObserver(sync).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-user', 'data-conversation', 'data-title'],
  });
  // The page's own <title> (set again on a navigation) gives way to the conversation's.
  new MutationObserver(title).observe(document.head, {
    subtree: true, childList: true, characterData: true,
  });
  sync();
  setInterval(sync, 1000);  // a navigation that changes no watched attribute
  document.addEventListener('input', (e) => {
    if (e.target.id !== 'message') return;
    fit(e.target);
    if (key && !editing()) remember(key, e.target.value);
  });
  // Capture: before React's handler; a message refused for its length never gets here
  // (stopped on the window, above).
  document.addEventListener('submit', (e) => {
    if (!e.target.querySelector?.('#message')) return;
    if (key && !editing()) remember(key, '');
    adopt = conversation === '';
    refitSoon();
  }, true);
  document.addEventListener('click', (e) => {
    if (e.target.closest?.('.editing-banner button, .suggestion, button[aria-label="Edit message"]')) {
      refitSoon();
    }
  });
}
