"""The Messages API's stream frames as `ReplyEvent`s.

Every event type the API documents is handled: message_start, content_block_start / delta /
stop, message_delta, message_stop, ping and error; the blocks text, thinking,
redacted_thinking, tool_use, server_tool_use, mcp_tool_use and the `*_tool_result` blocks; the
deltas text, thinking, signature, input_json and citations. An event, block or delta type
this doesn't know is logged once per process (by type) and skipped, as the SDK skips it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ai_chat.llm.errors import midstream_error
from ai_chat.llm.events import (
    Citation,
    RedactedThinking,
    ReplyEvent,
    ReplyFinished,
    ReplyStarted,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCall,
    ToolResult,
)

log = logging.getLogger(__name__)

TOOL_CALL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_LOGGED_MAX = 256  # distinct unknown types logged; a stream can't grow the set past this
_logged: set[str] = set()

_raw_decode = json.JSONDecoder().raw_decode


def _json(data: bytes) -> Any:
    """`json.loads` for the per-token frames, without its Python-level guess of the bytes'
    encoding (the API's are UTF-8) and two of its call layers."""
    text = data.decode()
    value, end = _raw_decode(text)
    if end != len(text):
        return json.loads(text)  # trailing data: json says what is wrong with it
    return value


def log_unknown_once(what: str, name: object) -> None:
    key = f"{what}:{name}"
    if key in _logged or len(_logged) >= _LOGGED_MAX:
        return
    _logged.add(key)
    log.warning("Claude's stream sent an unknown %s %r; skipped (logged once)", what, name)


class _PendingCall:
    """A tool call whose input is still streaming."""

    def __init__(self, kind: str, block: dict[str, Any]) -> None:
        self.kind = kind
        self.id = str(block.get("id") or "")
        self.name = str(block.get("name") or "")
        self.start_input = block.get("input")
        self.parts: list[str] = []

    def finish(self, index: int) -> ToolCall:
        text = "".join(self.parts)
        if not text:  # no deltas: the input came whole with the block's start
            return ToolCall(index, self.kind, self.id, self.name, self.start_input, "")
        try:
            value = json.loads(text)
        except ValueError:
            log.warning("tool call %s: its input is not JSON; kept as text", self.id)
            value = None
        return ToolCall(index, self.kind, self.id, self.name, value, text)


class FrameParser:
    """One reply's frames, in order; `parse` gives the frame's event or None."""

    def __init__(self, request_id: str | None, model: str) -> None:
        self.request_id, self.model = request_id, model
        self.index = self.output_tokens = 0
        self.stop_reason: str | None = None
        self.finished = False
        self._calls: dict[int, _PendingCall] = {}

    def parse(self, kind: str, data: bytes) -> ReplyEvent | None:
        if kind == "content_block_delta":  # the hot path: one per token
            body = _json(data)
            delta = body["delta"]
            delta_type = delta.get("type")
            if delta_type == "text_delta":
                if not delta.get("text"):
                    return None
                self.index += 1
                return TextDelta(delta["text"], self.index - 1)
            return self._delta(body.get("index", 0), delta_type, delta)
        if kind == "content_block_start":
            body = _json(data)
            return self._block_start(body.get("index", 0), body.get("content_block") or {})
        if kind == "content_block_stop":
            index = _json(data).get("index", 0)
            call = self._calls.pop(index, None)
            return None if call is None else call.finish(index)
        if kind == "message_start":
            return self._message_start(_json(data)["message"])
        if kind == "message_delta":
            body = _json(data)
            self.stop_reason = (body.get("delta") or {}).get("stop_reason")
            usage = body.get("usage") or {}
            self.output_tokens = usage.get("output_tokens") or self.output_tokens
            return None
        if kind == "message_stop":
            self.finished = True
            return ReplyFinished(stop_reason=self.stop_reason, output_tokens=self.output_tokens)
        if kind == "error":
            error = _json(data).get("error") or {}
            raise midstream_error(error.get("type"), error.get("message"), self.request_id)
        if kind != "ping":
            log_unknown_once("event", kind)
        return None

    def _message_start(self, message: dict[str, Any]) -> ReplyStarted:
        usage = message.get("usage") or {}
        self.output_tokens = usage.get("output_tokens") or 0
        return ReplyStarted(
            request_id=self.request_id,
            model=message.get("model") or self.model,
            input_tokens=usage.get("input_tokens") or 0,
            cache_read_input_tokens=usage.get("cache_read_input_tokens") or 0,
            cache_creation_input_tokens=usage.get("cache_creation_input_tokens") or 0,
        )

    def _delta(self, index: int, delta_type: object, delta: dict[str, Any]) -> ReplyEvent | None:
        if delta_type == "thinking_delta":
            return ThinkingDelta(delta["thinking"]) if delta.get("thinking") else None
        if delta_type == "input_json_delta":
            call = self._calls.get(index)
            if call is None:
                log_unknown_once("input_json_delta outside a tool call, block", index)
            else:
                call.parts.append(delta.get("partial_json") or "")
            return None
        if delta_type == "signature_delta":
            return ThinkingSignature(index, delta.get("signature") or "")
        if delta_type == "citations_delta":
            return Citation(index, delta.get("citation") or {})
        log_unknown_once("delta", delta_type)
        return None

    def _block_start(self, index: int, block: dict[str, Any]) -> ReplyEvent | None:
        block_type = block.get("type")
        if block_type == "text":
            if not block.get("text"):
                return None
            self.index += 1
            return TextDelta(block["text"], self.index - 1)
        if block_type == "thinking":
            return ThinkingDelta(block["thinking"]) if block.get("thinking") else None
        if block_type == "redacted_thinking":
            return RedactedThinking(index, block.get("data") or "")
        if block_type in TOOL_CALL_BLOCKS:
            self._calls[index] = _PendingCall(block_type, block)
            return None
        if isinstance(block_type, str) and block_type.endswith("_tool_result"):
            tool_use_id = str(block.get("tool_use_id") or "")
            return ToolResult(index, block_type, tool_use_id, block.get("content"))
        log_unknown_once("content block", block_type)
        return None
