"""Workers that heal: the ONE place that reaches into Reflex's (and Granian's) internals.

`reflex run --env prod` (Reflex 0.10.1, `reflex.utils.exec.run_granian_backend_prod`)
builds Granian's `Server` without `respawn_failed_workers`: one worker's crash (kill -9, OOM)
ends the supervisor and with it every stream on every other worker. That function imports
`granian.server.Server` each time it runs, so `install` puts a subclass under that name which
adds the respawn and a kill timeout; everything else about Reflex's start (compile, frontend
build, one port, worker count, fork preload) stays Reflex's own code.

`AI_CHAT_RESPAWN_WORKERS=0` leaves this out: the stock `reflex run` path. Both paths are
tested (tests/ops/test_serve.py); a Reflex upgrade that stops importing `Server` that way
fails `install` loudly instead of silently losing the respawn.
"""

from __future__ import annotations

import inspect
import logging
import math

from ai_chat.config import Settings

log = logging.getLogger(__name__)

TESTED_REFLEX = "0.10.1"
_HOOK = "from granian.server import Server"


def kill_timeout_s(settings: Settings) -> int:
    """How long Granian waits for a stopping worker before killing it: the drain's grace
    plus 2 s to store what is left (Granian takes whole seconds)."""
    return math.ceil(settings.shutdown_grace_s) + 2


class HookMissingError(RuntimeError):
    """Reflex no longer builds Granian's server the way this hook expects."""


def install(kill_timeout: int) -> type:
    """Make the Granian server Reflex builds respawn failed workers; returns the class."""
    import granian.server as granian_server
    from reflex.utils import exec as reflex_exec
    from reflex_base.constants import Reflex

    source = inspect.getsource(reflex_exec.run_granian_backend_prod)
    if _HOOK not in source:
        raise HookMissingError(
            f"reflex {Reflex.VERSION}: run_granian_backend_prod no longer runs "
            f"{_HOOK!r}; set AI_CHAT_RESPAWN_WORKERS=0 (stock `reflex run`) or update "
            "ai_chat/ops/workers.py"
        )
    if Reflex.VERSION != TESTED_REFLEX:
        log.warning("worker respawn hook tested with Reflex %s only", TESTED_REFLEX)
    base: type = granian_server.Server
    if getattr(base, "ai_chat_respawn", False):
        base = base.__mro__[1]

    class RespawningServer(base):  # type: ignore[misc]  # a base chosen at run time
        ai_chat_respawn = True

        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["respawn_failed_workers"] = True
            kwargs["workers_kill_timeout"] = kill_timeout
            super().__init__(*args, **kwargs)

    granian_server.Server = RespawningServer
    return RespawningServer


def run_reflex_prod(extra_args: list[str], relaunch: list[str]) -> None:
    """`reflex run --env prod [extra_args]` in this process (the `reflex` console script is
    this same click command). In JSON log mode Reflex re-runs `python -m reflex` under its
    output supervisor, which would lose the hook: `relaunch` (this start script) is run
    under that supervisor instead."""
    import sys

    from reflex.reflex import cli
    from reflex_base.utils import log as reflex_log

    if reflex_log.is_json_mode() and not reflex_log.is_output_supervised():
        raise SystemExit(reflex_log.supervise_output(relaunch))
    args = ["run", "--env", "prod", *extra_args]
    sys.argv = ["reflex", *args]  # what Reflex shows and re-reads
    cli.main(args=args, prog_name="reflex")
