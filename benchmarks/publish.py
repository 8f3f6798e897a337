"""Write a run's results as Markdown + PNGs, and splice them into docs/PERFORMANCE.md."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks import plots
from benchmarks.report import table, target_rows

START, END = "<!-- results:start -->", "<!-- results:end -->"
DOCS = Path(__file__).resolve().parents[1] / "docs"
PUBLISHED_RESULTS = Path(__file__).resolve().parent / "published-results.json"


def _f(value: Any, fmt: str = "{:.0f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def _machine(results: dict[str, Any]) -> str:
    m = results.get("machine") or {}
    load = ", ".join(f"{x:.2f}" for x in m.get("loadavg_at_start") or [])
    return (
        f"Machine: {m.get('nproc')} cores ({m.get('cpu_model')}), {m.get('ram_gib')} GiB RAM; "
        f"Python {m.get('python')}, Reflex {m.get('reflex')}; "
        f"measured: {m.get('label') or 'app at `' + str(m.get('git')) + '`'}; "
        f"started {m.get('started')}, load average at start {load}."
    )


def _cells(results: dict[str, Any]) -> str:
    rows = []
    for app in ("app", "naive"):
        for c in (results.get(app) or {}).get("cells") or []:
            rows.append(
                [
                    app,
                    c["history"],
                    c["tokens"],
                    c["pushes"],
                    _f(c["push_bytes_mean"]),
                    _f(c["push_bytes_max"]),
                    _f(c["reply_bytes"] / 1e3, "{:,.1f}"),
                    _f(c["open_bytes"] / 1e3, "{:,.1f}"),
                    f"{c['lost']}/{c['dup']}",
                ]
            )
    header = [
        "app",
        "prior turns",
        "reply tokens",
        "pushes",
        "B/push (mean)",
        "B/push (max)",
        "KB/reply",
        "KB to open the chat",
        "lost/dup chars",
    ]
    return table(header, rows)


def _cpu(results: dict[str, Any]) -> str:
    rows = []
    for app in ("app", "naive"):
        for c in (results.get(app) or {}).get("cpu_per_push") or []:
            if c:
                rows.append(
                    [
                        app,
                        c["history"],
                        c["streams"],
                        c["pushes"],
                        _f(c["cpu_ms_per_push"], "{:.2f}"),
                        _f(c["cpu_util"], "{:.2f}"),
                    ]
                )
    header = [
        "app",
        "prior turns",
        "streams",
        "pushes in window",
        "server CPU ms/push",
        "server cores busy",
    ]
    return table(header, rows)


def _capacity(results: dict[str, Any]) -> str:
    rows = []
    for key, label, _ in [(k, lbl, None) for k, lbl in plots.SERIES]:
        steps = list((results.get(key) or {}).get("capacity") or [])
        if key == "app" and (results.get("app") or {}).get("load_step"):
            steps.append(results["app"]["load_step"])
        for s in steps:
            cpu = s["cpu"]
            rows.append(
                [
                    label,
                    s["streams"],
                    _f(s["lag_ms"]["p50"]),
                    _f(s["lag_ms"]["p99"]),
                    _f((s.get("lag_all_streaming_ms") or {}).get("p99")),
                    _f(s["first_token_ms"]["p99"]),
                    _f((s.get("send_to_first_ms") or {}).get("p99")),
                    _f((s.get("turn_end_ms") or {}).get("p50")),
                    _f((s.get("turn_end_ms") or {}).get("p99")),
                    _f(s["sim_late_ms"]["p99"]),
                    _f(s["gen_loop_lag_ms"]["p99"]),
                    _f(s["pushes_per_s"]),
                    f"{cpu['server']:.2f} / {cpu['simulator']:.2f} / {cpu['generator']:.2f}"
                    f" / {cpu['other']:.2f}",
                    f"{s['lost']}/{s['dup']}"
                    + (f" ({s['failed_turns']} failed)" if s.get("failed_turns") else ""),
                    _f(s.get("redis_ops_per_s_per_stream"), "{:.1f}"),
                ]
            )
    header = [
        "configuration",
        "streams",
        "lag p50 ms",
        "lag p99 ms",
        "lag p99 ms while all stream (no turn starting or ending)",
        "first token p99 ms",
        "Send → first text p99 ms (incl. 300 ms simulated TTFT)",
        "turn end p50 ms",
        "turn end p99 ms",
        "simulator late p99 ms",
        "generator loop lag p99 ms",
        "pushes/s",
        "cores: server / simulator / generator / other",
        "lost/dup",
        "Redis ops/s/stream",
    ]
    return table(header, rows)


def results_markdown(results: dict[str, Any], image_prefix: str = "") -> str:
    parts = [
        _machine(results),
        "",
        "### Results vs targets",
        "",
        table(["what", "target", "app", "naive baseline", "verdict"], target_rows(results)),
        "",
        f"![delivery lag vs concurrency]({image_prefix}perf-lag-vs-concurrency.png)",
        f"![bytes per reply]({image_prefix}perf-bytes-vs-reply.png)",
        "",
        "### Push cost (bytes)",
        "",
        _cells(results),
        "",
        "### Server CPU per push (steady streaming, 50 tok/s)",
        "",
        _cpu(results),
        "",
        "### Capacity steps",
        "",
        _capacity(results),
        "",
        "### DB writes",
        "",
        "```json",
        json.dumps(
            {
                "sqlite": (results.get("app") or {}).get("writes"),
                "postgresql": results.get("pg_writes"),
            },
            indent=1,
        ),
        "```",
    ]
    if results.get("errors"):
        parts += ["", "### Errors during the run", ""] + [f"- {e}" for e in results["errors"]]
    return "\n".join(parts) + "\n"


def _dump(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=1, default=str) + "\n"


def write_run(results: dict[str, Any], out_dir: Path) -> Path:
    """results.json, results.md and the plots in the run's own directory."""
    (out_dir / "results.json").write_text(_dump(results))
    plots.lag_vs_concurrency(results, out_dir / "perf-lag-vs-concurrency.png")
    plots.bytes_vs_reply(results, out_dir / "perf-bytes-vs-reply.png")
    path = out_dir / "results.md"
    path.write_text(results_markdown(results))
    return path


def publish(
    results: dict[str, Any], docs: Path = DOCS, raw: Path | None = PUBLISHED_RESULTS
) -> Path:
    """Plots into docs/, the generated section of docs/PERFORMANCE.md replaced, and the raw
    numbers kept beside the suite (the section is rebuilt from them)."""
    docs.mkdir(exist_ok=True)
    if raw is not None:
        raw.write_text(_dump(results))
    plots.lag_vs_concurrency(results, docs / "perf-lag-vs-concurrency.png")
    plots.bytes_vs_reply(results, docs / "perf-bytes-vs-reply.png")
    doc = docs / "PERFORMANCE.md"
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{START}\n{results_markdown(results)}{END}{tail}")
    return doc
