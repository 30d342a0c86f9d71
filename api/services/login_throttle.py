"""Login throttling: a bounded number of failed logins per account and per client address.

``POST /api/v1/token`` and the web login form ask :meth:`LoginThrottle.retry_after` *before* they
check the password: once an account has ``auth.login_failures_per_account`` failed logins within
``auth.login_window_minutes`` (default 5 in 15 minutes), or a client address has
``auth.login_failures_per_address`` (default 20), every login for it is refused with 429 and
``Retry-After`` until the oldest counted failure leaves the window: also with the right password,
so guessing cannot go on at full speed. A successful login clears the account's count (not the
address's: one good account must not launder an address that guesses others). Refusing before the
argon2 check also keeps a guessing client from burning the service's CPU.

The state is **in-process** (per worker; with several workers each keeps its own counts, so the
effective limit is multiplied by their number; a shared limit needs a shared store such as Redis).
Only the last ``limit`` failures per key are kept, and at most :data:`MAX_KEYS` keys (least recently
failed first out), so a client spraying usernames cannot grow the memory without bound.

The trade-off: anyone can lock an account out for a window by failing on purpose. That is the
price of stopping an online guess; a beheerder sees the failures in the log (WARNING, without the
password) and the lockout ends by itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from matching.settings import Settings

MAX_KEYS = 50_000  # ~ 600 bytes per key: at most ~30 MB per map, even under a username spray


class _Failures:
    """Failure moments per key, newest last, at most ``limit`` per key and :data:`MAX_KEYS` keys."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.moments: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float, window: float) -> float:
        """Seconds until ``key`` may try again; 0.0 when it may now."""
        moments = self.moments.get(key)
        if moments is None:
            return 0.0
        while moments and moments[0] <= now - window:
            moments.popleft()
        if not moments:
            del self.moments[key]
            return 0.0
        if len(moments) < self.limit:
            return 0.0
        return moments[0] + window - now

    def add(self, key: str, now: float) -> None:
        moments = self.moments.get(key)
        if moments is None:
            moments = self.moments[key] = deque(maxlen=self.limit)
        moments.append(now)
        self.moments.move_to_end(key)
        while len(self.moments) > MAX_KEYS:
            self.moments.popitem(last=False)

    def clear(self, key: str) -> None:
        self.moments.pop(key, None)


class LoginThrottle:
    """Counts failed logins per account and per address within a sliding window.

    Args:
        per_account: Failures within the window after which an account is refused.
        per_address: Failures within the window after which a client address is refused.
        window_seconds: The window.
        clock: Seconds on a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        per_account: int,
        per_address: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window_seconds
        self.clock = clock
        self._accounts = _Failures(per_account)
        self._addresses = _Failures(per_address)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        auth = settings.auth
        return cls(auth.login_failures_per_account, auth.login_failures_per_address, auth.login_window_minutes * 60)

    def retry_after(self, account: str, address: str) -> int | None:
        """Whole seconds to wait before this account may log in from this address, or None when it may now."""
        with self._lock:
            now = self.clock()
            wait = max(self._accounts.wait(account, now, self.window), self._addresses.wait(address, now, self.window))
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, account: str, address: str) -> None:
        """Count one failed login (wrong password, unknown or deactivated account)."""
        with self._lock:
            now = self.clock()
            self._accounts.add(account, now)
            self._addresses.add(address, now)

    def succeeded(self, account: str) -> None:
        """A good login: the account's count starts again."""
        with self._lock:
            self._accounts.clear(account)
