"""Markdown tables of a results dict: results vs targets, vs the naive baseline, details."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.scenarios.capacity import capacity

Row = tuple[str, str, str, str, str]  # what, target, app, naive, verdict


def _get(data: Any, *path: Any) -> Any:
    for key in path:
        if data is None:
            return None
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _ms(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1f} ms"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def _le(value: float | None, bound: float) -> bool | None:
    return None if value is None or math.isnan(value) else value <= bound


def _cell(results: dict, app: str, history: int, tokens: int) -> dict | None:
    for c in _get(results, app, "cells") or []:
        if c["history"] == history and c["tokens"] == tokens:
            return c
    return None


def _step(results: dict, app: str, streams: int) -> dict | None:
    for s in _get(results, app, "capacity") or []:
        if s["streams"] == streams:
            return s
    return _get(results, app, "load_step") if app == "app" else None


def _history_ratio(results: dict, key: str) -> float | None:
    """Worst 500-vs-0-turn ratio of mean bytes per push, over the reply lengths."""
    ratios = []
    for tokens in (100, 1000, 4000):
        a, b = _cell(results, "app", 0, tokens), _cell(results, "app", 500, tokens)
        if a and b and a[key]:
            ratios.append(b[key] / a[key])
    return max(ratios) if ratios else None


def _cpu_ratio(results: dict, app: str) -> float | None:
    rows = [r for r in _get(results, app, "cpu_per_push") or [] if r]
    if len(rows) < 2 or not rows[0]["cpu_ms_per_push"]:
        return None
    return rows[-1]["cpu_ms_per_push"] / rows[0]["cpu_ms_per_push"]


def _streams(best: int, steps: list | None) -> str:
    """Capacity as measured: a lower bound when even the ramp's last step was within it."""
    if not steps:
        return "—"
    return f"≥ {best} (every step)" if best == steps[-1]["streams"] else str(best)


def _redis(results: dict, key: str) -> float | None:
    values = [s.get("redis_ops_per_s_per_stream") for s in _get(results, key, "capacity") or []]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _char_totals(results: dict, apps: tuple[str, ...] = ("app", "scale", "scale_no_oplock")):
    """Lost and duplicated characters over every checked reply of these configurations."""
    lost = dup = 0
    for app in apps:
        section = results.get(app) or {}
        items = [section.get("first_token"), section.get("load_step"), section.get("soak")]
        items += list(section.get("cells") or []) + list(section.get("capacity") or [])
        for item in items:
            if item:
                lost, dup = lost + item.get("lost", 0), dup + item.get("dup", 0)
    return lost, dup


def target_rows(results: dict[str, Any]) -> list[Row]:
    r = results
    rows: list[Row] = []
    ft, nft = _get(r, "app", "first_token", "ms"), _get(r, "naive", "first_token", "ms")
    rows.append(
        (
            "first-token overhead p50, 1 stream",
            "≤ 10 ms",
            _ms(_get(ft, "p50")),
            _ms(_get(nft, "p50")),
            _verdict(_le(_get(ft, "p50"), 10)),
        )
    )
    rows.append(
        (
            "first-token overhead p99, 1 stream",
            "≤ 50 ms",
            _ms(_get(ft, "p99")),
            _ms(_get(nft, "p99")),
            _verdict(_le(_get(ft, "p99"), 50)),
        )
    )
    load = _get(r, "plan", "first_token_load") or 200
    at_load, naive_load = _step(r, "app", load), _step(r, "naive", load)
    rows.append(
        (
            f"first-token overhead p99, {load} streams",
            "≤ 100 ms",
            _ms(_get(at_load, "first_token_ms", "p99")),
            _ms(_get(naive_load, "first_token_ms", "p99")),
            _verdict(_le(_get(at_load, "first_token_ms", "p99"), 100)),
        )
    )
    for key, label in (("stop_stream", "mid-stream"), ("stop_silent", "silent first-token wait")):
        s, ns = _get(r, "app", key, "ms"), _get(r, "naive", key, "ms")
        ok = None if s is None else bool(_le(s["p50"], 10)) and bool(_le(s["p99"], 50))
        rows.append(
            (
                f"stop latency p50 / p99, {label}",
                "≤ 10 / ≤ 50 ms",
                f"{_ms(_get(s, 'p50'))} / {_ms(_get(s, 'p99'))}",
                f"{_ms(_get(ns, 'p50'))} / {_ms(_get(ns, 'p99'))}" if ns else "n/a",
                _verdict(ok),
            )
        )
    lost, dup = _char_totals(r)
    rows.append(
        (
            "lost / duplicated characters, every streamed reply",
            "0",
            f"{lost} / {dup}",
            "/".join(map(str, _char_totals(r, ("naive",)))),
            _verdict(lost + dup == 0),
        )
    )
    push_ratio = _history_ratio(r, "push_bytes_mean")
    rows.append(
        (
            "bytes per push, 500 vs 0 prior turns",
            "≤ 1.2×",
            _x(push_ratio),
            "",
            _verdict(None if push_ratio is None else push_ratio <= 1.2),
        )
    )
    cpu_ratio = _cpu_ratio(r, "app")
    rows.append(
        (
            "server CPU per push, 500 vs 0 prior turns",
            "≤ 1.2×",
            _x(cpu_ratio),
            _x(_cpu_ratio(r, "naive")) + " (50 vs 0)" if _cpu_ratio(r, "naive") else "",
            _verdict(None if cpu_ratio is None else cpu_ratio <= 1.2),
        )
    )
    a, n = _cell(r, "app", 50, 4000), _cell(r, "naive", 50, 4000)
    fewer = n["reply_bytes"] / a["reply_bytes"] if a and n and a["reply_bytes"] else None
    rows.append(
        (
            "bytes for a 4,000-token reply, 50 prior turns",
            "≥ 20× fewer than naive",
            _mb(_get(a, "reply_bytes")) + (f" ({fewer:.0f}× fewer)" if fewer else ""),
            _mb(_get(n, "reply_bytes")),
            _verdict(None if fewer is None else fewer >= 20),
        )
    )
    cap, ncap = (
        capacity(_get(r, "app", "capacity") or []),
        capacity(_get(r, "naive", "capacity") or []),
    )
    rows.append(
        (
            "streams at 50 tok/s, 1 worker, lag p99 ≤ 250 ms, 0 lost/dup",
            "≥ 300",
            _streams(cap, _get(r, "app", "capacity")),
            _streams(ncap, _get(r, "naive", "capacity")),
            _verdict(cap >= 300 if _get(r, "app", "capacity") else None),
        )
    )
    idle, nidle = (
        _get(r, "app", "idle", "bytes_per_session"),
        _get(r, "naive", "idle", "bytes_per_session"),
    )
    rows.append(
        (
            "RSS per idle connected session",
            "≤ 256 KB",
            _kb(idle),
            _kb(nidle),
            _verdict(None if idle is None else idle <= 256 * 1024),
        )
    )
    drift = _get(r, "app", "soak", "drift")
    soak_s = _get(r, "app", "soak", "seconds")
    rows.append(
        (
            f"RSS drift over a {soak_s or 0:.0f} s soak",
            "≤ 5 %",
            "—" if drift is None else f"{drift * 100:+.1f} %",
            "",
            _verdict(None if drift is None else abs(drift) <= 0.05),
        )
    )
    commits = _get(r, "app", "writes", "existing_chat", "commits")
    if _get(r, "app", "writes", "journal_mode") == "wal":
        commits = None  # the header's change counter only moves at WAL checkpoints
    rows_pg = _get(r, "pg_writes", "rows_per_turn")
    # 4 since issue #21 (was 3): the reply's row is written with the question, so a crash
    # can't lose it, and updated at its end (checkpoints are per worker, not per turn).
    rows.append(
        (
            "DB writes per turn (SQLite commits / PostgreSQL rows)",
            "≤ 4",
            f"{_n(commits)} commits / {_n(rows_pg)} rows"
            + (" (SQLite in WAL: commits not countable from outside)" if commits is None else ""),
            "",
            _verdict(
                None
                if rows_pg is None and commits is None
                else max(rows_pg or 0, commits or 0) <= 4
            ),
        )
    )
    ops, ops_off = _redis(r, "scale"), _redis(r, "scale_no_oplock")
    rows.append(
        (
            "Redis ops/s per stream (as deployed, oplock on / REFLEX_OPLOCK_ENABLED=0)",
            "≤ 5",
            f"{_n(ops)} / {_n(ops_off)}",
            "",
            _verdict(None if ops is None else ops <= 5),
        )
    )
    for key, label in (("scale", ""), ("scale_no_oplock", " (oplock off)")):
        steps = _get(r, key, "capacity")
        scaled = capacity(steps or [])
        ratio = scaled / cap if steps and cap else None
        rows.append(
            (
                f"3 workers + Redis{label} vs 1 worker",
                "≥ 1.5×",
                f"{scaled} streams ({_x(ratio)})" if steps else "—",
                "",
                _verdict(None if ratio is None else ratio >= 1.5),
            )
        )
    return rows


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _kb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1024:.0f} KB"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:.2f} MB"


def table(header: list[str], rows: list[list[str]] | list[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
