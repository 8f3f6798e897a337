"""`ChunkMerger`: whatever the read boundaries, h11 decodes the same body from its output."""

from __future__ import annotations

import random

import h11
import pytest

from ai_chat.llm.chunked import ChunkMerger

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _encode(payloads: list[bytes], rng: random.Random) -> bytes:
    out = []
    for payload in payloads:
        size = b"%x" % len(payload) if rng.random() < 0.5 else b"%X" % len(payload)
        ext = b";name=value" if rng.random() < 0.1 else b""
        out.append(size + ext + b"\r\n" + payload + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


def _split(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 12))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def _decode(reads: list[bytes]) -> tuple[bytes, int, bool]:
    """Body bytes, how many Data events h11 made of them, whether the body ended."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/v1/messages", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    body, events, ended = [], 0, False
    for read in reads:
        conn.receive_data(read)
        while (event := conn.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if isinstance(event, h11.Data):
                body.append(event.data)
                events += 1
            elif isinstance(event, h11.EndOfMessage):
                ended = True
        if ended:
            break
    return b"".join(body), events, ended


def _through_merger(response: bytes, rng: random.Random) -> list[bytes]:
    """Reads as the stream delivers them: unmerged until the parser has the headers (and
    perhaps some body), then through a merger from a read the test picks."""
    reads = _split(response, rng)
    ends = [len(b"".join(reads[: k + 1])) for k in range(len(reads))]
    first = next(k for k, end in enumerate(ends) if end >= len(HEAD))
    installed_after = rng.randint(first, len(reads) - 1) + 1
    merger = ChunkMerger.after(b"".join(reads[:installed_after]))
    if merger is None:  # only when the parser already has the last chunk's size line
        assert ends[installed_after - 1] >= len(response) - 2
        return reads
    return reads[:installed_after] + [merger.feed(read) for read in reads[installed_after:]]


@pytest.mark.parametrize("seed", range(300))
def test_any_split_decodes_to_the_same_body(seed: int) -> None:
    rng = random.Random(seed)
    payloads = [rng.randbytes(rng.randint(1, 60)) for _ in range(rng.randint(1, 30))]
    response = HEAD + _encode(payloads, rng)
    body, _, ended = _decode(_through_merger(response, rng))
    assert body == b"".join(payloads)
    assert ended


def test_a_read_of_many_complete_chunks_becomes_one_chunk() -> None:
    frames = [b"event: content_block_delta\ndata: {}\n\n" for _ in range(20)]
    body = _encode(frames, random.Random(1))[: -len(b"0\r\n\r\n")]
    merger = ChunkMerger.after(HEAD)
    assert merger is not None
    merged = merger.feed(body)
    decoded, events, ended = _decode([HEAD, merged])
    assert decoded == b"".join(frames)
    assert events == 1 and not ended
    assert len(merged) < len(body)


def test_a_chunk_split_across_reads_is_finished_then_merging_resumes() -> None:
    chunks = b"a\r\n" + b"a" * 10 + b"\r\n"  # 15 bytes a chunk
    chunks += b"a\r\n" + b"b" * 10 + b"\r\n" + b"a\r\n" + b"c" * 10 + b"\r\n"
    chunks += b"a\r\n" + b"d" * 10 + b"\r\n0\r\n\r\n"
    merger = ChunkMerger.after(HEAD + chunks[:7])  # the parser already has part of chunk 1
    assert merger is not None
    rest = [merger.feed(chunks[7:20]), merger.feed(chunks[20:])]
    assert rest[0] == chunks[7:20]  # the end of chunk 1, the start of chunk 2: as they were
    assert rest[1] == b"b" * 8 + b"\r\n" + b"14\r\n" + b"c" * 10 + b"d" * 10 + b"\r\n0\r\n\r\n"
    decoded, _, ended = _decode([HEAD + chunks[:7], *rest])
    assert decoded == b"a" * 10 + b"b" * 10 + b"c" * 10 + b"d" * 10 and ended


def test_malformed_bytes_pass_unchanged_so_h11_reports_them() -> None:
    merger = ChunkMerger.after(HEAD)
    assert merger is not None
    bad = b"5\r\nhello\r\nzz\r\noops\r\n"
    out = merger.feed(bad)
    assert out.endswith(b"zz\r\noops\r\n")  # from the bad size line on, as received
    assert not merger.active
    with pytest.raises(h11.RemoteProtocolError):
        _decode([HEAD, out])


def test_interim_responses_and_incomplete_headers() -> None:
    assert ChunkMerger.after(b"HTTP/1.1 200 OK\r\ntransfer-enc") is None
    merger = ChunkMerger.after(b"HTTP/1.1 100 Continue\r\n\r\n" + HEAD + b"3\r\nab")
    assert merger is not None
    assert merger.feed(b"c\r\n2\r\nde\r\n") == b"c\r\n2\r\nde\r\n"  # end of one, then one
    assert ChunkMerger.after(HEAD + b"0\r\n\r\n") is None  # the body already ended
