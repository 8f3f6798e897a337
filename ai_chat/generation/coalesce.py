"""When to push: the first change at once, later ones at most every `interval_s`."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class PushCoalescer:
    interval_s: float
    _last_push: float | None = None

    def wait_s(self, now: float) -> float:
        """Seconds to wait before a pending change may be pushed (0 = push now)."""
        if self._last_push is None:
            return 0.0
        return max(0.0, self._last_push + self.interval_s - now)

    def pushed(self, now: float) -> None:
        self._last_push = now
