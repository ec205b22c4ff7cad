"""A token bucket per instrument: a flood of submissions slows down without identifying anyone.

Nothing about the client (address, browser) is used or kept: the bucket is shared by everyone
answering one instrument in one worker process. That is deliberate. It cannot single out an
abuser, but it keeps a bot from filling the store or the CPU (resume codes cost argon2id time),
while a person who meets it is told to wait a minute and loses nothing.
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """`rate` tokens a second, up to `burst` saved up; take() is False when empty."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self, cost: float = 1.0, now: float | None = None) -> bool:
        with self._lock:
            moment = time.monotonic() if now is None else now
            elapsed = max(0.0, moment - self._stamp)
            self._stamp = moment
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            if self._tokens >= cost:
                self._tokens -= cost
                return True
            return False


class Buckets:
    """One TokenBucket per instrument id, created on first use."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, instrument_id: str, cost: float = 1.0) -> bool:
        bucket = self._buckets.get(instrument_id)
        if bucket is None:
            with self._lock:
                bucket = self._buckets.setdefault(instrument_id,
                                                  TokenBucket(self.rate, self.burst))
        return bucket.take(cost)
