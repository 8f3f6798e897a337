"""Turning pushes + the simulator's records into latencies, lags and character counts.

Clocks: the simulator stamps `time.time()` in its own process, the client stamps
`time.time()` when a frame is read; same machine, same clock.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import statistics
from typing import Any

from ai_chat.simulator.script import TOKEN_CHARS
from benchmarks.users import Turn
from tests.support.servers import http_get

Record = dict[str, Any]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p90": pct(values, 0.90),
        "p99": pct(values, 0.99),
        "max": max(values),
    }


async def records(sim_url: str, tags: list[str] | None = None) -> dict[str, Record]:
    """The simulator's records by tag (one GET for all, or one per tag)."""
    if tags is None:
        found = await asyncio.to_thread(http_get, f"{sim_url}/_records")
    else:
        found = []
        for tag in tags:
            found += await asyncio.to_thread(http_get, f"{sim_url}/_records?tag={tag}")
    return {r["tag"]: r for r in found if r.get("tag")}


async def wait_record(sim_url: str, tag: str, field: str, timeout: float = 15.0) -> Record:
    """Poll until the record for `tag` has `field` set (e.g. disconnected_at)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = (await records(sim_url, [tag])).get(tag)
        if found and found.get(field) is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"simulator record {tag} has no {field} after {timeout} s")
        await asyncio.sleep(0.02)


async def clear_records(sim_url: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{sim_url}/_records", method="DELETE")
    await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=10).read())


def first_token_ms(turn: Turn, record: Record) -> float | None:
    """Simulator sent the first delta → the client got the push containing it."""
    first = turn.first_text_at()
    if first is None or record.get("first_token_at") is None:
        return None
    return (first - record["first_token_at"]) * 1000


def delivery_lags_ms(turn: Turn, record: Record) -> list[float]:
    """Per token: receive time of the first push that carried it − when the simulator sent it.

    Token k leaves the simulator at first_token_at + k/tps, or with the delta holding it
    (`Turn.sent_after_first_s`; its pacer has no drift), so send times are known without
    per-token records; if the simulator itself runs late this overstates the lag (never
    understates it). Every token counts, not only each push's
    newest one: a push that brings a batch read just before it is fresh at its end but its
    oldest tokens waited a whole push interval.
    """
    return [lag for _, lag in token_lags(turn, record)]


def token_lags(turn: Turn, record: Record) -> list[tuple[float, float]]:
    """(send time, delivery lag ms) of each token delivered; see `delivery_lags_ms`."""
    start = record.get("first_token_at")
    if start is None:
        return []
    lags = []
    seen = 0  # tokens delivered by earlier pushes
    for at, length, _ in turn.text_pushes:
        tokens = math.ceil(length / TOKEN_CHARS)
        for k in range(seen, tokens):
            sent = start + turn.sent_after_first_s(k)
            lags.append((sent, (at - sent) * 1000))
        seen = max(seen, tokens)
    return lags


def all_streaming(spans: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The window in which every stream of a step is sending: from the last stream's first
    token to the first stream's last token (None if they never all overlap). Outside it the
    server is also starting or ending turns (the step's ramp and wind-down)."""
    if not spans:
        return None
    start, end = max(s for s, _ in spans), min(e for _, e in spans)
    return (start, end) if start <= end else None


def lags_within(lags: list[tuple[float, float]], window: tuple[float, float] | None) -> list[float]:
    if window is None:
        return []
    return [lag for sent, lag in lags if window[0] <= sent <= window[1]]


def simulator_late_ms(turn: Turn, record: Record) -> float | None:
    """How late the simulator finished vs its own schedule (rig saturation check)."""
    if record.get("first_token_at") is None or record.get("completed_at") is None:
        return None
    due = record["first_token_at"] + turn.sent_after_first_s(turn.tokens - 1)
    return (record["completed_at"] - due) * 1000


def turn_end_ms(turn: Turn, record: Record) -> float | None:
    """Simulator finished the reply → the client saw the turn end (Stop turns back to Send)."""
    if record.get("completed_at") is None or not turn.ended_at:
        return None
    return (turn.ended_at - record["completed_at"]) * 1000


def char_errors(expected: str, got: str | None) -> tuple[int, int]:
    """(lost, duplicated) characters of the final text vs what the simulator sent."""
    if got == expected:
        return 0, 0
    if got is None:
        return len(expected), 0
    lost = dup = 0
    matcher = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            lost += i2 - i1
        if op in ("insert", "replace"):
            dup += j2 - j1
    return lost, dup


def stream_bytes(turn: Turn) -> tuple[list[int], int]:
    """(sizes of the pushes that carried reply text, all bytes of the turn)."""
    return [size for _, length, size in turn.text_pushes if length], turn.bytes
