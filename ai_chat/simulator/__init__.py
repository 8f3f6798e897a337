"""A local server that speaks the Anthropic Messages API, for tests, benchmarks and offline dev.

The real ``anthropic`` SDK runs against it unmodified (``base_url=...``). Per-request behaviour
(pace, length, failures) is chosen with a ``[[sim key=value ...]]`` directive in the last user
message, an ``x-sim-options`` header, or AI_CHAT_SIM_* environment variables; see options.py.
"""

from .app import SimulatorApp, create_app
from .options import OptionError, SimOptions
from .records import Recorder, RequestRecord
from .script import reply_text, split_tokens
from .server import SimulatorServer

__all__ = [
    "OptionError",
    "Recorder",
    "RequestRecord",
    "SimOptions",
    "SimulatorApp",
    "SimulatorServer",
    "create_app",
    "reply_text",
    "split_tokens",
]
