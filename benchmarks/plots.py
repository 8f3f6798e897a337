"""PNG plots of a results dict (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: CI and this machine have no display
import matplotlib.pyplot as plt

from benchmarks.scenarios.capacity import LAG_BOUND_MS

SERIES = (
    ("app", "app, 1 worker"),
    ("scale", "app, 3 workers + Redis"),
    ("scale_no_oplock", "app, 3 workers + Redis (oplock off)"),
    ("naive", "naive baseline, 1 worker"),
)


def lag_vs_concurrency(results: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, label in SERIES:
        section = results.get(key) or {}
        steps = sorted(
            [*(section.get("capacity") or []), *filter(None, [section.get("load_step")])],
            key=lambda s: s["streams"],
        )
        if steps:
            xs = [s["streams"] for s in steps]
            ax.plot(xs, [s["lag_ms"]["p99"] for s in steps], marker="o", label=f"{label} p99")
            if key == "app":
                ax.plot(
                    xs, [s["lag_ms"]["p50"] for s in steps], "--", marker=".", label=f"{label} p50"
                )
    ax.axhline(LAG_BOUND_MS, color="red", linestyle=":", label=f"bound {LAG_BOUND_MS:.0f} ms")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent streams (50 tokens/s each)")
    ax.set_ylabel("delivery lag (ms, log)")
    ax.set_title("Delivery lag vs concurrency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def bytes_vs_reply(results: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, style in (("app", "-"), ("naive", "--")):
        cells = (results.get(key) or {}).get("cells") or []
        for history in sorted({c["history"] for c in cells}):
            row = sorted((c for c in cells if c["history"] == history), key=lambda c: c["tokens"])
            if row:
                ax.plot(
                    [c["tokens"] for c in row],
                    [c["reply_bytes"] for c in row],
                    style,
                    marker="o",
                    label=f"{key}, {history} prior turns",
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("reply length (tokens)")
    ax.set_ylabel("bytes received per reply (log)")
    ax.set_title("WebSocket bytes per reply")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
