"""Rate-limit mode: a token bucket in front of the ConnectWise API, as ConnectWise's Cloudflare front has.

``rate`` requests per second, in bursts of up to ``burst`` (default: one second's worth). A ConnectWise
request that finds the bucket empty is answered at once with 429, ``Retry-After`` (whole seconds until
a token is free, at least 1) and ConnectWise's throttle body, without being processed; it is journaled
with status 429. MSP360 requests (``/mbs``) and the control API are not limited. Off by default.

    Sandbox(rate_limit=50)                        # or sb.set_rate_limit(50, burst=None); None turns it off
    POST /_sandbox/rate-limit {"rate": 50, "burst": 50}    # {"rate": null} turns it off
    GET  /_sandbox/rate-limit  -> {"rate", "burst", "allowed", "throttled"}
    python -m tests.sandbox --rate-limit 50       # make sandbox RATE_LIMIT=50

The limit survives ``reset`` (like the latency); setting it again refills the bucket and zeroes its counts.
"""

import math
import threading
import time

from .errors import ApiError


class RateLimit:
    """A token bucket shared by every connection (thread-safe); ``clock`` is injectable for tests."""

    def __init__(self, rate=None, burst=None, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self.set(rate, burst)

    def set(self, rate, burst=None):
        """``rate`` requests per second (None or 0: off), bursts of ``burst`` (default ``rate``, at least 1)."""
        for name, value in (("rate", rate), ("burst", burst)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"{name} must be a non-negative number of requests, not {value!r}")
        with self._lock:
            self.rate = float(rate) if rate else None
            self.burst = float(max(burst or rate or 1, 1))
            self._tokens = self.burst
            self._stamp = self._clock()
            self.allowed = 0
            self.throttled = 0

    def take(self):
        """None when the request may go on (a token taken, or no limit); else the seconds until a token is free."""
        with self._lock:
            if self.rate is None:
                return None
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                self.allowed += 1
                return None
            self.throttled += 1
            return (1 - self._tokens) / self.rate

    @staticmethod
    def refusal(wait):
        """``(status, body, headers)`` of ConnectWise's throttled answer for a wait of ``wait`` seconds."""
        seconds = max(1, math.ceil(wait))
        return (429, {"error": "ConnectWiseAPI", "message": f"Too many requests. Please try again in {seconds} seconds."},
                {"Retry-After": str(seconds)})

    def describe(self):
        with self._lock:
            return {"rate": self.rate, "burst": self.burst if self.rate else None, "allowed": self.allowed,
                    "throttled": self.throttled}

    def configure(self, body):
        """The control API's ``POST /_sandbox/rate-limit``: ``{"rate": R|null, "burst": B}``; the new state."""
        if not isinstance(body, dict) or "rate" not in body or set(body) - {"rate", "burst"}:
            raise ApiError(400, 'rate-limit body must be {"rate": <requests per second> or null, "burst": <optional>}')
        try:
            self.set(body["rate"], body.get("burst"))
        except ValueError as exc:
            raise ApiError(400, f"rate-limit: {exc}") from exc
        return self.describe()
