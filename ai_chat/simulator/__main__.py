"""``python -m ai_chat.simulator --host 127.0.0.1 --port 8011``: the simulator on its own.

Point the app (or any SDK client) at it with ``ANTHROPIC_BASE_URL=http://127.0.0.1:8011``.
"""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ai_chat.simulator",
        description="Local Anthropic Messages API simulator for ai_chat.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="the Messages API only: no records of prompts, no control routes",
    )
    args = parser.parse_args(argv)
    # h11 explicitly: its disconnect reporting is what the simulator was verified with.
    # Keep idle connections longer than the SDK's pool does (httpx: 5 s), as the real API
    # does: at uvicorn's default (also 5 s) a request sent on a connection the server is
    # closing that instant fails with "Server disconnected without sending a response".
    uvicorn.run(
        create_app(api_only=args.api_only),
        host=args.host,
        port=args.port,
        http="h11",
        log_level=args.log_level,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
