// Attachments in the browser: the paperclip's picker, drag-and-drop onto the page and paste
// into the message box. Loaded by ai_chat/components/page_script.py.
//
// Each file is checked first (type and size, with the server's limits: the data attributes
// of .attach-input, ai_chat/components/attachments.py): a file that can't go is refused here
// with the reason, never uploaded. The others are posted to /_files one request each
// (XMLHttpRequest, for its upload progress), shown meanwhile as a chip with a progress bar
// in .attach-uploads. When the server has stored one, its id is typed into .attach-sink,
// which React turns into AttachmentsState.attach: the server lists the file (its chip then
// comes from the server's state, and this one goes) or says why not ([data-refused-id]),
// shown on this chip, in the order the files were given. Send is held back while a file
// still uploads (the message would go without it), and says so.
// Wired once per page load, by event delegation on the document (React may re-render).

if (!window.__aiChatAttachWired) {
  window.__aiChatAttachWired = true;
  const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
  const IMAGE_EXTS = ['png', 'jpg', 'jpeg', 'gif', 'webp'];
  const TEXT_NAMES = ['makefile', 'dockerfile', 'readme', 'license', 'changelog'];
  const SUPPORTED = 'images (PNG, JPEG, GIF, WebP), PDFs, and text or code files';
  const HOLD = 'Wait for your files to finish uploading, then send.';
  // {file, kind, el, xhr, id, state: uploading | uploaded | attaching | error}, in order given
  const uploads = new Set();

  const picker = () => document.querySelector('.attach-input');
  const tray = () => document.getElementById('attach-tray');
  const megabytes = (n) => `${(n / 1e6).toFixed(1)} MB`.replace('.0 MB', ' MB');
  const limit = (name) => Number(picker()?.dataset[name] || 0);
  // What a file adds to the request to Claude: base64, or a text's JSON string.
  const encoded = (kind, size) => (kind === 'text' ? size + Math.floor(size / 8)
    : 4 * Math.floor((size + 2) / 3));

  const kindOf = (file) => {
    const name = file.name.toLowerCase();
    const ext = name.includes('.') ? name.split('.').pop() : '';
    const textExts = (picker()?.dataset.textExts || '').split(' ');
    if (IMAGE_TYPES.includes(file.type) || IMAGE_EXTS.includes(ext)) return 'image';
    if (file.type === 'application/pdf' || ext === 'pdf') return 'pdf';
    if (file.type.startsWith('text/') || textExts.includes(ext) || TEXT_NAMES.includes(name)
        || name.startsWith('.')) return 'text';
    return '';
  };

  // The files the next message carries already: the server's chips and the uploads.
  const carried = () => {
    const listed = [...(tray()?.querySelectorAll('.attach-chip[data-attachment-id]') || [])]
      .map((chip) => encoded(chip.dataset.kind, Number(chip.dataset.size || 0)));
    const going = [...uploads].filter((u) => u.state !== 'error')
      .map((u) => encoded(u.kind, u.file.size));
    const bytes = [...listed, ...going].reduce((a, b) => a + b, 0);
    return {count: listed.length + going.length, bytes};
  };

  const problem = (file, kind, before) => {
    const name = `“${file.name}”`;
    if (!kind) return `${name} isn't a supported file. Supported: ${SUPPORTED}.`;
    if (!file.size) return `${name} is empty.`;
    const max = limit({image: 'imageMax', pdf: 'pdfMax', text: 'textMax'}[kind]);
    const what = {image: 'images', pdf: 'PDFs', text: 'text files'}[kind];
    if (file.size > max) {
      return `${name} is ${megabytes(file.size)}; ${what} can be at most ${megabytes(max)}.`;
    }
    if (before.count >= limit('maxFiles')) {
      return `${name} was not attached: a message can carry at most ${limit('maxFiles')} files.`;
    }
    if (before.bytes + encoded(kind, file.size) > limit('totalMax')) {
      return `${name} does not fit: together, a message's files must stay under `
        + `${megabytes(limit('totalMax'))} as sent to Claude.`;
    }
    return '';
  };

  const chip = (upload) => {
    const el = document.createElement('div');
    el.className = 'attach-chip attach-upload';
    const icon = document.createElement(upload.kind === 'image' ? 'img' : 'div');
    if (upload.kind === 'image') {
      icon.src = URL.createObjectURL(upload.file);
      icon.alt = '';
      icon.className = 'attach-thumb';
      icon.onload = () => URL.revokeObjectURL(icon.src);
    } else {
      icon.className = 'attach-icon';
      icon.textContent = upload.kind ? upload.kind.toUpperCase() : '?';
      icon.setAttribute('aria-hidden', 'true');
    }
    const text = document.createElement('div');
    text.className = 'attach-text';
    const name = document.createElement('span');
    name.className = 'attach-name';
    name.textContent = upload.file.name;
    const progress = document.createElement('progress');
    progress.className = 'attach-progress';
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute('aria-label', `Uploading ${upload.file.name}`);
    const error = document.createElement('span');
    error.className = 'attach-error';
    error.setAttribute('role', 'alert');
    text.append(name, progress, error);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'attach-remove attach-cancel';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Remove ${upload.file.name}`);
    el.append(icon, text, remove);
    upload.el = el;
    el.__upload = upload;
    tray()?.querySelector('.attach-uploads')?.append(el);
  };

  const settleHold = () => {
    const error = document.getElementById('message-error');
    const busy = [...uploads].some((u) => u.state !== 'error');
    if (!busy && error && error.textContent === HOLD) error.textContent = '';
  };

  const drop = (upload) => {
    upload.xhr?.abort();
    uploads.delete(upload);
    upload.el?.remove();
    settleHold();
    flush();
  };

  const fail = (upload, message) => {
    upload.state = 'error';
    upload.el.dataset.state = 'error';
    upload.el.querySelector('.attach-progress')?.remove();
    upload.el.querySelector('.attach-error').textContent = message;
    settleHold();
    flush();  // the uploads after it need not wait for it
  };

  const name = (id) => {
    // Typed into the sink as a person would: React's onChange sends it to the server.
    const sink = tray()?.querySelector('.attach-sink');
    if (!sink) return false;
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    setter.call(sink, id);
    sink.dispatchEvent(new Event('input', {bubbles: true}));
    return true;
  };

  // Uploaded files are named to the server in the order they were given, whichever upload
  // ended first: the message carries them in that order.
  const flush = () => {
    for (const item of uploads) {
      if (item.state === 'uploading') break;
      if (item.state !== 'uploaded') continue;
      item.state = 'attaching';
      item.el.dataset.state = 'attaching';
      if (!name(item.id)) fail(item, 'The page changed before the file was attached.');
    }
    settle();
  };

  const upload = (item) => {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    const progress = item.el.querySelector('.attach-progress');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = Math.floor((e.loaded * 100) / e.total);
    });
    xhr.addEventListener('load', () => {
      item.xhr = null;
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch { /* not JSON: said below */ }
      if (xhr.status === 201 && answer && answer.id) {
        item.id = answer.id;
        item.state = 'uploaded';
        progress.value = 100;
        flush();
      } else {
        fail(item, (answer && answer.error) || `The upload failed (HTTP ${xhr.status}).`);
      }
    });
    xhr.addEventListener('error', () => {
      item.xhr = null;
      fail(item, 'The upload failed: the connection dropped. Try again.');
    });
    const form = new FormData();
    form.append('file', item.file, item.file.name);
    xhr.open('POST', '/_files');
    xhr.send(form);
  };

  const addFiles = (files) => {
    if (!picker()) return;
    for (const file of files) {
      const kind = kindOf(file);
      const why = problem(file, kind, carried());
      const item = {file, kind, el: null, xhr: null, id: '', state: 'uploading'};
      uploads.add(item);
      chip(item);
      if (why) { fail(item, why); continue; }
      item.el.dataset.state = 'uploading';
      upload(item);
    }
  };

  // An upload the server has listed (its own chip shows it) or refused (the reason).
  const settle = () => {
    const here = uploads.size ? tray() : null;  // runs on every change of the page
    if (!here) return;
    for (const item of uploads) {
      if (item.state !== 'attaching') continue;
      if (here.querySelector(`.attach-chip[data-attachment-id="${item.id}"]`)) {
        drop(item);
      } else {
        const refused = here.querySelector(`[data-refused-id="${item.id}"]`);
        if (refused) fail(item, refused.textContent);
      }
    }
  };
  new MutationObserver(settle).observe(document.body, {childList: true, subtree: true});

  document.addEventListener('click', (e) => {
    if (e.target.closest?.('#attach-button')) { picker()?.click(); return; }
    const cancel = e.target.closest?.('.attach-cancel');
    if (cancel) drop(cancel.closest('.attach-upload').__upload);
  });
  document.addEventListener('change', (e) => {
    if (!e.target.classList?.contains('attach-input')) return;
    addFiles([...e.target.files]);
    e.target.value = '';  // the same file can be picked again
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (e.target?.id !== 'message' || !files.length) return;
    e.preventDefault();  // the files are attached; their names are not pasted as text
    addFiles(files);
  });

  // Drag and drop anywhere on the page, with the drop zone shown while files hover.
  let depth = 0;
  const dragsFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files') && picker();
  const dragging = (on) => {
    if (on) document.body.dataset.dragging = 'true';
    else delete document.body.dataset.dragging;
  };
  document.addEventListener('dragenter', (e) => {
    if (!dragsFiles(e)) return;
    depth += 1;
    dragging(true);
  });
  document.addEventListener('dragover', (e) => {
    if (!dragsFiles(e)) return;
    e.preventDefault();  // allows the drop
    e.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('dragleave', (e) => {
    if (!dragsFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) dragging(false);
  });
  document.addEventListener('drop', (e) => {
    if (!dragsFiles(e)) return;
    e.preventDefault();  // the browser would open the file instead
    depth = 0;
    dragging(false);
    addFiles([...e.dataTransfer.files]);
  });

  // Send is held back while a file uploads (it would go without it).
  window.addEventListener('submit', (e) => {
    if (!e.target.querySelector?.('#attach-tray')) return;
    if (![...uploads].some((u) => u.state !== 'error')) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const error = document.getElementById('message-error');
    if (error) error.textContent = HOLD;
  }, true);

  // Once sent, the errors of refused files are cleared with the message box.
  window.addEventListener('submit', (e) => {
    if (!e.target.querySelector?.('#attach-tray')) return;
    for (const item of [...uploads]) if (item.state === 'error') drop(item);
  });
}
