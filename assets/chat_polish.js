// The chat page's small comforts, all in the browser (loaded by ai_chat/pages/chat.py):
//
// - Esc closes the conversation list where it slides over the chat (narrow screens), before
//   anything else Esc does (it does not stop a streaming reply then); the list takes the
//   focus when it opens and gives it back to its button when it closes;
// - a field marked data-select-on-focus (the Rename field) selects its text when focused,
//   and keeps the focus while its dialog is open;
// - window.aiChatPolish.liveMarkdown(text): the reply still streaming, with its open
//   emphasis closed for display, so a half-arrived "- **Bold" shows as a bold list item,
//   not as a second bullet ("- *") or stray asterisks. Called by the live bubble's Markdown
//   renderer (ai_chat/components/_markdown_seam.py); stored replies render as they are.
//
// Wired once per page load: the page may mount this script again after a navigation.

window.aiChatPolish = window.aiChatPolish || (() => {
  const FENCE = /^ {0,3}(```|~~~)/gm;
  const LIST_MARKER = /^(\s*(?:[-*+]|\d+[.)])\s+)/;
  const count = (text, re) => (text.match(re) || []).length;

  // The last line, closed: a trailing run of * or _ (a marker still arriving) dropped, then
  // every emphasis and code span left open closed.
  const closeLine = (line) => {
    const marker = (line.match(LIST_MARKER) || [''])[0];
    let rest = line.slice(marker.length).replace(/[*_]+$/, '');
    if (/^\s*(?:[-*+]|\d+[.)])?\s*$/.test(rest)) {
      rest = '';  // only markers so far ("- *", "* *"): nothing to show yet
    }
    // Inline code spans are code: emphasis markers inside them don't count.
    const ticks = count(rest, /`/g);
    if (ticks % 2 === 1) return marker + rest + '`';
    const outside = rest.replace(/`[^`]*`/g, '');
    const strong = count(outside, /\*\*/g);
    // Single asterisks that can open or close emphasis (not "2 * 3").
    const single = count(outside.replace(/\*\*/g, ''), /\*(?=\S)|(?<=\S)\*/g);
    return marker + rest + (single % 2 === 1 ? '*' : '') + (strong % 2 === 1 ? '**' : '');
  };

  const liveMarkdown = (text) => {
    if (typeof text !== 'string' || text === '') return text;
    if (count(text, FENCE) % 2 === 1) return text;  // inside a code block: shown as code
    const cut = text.lastIndexOf('\n') + 1;
    const line = text.slice(cut);
    // A lone "-" or "=" under a paragraph would make it a heading until the next character.
    if (/^ {0,3}(-{1,2}|=+)\s*$/.test(line)) return text.slice(0, cut);
    return text.slice(0, cut) + closeLine(line);
  };

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    const list = document.querySelector('.sidebar-wrap.open');
    if (!list || !window.matchMedia('(max-width: 760px)').matches) return;
    // A dialog or menu open over the list closes first (Radix handles that Esc).
    if (document.querySelector('[role=dialog], [role=alertdialog], [role=menu]')) return;
    e.stopImmediatePropagation();
    listButton('Hide conversations')?.click();  // its click handler gives the focus back
  }, true);

  // Opened by its button, the narrow list takes the focus (its close button); closed, the
  // focus goes back to the button that opens it. The class changes when the server answers.
  const listButton = (name) => document.querySelector(`button[aria-label="${name}"]`);
  const whenList = (open, then) => {
    const started = performance.now();
    const look = () => {
      if (!!document.querySelector('.sidebar-wrap.open') === open) then();
      else if (performance.now() - started < 3000) requestAnimationFrame(look);
    };
    look();
  };
  document.addEventListener('click', (e) => {
    if (!window.matchMedia('(max-width: 760px)').matches || !e.target.closest) return;
    if (e.target.closest('button[aria-label="Show conversations"]')) {
      whenList(true, () => listButton('Hide conversations')?.focus());
    } else if (e.target.closest('button[aria-label="Hide conversations"], .sidebar-backdrop')) {
      whenList(false, () => listButton('Show conversations')?.focus());
    }
  });

  document.addEventListener('focusin', (e) => {
    const field = e.target;
    if (field instanceof HTMLInputElement && field.dataset.selectOnFocus === 'true') {
      // Selected once, when the dialog opens: given back later, what was typed stays.
      if (!field.dataset.selected) { field.dataset.selected = 'true'; field.select(); }
      return;
    }
    // The menu that opened the dialog ends its exit animation after the dialog has focused
    // the field, then gives the focus back to its own button, out of the modal dialog
    // (Radix's focus scopes race): the field keeps it.
    const wanted = document.querySelector('[role=dialog] [data-select-on-focus="true"]');
    if (wanted && !wanted.closest('[role=dialog]').contains(field)) wanted.focus();
  });

  return {liveMarkdown};
})();
