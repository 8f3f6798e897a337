"""Where a profile's samples went: shares of py-spy's collapsed stacks.

`python -m benchmarks.stacks F [--frames NAME ...] [--top 30]`

F is what `capacity --profile F` or `turn_cost --profile F` wrote (not .svg): one
"frame;frame;… count" line per stack. Prints, as a share of the samples, each frame the
stacks pass through (inclusive, like a flame graph's widths), or only those matching
`--frames`. Stacks of a thread that only waits (aiosqlite's worker by default) are left out,
so the shares are of the event loop's work.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

WAITING_THREADS = ("_connection_worker_thread",)  # aiosqlite: blocks on its queue
_LINE_NUMBER = re.compile(r":\d+\)$")


def parse(lines: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    """(frames outermost first, without line numbers; samples) per stack line."""
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            yield [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")], int(count)


def shares(
    stacks: Iterable[tuple[list[str], int]],
    frames: Iterable[str] = (),
    exclude: Iterable[str] = WAITING_THREADS,
) -> tuple[int, Counter[str]]:
    """Samples counted, and per frame (or per `frames` pattern) the samples through it."""
    patterns, excluded = list(frames), list(exclude)
    total, through = 0, Counter[str]()
    for stack, count in stacks:
        if any(name in frame for frame in stack for name in excluded):
            continue
        total += count
        if patterns:
            for pattern in patterns:
                if any(pattern in frame for frame in stack):
                    through[pattern] += count
        else:
            for frame in set(stack):  # a recursive frame counts once per stack
                through[frame] += count
    return total, through


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="collapsed stacks from --profile F")
    parser.add_argument("--frames", nargs="*", default=[], help="substrings of frame names")
    parser.add_argument("--top", type=int, default=30, help="frames to list without --frames")
    parser.add_argument(
        "--exclude",
        nargs="*",
        default=list(WAITING_THREADS),
        help="leave out stacks through these frames",
    )
    args = parser.parse_args(argv)
    with args.profile.open() as lines:
        total, through = shares(parse(lines), args.frames, args.exclude)
    print(f"{total} samples")
    if not total:
        return 1
    rows = [(p, through[p]) for p in args.frames] if args.frames else through.most_common(args.top)
    for name, count in rows:
        print(f"{100 * count / total:5.1f} %  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
