"""Merges the complete HTTP/1.1 chunks of one read into one chunk, before h11 parses them.

Claude streams one chunk per SSE frame: at 50 tokens/s, one chunk per token. h11 turns each
chunk into its own `Data` event, and httpcore and httpx pass each through four async
generators: per token, more CPU than decoding the frame itself. A paced reader takes a
push interval's worth of chunks in one socket read; rewritten here as one chunk, they cost
h11 and the generators once per read instead of once per token.

Only complete, well-formed chunks are rewritten. A chunk split across reads, the last
(zero-size) chunk and its trailers pass through as received, and so does everything after
bytes that don't parse: h11 then sees the original bytes and reports the error itself.
"""

from __future__ import annotations

_HEADER_END = b"\r\n\r\n"


class ChunkMerger:
    """Tracks the framing of one chunked body as it is read; `feed` rewrites each read."""

    def __init__(self) -> None:
        self._left = 0  # bytes still to pass of the current chunk (its data and CRLF)
        self._line = b""  # a chunk-size line begun in an earlier read
        self.active = True  # False: the body ended or didn't parse; bytes pass unchanged

    @classmethod
    def after(cls, response_so_far: bytes) -> ChunkMerger | None:
        """A merger for a response of which `response_so_far` (status line, headers and
        maybe the start of the body) was already handed to the parser; None if it can't tell
        where in the body that leaves off."""
        start = 0
        while response_so_far.startswith(b"HTTP/1.1 1", start):  # interim 1xx responses
            end = response_so_far.find(_HEADER_END, start)
            if end < 0:
                return None
            start = end + len(_HEADER_END)
        end = response_so_far.find(_HEADER_END, start)
        if end < 0:
            return None
        merger = cls()
        merger._track(response_so_far[end + len(_HEADER_END) :])
        return merger if merger.active else None

    def feed(self, data: bytes) -> bytes:
        if not self.active or not data:
            return data
        out: list[bytes] = []
        i = self._finish_current(data, out)
        parts: list[bytes] = []
        total = 0
        n = len(data)
        while self.active and i < n:  # at a chunk boundary: gather the complete chunks
            eol = data.find(b"\n", i)
            if eol < 0:
                break
            size = _chunk_size(data[i:eol])
            if not size:  # the last chunk (0), or unparsable (None): not merged
                break
            end = eol + 1 + size
            if end + 2 > n or data[end : end + 2] != b"\r\n":
                break
            parts.append(data[eol + 1 : end])
            total += size
            i = end + 2
        if parts:
            out.append(b"%x\r\n" % total)
            out.extend(parts)
            out.append(b"\r\n")
        rest = data[i:]
        self._track(rest)
        out.append(rest)
        return b"".join(out)

    def _finish_current(self, data: bytes, out: list[bytes]) -> int:
        """Passes the rest of a chunk begun earlier; returns where the next chunk starts."""
        i = 0
        if self._line:
            eol = data.find(b"\n")
            if eol < 0:
                self._line += data
                out.append(data)
                return len(data)
            i = eol + 1
            out.append(data[:i])
            self._start_chunk(self._line + data[:eol])
            self._line = b""
        if self._left and self.active:
            take = min(self._left, len(data) - i)
            out.append(data[i : i + take])
            self._left -= take
            i += take
        return i

    def _track(self, data: bytes) -> None:
        """Advances the framing over bytes passed unchanged."""
        i, n = 0, len(data)
        while self.active and i < n:
            if self._left:
                take = min(self._left, n - i)
                self._left -= take
                i += take
                continue
            eol = data.find(b"\n", i)
            if eol < 0:
                self._line += data[i:]
                return
            line, self._line = self._line + data[i:eol], b""
            i = eol + 1
            self._start_chunk(line)

    def _start_chunk(self, size_line: bytes) -> None:
        size = _chunk_size(size_line)
        if not size:  # the last chunk: trailers follow, nothing more to merge
            self.active = False
        else:
            self._left = size + 2


def _chunk_size(line: bytes) -> int | None:
    """The size on a chunk-size line (extensions after `;` ignored); None if malformed."""
    if 0 < len(line) <= 17:  # the common line, "1a\r": int() takes the CR as whitespace
        try:
            return int(line, 16)
        except ValueError:
            pass
    digits = line.split(b";", 1)[0].strip()
    if not digits or len(digits) > 16:
        return None
    try:
        return int(digits, 16)
    except ValueError:
        return None
