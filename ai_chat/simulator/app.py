"""The simulator's ASGI app: a local stand-in for the Anthropic Messages API.

Routes match on the path SUFFIX, so the app works standalone at ``/`` and mounted under a
prefix (e.g. ``Mount("/_sim", app)``):

- ``POST …/v1/messages``               stream true: SSE; false: one JSON message
- ``POST …/v1/messages/count_tokens``  ``{"input_tokens": N}``
- ``GET …/_records?tag=x``             JSON list of request records
- ``DELETE …/_records``                clear them
- ``GET …/health``                     ``{"status": "ok"}``

``api_only=True`` (the app mounts it so at ``/_sim`` when there is no API key) serves the two
Messages API routes and nothing else: the records hold every prompt and system prompt, and
anyone who can reach the app's port could read or clear them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from .attachments import attachments_of, received, without_data
from .options import (
    OptionError,
    SimOptions,
    from_env,
    remove_directives,
    resolve,
    strip_directives,
)
from .protocol import (
    Receive,
    Scope,
    Send,
    estimate_input_tokens,
    last_user_text,
    new_message_id,
    new_request_id,
    retry_after_value,
    send_error,
    send_json,
)
from .records import Recorder, RequestRecord
from .reply import Reply, watch_disconnect
from .script import reply_text, split_tokens, thinking_text
from .streaming import json_reply, stream_reply
from .titles import is_title_request, title_reply

MAX_BODY_BYTES = 32 * 1024 * 1024  # the real API's request size limit
# api_only: nothing reads the records, which only track requests in flight; don't keep
# (up to 1000) past prompts in the app's memory.
API_ONLY_RECORDS = 1


class RequestTooLarge(Exception):
    pass


class SimulatorApp:
    """ASGI callable. ``recorder`` holds what each /v1/messages request did."""

    def __init__(
        self,
        recorder: Recorder | None = None,
        env: Mapping[str, str] | None = None,
        api_only: bool = False,
    ):
        self.api_only = api_only
        if recorder is None:
            recorder = Recorder(API_ONLY_RECORDS) if api_only else Recorder()
        self.recorder = recorder
        # Env is read once, here: a bad AI_CHAT_SIM_* value fails at startup, not per request.
        self.base_options: SimOptions = from_env(os.environ if env is None else env)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets are not part of the API
        request_id = new_request_id()
        path = scope["path"].rstrip("/")
        method = scope["method"]
        if path.endswith("/v1/messages/count_tokens"):
            if method != "POST":
                await send_error(send, 405, request_id, f"{method} not allowed")
                return
            await self._count_tokens(scope, receive, send, request_id)
        elif path.endswith("/v1/messages"):
            if method != "POST":
                await send_error(send, 405, request_id, f"{method} not allowed")
                return
            await self._messages(scope, receive, send, request_id)
        elif self.api_only:  # the records and health check are the standalone server's
            await send_error(send, 404, request_id, f"Not found: {method} {scope['path']}")
        elif path.endswith("/_records") and method in ("GET", "DELETE"):
            await self._records(scope, send, request_id, method)
        elif path.endswith("/health"):
            await send_json(send, 200, {"status": "ok"}, request_id)
        else:
            await send_error(send, 404, request_id, f"Not found: {method} {scope['path']}")

    async def _records(self, scope: Scope, send: Send, request_id: str, method: str) -> None:
        if method == "DELETE":
            await send_json(send, 200, {"cleared": self.recorder.clear()}, request_id)
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        tags = query.get("tag")
        records = self.recorder.find(tags[0]) if tags else self.recorder.all()
        await send_json(send, 200, [r.to_dict() for r in records], request_id)

    async def _count_tokens(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        try:
            body = await _read_json(receive)
        except RequestTooLarge:
            await send_error(send, 413, rid)
            return
        problem = _auth_problem(scope) or _body_problem(body, need_max_tokens=False)
        if problem:
            await send_error(send, problem[0], rid, problem[1])
            return
        count = estimate_input_tokens(body["messages"], body.get("system"))
        await send_json(send, 200, {"input_tokens": count}, rid)

    async def _messages(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        record = self.recorder.add(RequestRecord(request_id=rid))
        try:
            body = await _read_json(receive)
        except RequestTooLarge:
            body = None
            problem: tuple[int, str] | None = (413, "")
        else:
            problem = None
        messages = body.get("messages") if isinstance(body, dict) else None
        system = body.get("system") if isinstance(body, dict) else None
        prompt = last_user_text(messages)
        opts: SimOptions | None = None
        try:
            opts = resolve(self.base_options, _header(scope, b"x-sim-options"), prompt)
        except OptionError as exc:
            problem = problem or (400, str(exc))
        files: list[dict[str, Any]] = []
        try:
            files = attachments_of(messages)
        except ValueError as exc:  # a malformed image or document block: the API's 400
            problem = problem or (400, str(exc))
        self.recorder.update(
            record,
            tag=opts.tag if opts else None,
            model=body.get("model") if isinstance(body, dict) else None,
            stream=bool(body.get("stream")) if isinstance(body, dict) else False,
            messages=without_data(messages),
            attachments=files,
            system=system,
            thinking=body.get("thinking") if isinstance(body, dict) else None,
            cache_control=body.get("cache_control") if isinstance(body, dict) else None,
            options=asdict(opts) if opts else {},
        )
        # Checked in the API's order: key, then size/options, then the body's fields.
        problem = _auth_problem(scope) or problem or _body_problem(body, need_max_tokens=True)
        if problem is None and opts is not None and opts.error is not None:
            problem = (opts.error, "")  # the simulated failure comes after real validation
        if problem is not None:
            status, message = problem
            extra = []
            if status in (429, 529) and opts is not None:
                extra.append((b"retry-after", retry_after_value(opts.retry_after)))
            await send_error(send, status, rid, message or None, extra)
            self.recorder.update(
                record, status=status, outcome=f"error:{status}", completed_at=time.time()
            )
            return
        assert opts is not None and isinstance(body, dict)  # no problem implies both

        # echo=1: the prompt itself is the reply (tests inject exact "model output" this way).
        text = (
            title_reply(prompt)  # the app's title request: a title tests can predict
            if is_title_request(system)
            else remove_directives(prompt)
            if opts.echo
            else reply_text(strip_directives(prompt), opts.tokens)
        )
        if (named := received(files, messages)) and not opts.echo:
            text = f"{named} {text}"  # tests read what reached "Claude" from the reply
        tokens = split_tokens(text)
        max_tokens = int(body["max_tokens"])
        reply = Reply(
            request_id=rid,
            message_id=new_message_id(),
            model=body["model"],
            tokens=tokens[:max_tokens],
            stop_reason="max_tokens" if max_tokens < len(tokens) else "end_turn",
            input_tokens=estimate_input_tokens(messages, system),
            opts=opts,
            record=record,
            recorder=self.recorder,
            # Extended thinking requested: a thinking block streams before the answer.
            thinking=split_tokens(thinking_text(strip_directives(prompt)))
            if isinstance(body.get("thinking"), dict)
            and body["thinking"].get("type") in ("enabled", "adaptive")
            else [],
        )
        work = stream_reply(send, reply) if body.get("stream") else json_reply(send, reply)
        await watch_disconnect(receive, reply, work)


def create_app(
    recorder: Recorder | None = None,
    env: Mapping[str, str] | None = None,
    *,
    api_only: bool = False,
) -> SimulatorApp:
    """The simulator ASGI app; `env` defaults to os.environ (AI_CHAT_SIM_* read now).
    `api_only`: only `/v1/messages` and `/v1/messages/count_tokens` (what the SDK calls),
    for mounting inside the served app; the records and health routes answer 404."""
    return SimulatorApp(recorder, env, api_only=api_only)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_json(receive: Receive) -> Any:
    """The request body parsed as JSON, or None if it isn't JSON."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def _auth_problem(scope: Scope) -> tuple[int, str] | None:
    """Any non-empty key is fine, sent as x-api-key or `Authorization: Bearer` (SDK 2.12)."""
    if (_header(scope, b"x-api-key") or "").strip():
        return None
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return None
    return 401, "x-api-key header is required"


def _body_problem(body: Any, need_max_tokens: bool) -> tuple[int, str] | None:
    if not isinstance(body, dict):
        return 400, "Request body must be a JSON object"
    model = body.get("model")
    if not isinstance(model, str) or not model.startswith("claude-"):
        return 404, f"model: {model}"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "messages: at least one message is required"
    max_tokens = body.get("max_tokens")
    if need_max_tokens and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        return 400, "max_tokens: must be a positive integer"
    return None
