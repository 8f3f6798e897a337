"""A lean, incremental `text/event-stream` decoder: bytes in, (event, data) frames out.

Why not the SDK's typed events: at 50 tokens/s a stream is one frame per token, and the
SDK builds a pydantic model per frame and re-accumulates the message, a large share of a
worker's CPU under load (docs/PERFORMANCE.md). Here a frame costs one split and, for the
frames used, one JSON decode; `frames` decides what each frame means.
Follows the WHATWG event-stream rules we rely on: lines end in LF, CRLF or CR; `:` starts
a comment; several `data:` lines join with LF; a blank line ends the frame; `id`/`retry`
are ignored (the Messages API doesn't use them).
An event is held until its blank line, so one larger than `max_event_bytes` (its lines,
comments included, plus an unfinished line) raises `EventTooLarge` instead of growing.
"""

from __future__ import annotations

Frame = tuple[str, bytes]  # (event name, data); data is UTF-8 JSON for the Messages API

# Far above any event the Messages API sends (a web search's results block is the largest,
# tens of KB), and a bound on what one stream can hold.
MAX_EVENT_BYTES = 4 * 1024 * 1024


class EventTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"an event-stream event longer than {limit} bytes")
        self.limit = limit


class SSEDecoder:
    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self._pending = b""  # an unfinished line carried to the next chunk
        self._skip_lf = False  # the last chunk ended in CR: a leading LF completes a CRLF
        self._event = ""
        self._data: list[bytes] = []
        self._size = 0  # bytes of the event's lines so far

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames completed by `chunk`, in order."""
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._skip_lf = False
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = (self._pending + chunk if self._pending else chunk).split(b"\n")
        self._pending = lines.pop()
        frames: list[Frame] = []
        limit = self.max_event_bytes
        for line in lines:
            if not line:
                if self._data or self._event:
                    frames.append((self._event, b"\n".join(self._data)))
                self._event, self._data, self._size = "", [], 0
                continue
            self._size += len(line) + 1
            if self._size > limit:
                raise EventTooLarge(limit)
            if line.startswith(b"data:"):
                self._data.append(_value(line, 5))
            elif line.startswith(b"event:"):
                self._event = _value(line, 6).decode()
            # comments (":…"), id, retry and unknown fields are ignored
        if self._size + len(self._pending) > limit:
            raise EventTooLarge(limit)
        return frames

    def flush(self) -> list[Frame]:
        """At the end of the body: a last line without its line end still counts, but a
        frame without its closing blank line is incomplete and dropped (as browsers do)."""
        return self.feed(b"\n") if self._pending else []


def _value(line: bytes, name_len: int) -> bytes:
    value = line[name_len:]
    return value[1:] if value.startswith(b" ") else value
