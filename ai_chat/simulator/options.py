"""Simulation options: what a request asks the simulator to do, and where it can say so.

Sources, highest precedence first:
  1. a directive in the last user message: ``[[sim tps=20 ttft=3 tokens=400 drop=10 tag=abc]]``
  2. the ``x-sim-options`` header: ``tps=20; ttft=3`` (``;`` and/or whitespace separated)
  3. environment variables read once by ``create_app``: AI_CHAT_SIM_TPS, AI_CHAT_SIM_TTFT,
     AI_CHAT_SIM_TOKENS, AI_CHAT_SIM_CHUNK, AI_CHAT_SIM_PING
  4. the dataclass defaults.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# HTTP status -> Anthropic error type; the statuses the `error` option may ask for.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# Reverse map, used to pick a status when a mid-stream error type is asked of a non-stream call.
STATUS_BY_TYPE: dict[str, int] = {t: s for s, t in ERROR_TYPES.items()}

MAX_TOKENS_OPTION = 200_000  # keeps a reply's text under ~800 KB
MAX_WAIT_S = 600.0  # no simulated wait may exceed this (a stall is capped too)

# `[[sim ...]]`; the body excludes `]` so two directives on one line stay separate.
DIRECTIVE_RE = re.compile(r"\[\[sim(?:\s+([^\]]*))?\s*\]\]")
_DIRECTIVE_WITH_SPACE_RE = re.compile(r"[ \t]*" + DIRECTIVE_RE.pattern)


class OptionError(ValueError):
    """A bad option value; the app answers 400 invalid_request_error with this message."""


@dataclass(frozen=True)
class SimOptions:
    tps: float = 50.0  # tokens per second once streaming
    ttft: float = 0.3  # seconds before the first token
    tokens: int = 200  # reply length in tokens
    chunk: int = 1  # tokens per content_block_delta
    error: int | None = None  # fail with this HTTP status before streaming
    retry_after: float = 2.0  # retry-after header for 429/529
    midstream_error: str | None = None  # error type sent as an `event: error` frame
    at: int | None = None  # tokens before the mid-stream error (default: half the reply)
    drop: int | None = None  # close the TCP connection abruptly after N tokens
    stall: int | None = None  # go silent after N tokens until the client leaves
    ping: float = 1.0  # ping interval during silent waits; 0 disables pings
    tag: str | None = None  # free string recorded with the request
    echo: bool = False  # reply with the last user message verbatim (directives removed)


def _float(lo: float, hi: float, lo_open: bool = False) -> Callable[[str], float]:
    def conv(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise OptionError(f"expected a number, got {raw!r}") from None
        if not math.isfinite(value) or value < lo or (lo_open and value == lo) or value > hi:
            bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
            raise OptionError(f"expected a number {bound} and <= {hi:g}, got {raw!r}")
        return value

    return conv


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def conv(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise OptionError(f"expected an integer, got {raw!r}") from None
        if not lo <= value <= hi:
            raise OptionError(f"expected an integer in [{lo}, {hi}], got {raw!r}")
        return value

    return conv


def _status(raw: str) -> int:
    value = _int(100, 599)(raw)
    if value not in ERROR_TYPES:
        allowed = ", ".join(str(s) for s in ERROR_TYPES)
        raise OptionError(f"expected one of {allowed}, got {raw!r}")
    return value


def _error_type(raw: str) -> str:
    if raw not in STATUS_BY_TYPE:
        raise OptionError(f"expected one of {', '.join(STATUS_BY_TYPE)}, got {raw!r}")
    return raw


def _flag(raw: str) -> bool:
    if raw.lower() in ("1", "true"):
        return True
    if raw.lower() in ("0", "false"):
        return False
    raise OptionError(f"expected 1 or 0, got {raw!r}")


def _tag(raw: str) -> str:
    if not raw:
        raise OptionError("expected a non-empty string")
    return raw


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "tps": _float(0.0, 1e9, lo_open=True),
    "ttft": _float(0.0, MAX_WAIT_S),
    "tokens": _int(0, MAX_TOKENS_OPTION),
    "chunk": _int(1, MAX_TOKENS_OPTION),
    "error": _status,
    "retry_after": _float(0.0, 86_400.0),
    "midstream_error": _error_type,
    "at": _int(0, MAX_TOKENS_OPTION),
    "drop": _int(0, MAX_TOKENS_OPTION),
    "stall": _int(0, MAX_TOKENS_OPTION),
    "ping": _float(0.0, MAX_WAIT_S),
    "tag": _tag,
    "echo": _flag,
}

ENV_VARS: dict[str, str] = {
    "AI_CHAT_SIM_TPS": "tps",
    "AI_CHAT_SIM_TTFT": "ttft",
    "AI_CHAT_SIM_TOKENS": "tokens",
    "AI_CHAT_SIM_CHUNK": "chunk",
    "AI_CHAT_SIM_PING": "ping",
}


def apply_pairs(base: SimOptions, pairs: Mapping[str, str], source: str) -> SimOptions:
    """Return `base` overridden by the raw ``key=value`` pairs; `source` names them in errors."""
    changes: dict[str, Any] = {}
    for raw_key, raw_value in pairs.items():
        key = raw_key.strip().lower().replace("-", "_")
        conv = _CONVERTERS.get(key)
        if conv is None:
            known = ", ".join(_CONVERTERS)
            raise OptionError(f"{source}: unknown option {raw_key!r} (known: {known})")
        try:
            changes[key] = conv(raw_value.strip())
        except OptionError as exc:
            raise OptionError(f"{source}: option {key}: {exc}") from None
    return dataclasses.replace(base, **changes)


def split_pairs(text: str, source: str) -> dict[str, str]:
    """Parse ``a=1 b=2`` / ``a=1; b=2`` into a dict (later duplicates win)."""
    pairs: dict[str, str] = {}
    for item in re.split(r"[;\s]+", text.strip()):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise OptionError(f"{source}: expected key=value, got {item!r}")
        pairs[key] = value
    return pairs


def from_env(env: Mapping[str, str], base: SimOptions | None = None) -> SimOptions:
    """Defaults overridden by the AI_CHAT_SIM_* variables; raises OptionError if one is bad."""
    pairs = {opt: env[var] for var, opt in ENV_VARS.items() if env.get(var, "").strip()}
    return apply_pairs(base or SimOptions(), pairs, "environment")


def directive_pairs(text: str) -> dict[str, str]:
    """The LAST ``[[sim ...]]`` directive in `text`.

    Only the last counts: when the app merges consecutive user turns (a failed turn then a new
    one), the newest directive must decide alone, not inherit e.g. an old ``error=``.
    """
    matches = list(DIRECTIVE_RE.finditer(text))
    if not matches:
        return {}
    return split_pairs(matches[-1].group(1) or "", "[[sim]] directive")


def remove_directives(text: str) -> str:
    """`text` without its directives (and the spaces/tabs just before each), right-trimmed.

    Unlike strip_directives, leading whitespace and inner layout survive: an echoed
    Markdown payload (indented code, line breaks) must reach the client byte for byte.
    """
    return _DIRECTIVE_WITH_SPACE_RE.sub("", text).rstrip()


def strip_directives(text: str) -> str:
    """`text` without its ``[[sim ...]]`` directives, trimmed."""
    return DIRECTIVE_RE.sub("", text).strip()


def resolve(base: SimOptions, header: str | None, prompt: str) -> SimOptions:
    """Apply the header, then the prompt directive (highest precedence), over `base`."""
    opts = base
    if header:
        source = "x-sim-options header"
        opts = apply_pairs(opts, split_pairs(header, source), source)
    return apply_pairs(opts, directive_pairs(prompt), "[[sim]] directive")
