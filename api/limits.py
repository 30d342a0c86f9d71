"""The load limits of the service: a token bucket per user for searches, and how many searches run at once.

Both live in this process: with several workers or replicas each keeps its own (see :mod:`api.ops`).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable


class TokenBuckets:
    """One token bucket per key: at most ``burst`` tokens, refilled at ``per_minute / 60`` a second.

    A request takes one token; an empty bucket refuses it and says how long until the next token.
    In-process and thread-safe; see the module docstring for several workers.

    Args:
        per_minute: The sustained rate.
        burst: How many requests may come at once after a quiet spell.
        clock: Seconds, monotonic; tests pass a fake one.
        max_keys: Above this many buckets, the full ones are forgotten (a full bucket is a new one).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when last counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``.

        Returns:
            0.0 when the request may go ahead; otherwise the seconds until a token is available.
        """
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(now - then, 0.0) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        refill_s = self.burst / self.rate
        self._buckets = {key: state for key, state in self._buckets.items() if now - state[1] < refill_s}


class SearchSlots:
    """At most ``size`` searches at once, per event loop (uvicorn has one; tests start several).

    An ``asyncio.Semaphore`` belongs to the loop it first waited in, so each loop gets its own.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def slot(self) -> asyncio.Semaphore:
        """The semaphore of the running loop."""
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore
