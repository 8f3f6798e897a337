"""One turn observed: its JSON log line and its metrics.

The turn's relay (generation/relay.py) feeds it every update the turn produces, whether or
not a tab still consumes them, then its end. `update` runs for every push, so it only
compares and stores; the line and the metrics are written once, when the turn ends.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from ai_chat.config import get_settings
from ai_chat.generation.job import GenerationJob, ReplySaved, TurnFinished, TurnStarted
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.ops import metrics

LOGGER_NAME = "ai_chat.turns"
turn_log = logging.getLogger(LOGGER_NAME)
_configured = False


def _configure() -> None:
    """The turn log goes to stdout as bare JSON lines (AI_CHAT_TURN_LOG=0: nowhere)."""
    global _configured
    _configured = True
    if not get_settings().turn_log:
        turn_log.disabled = True
        return
    turn_log.setLevel(logging.INFO)
    if not turn_log.handlers:  # else: configured by whoever embeds the app (or a test)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        turn_log.addHandler(handler)
        turn_log.propagate = False


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class TurnObserver:
    __slots__ = (
        "_conversation_id",
        "_end_s",
        "_ended",
        "_first_token_s",
        "_in_flight",
        "_job",
        "_pending",
        "_t0",
    )

    def __init__(self, job: GenerationJob) -> None:
        if not _configured:
            _configure()
        self._job = job
        self._t0 = time.monotonic()
        self._conversation_id = job.conversation_id
        self._first_token_s: float | None = None
        self._in_flight = False
        self._ended = False
        self._pending: TurnFinished | None = None  # ended, its save still retried
        self._end_s: float | None = None  # when the reply ended (before a retried save)

    def update(self, update: object) -> None:
        if type(update) is LiveSnapshot:
            if self._first_token_s is None and (update.text or update.status == "streaming"):
                self._first_token_s = time.monotonic() - self._t0
        elif isinstance(update, TurnStarted):
            self._conversation_id = update.conversation_id
            self._in_flight = True
            metrics.REPLIES_IN_FLIGHT.inc()
        elif isinstance(update, TurnFinished) and not self._ended:
            if update.save_pending:
                self._pending = update  # the line waits for ReplySaved
                self._end_s = time.monotonic() - self._t0
            else:
                self._finish(update, saved=update.user_turn_saved and update.save_error is None)
        elif isinstance(update, ReplySaved) and self._pending is not None and not self._ended:
            self._finish(self._pending, saved=update.saved)

    def end(self) -> None:
        """The turn's task is over: a turn that ended without a TurnFinished (its task was
        cancelled) or whose save never resolved still gets its line."""
        if not self._ended:
            self._finish(self._pending, saved=False)

    def _finish(self, finished: TurnFinished | None, saved: bool) -> None:
        self._ended = True
        total_s = self._end_s if self._end_s is not None else time.monotonic() - self._t0
        if self._in_flight:
            metrics.REPLIES_IN_FLIGHT.dec()
        record = self._record(finished, total_s, saved)
        status, kind = record["status"], record["error_kind"]
        metrics.TURNS.labels(status).inc()
        metrics.TURN_DURATION.observe(total_s)
        if self._first_token_s is not None:
            metrics.FIRST_TOKEN.observe(self._first_token_s)
        # Only a turn whose user turn was stored reached Claude (a refusal while draining
        # says "unavailable" too, but nothing was sent).
        if kind and finished and finished.user_turn_saved and kind not in metrics.LOCAL_ERROR_KINDS:
            metrics.UPSTREAM_ERRORS.labels(kind).inc()
        if not turn_log.disabled:
            turn_log.info(json.dumps(record, ensure_ascii=False))

    def _record(self, finished: TurnFinished | None, total_s: float, saved: bool) -> dict[str, Any]:
        job = self._job
        message = finished.message if finished is not None else None
        kind = finished.error_kind if finished is not None else None
        if finished is None:
            status = "abandoned"  # the turn's task was cancelled before its end
        elif not finished.user_turn_saved:
            # a limit, or the worker draining; else the user turn could not be stored
            status = "not_started" if kind == "storage" else "refused"
        else:
            status = finished.message.status
        return {
            "event": "turn",
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user": job.owner,
            "conversation": self._conversation_id,
            "generation": job.generation_id,
            "model": (message and message.model) or job.model,
            "request_id": message.request_id if message else None,
            "status": status,
            "tokens_in": message.input_tokens if message else None,
            "tokens_out": message.output_tokens if message else None,
            "tokens_out_estimated": message.output_tokens_estimated if message else None,
            "first_token_ms": _ms(self._first_token_s),
            "total_ms": _ms(total_s),
            "error_kind": kind,
            "saved": saved,
        }
