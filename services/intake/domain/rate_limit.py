"""Per-key rate limits: a token bucket per API key, in this process."""

import math
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


@dataclass
class RateLimiter:
    """Allows ``per_second`` requests per key on average, bursts of ``burst``.

    Each intake replica keeps its own buckets, so N replicas allow up to N times the rate;
    the limit protects the service from one runaway client, it is not a quota.
    """

    per_second: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after(self, key_id: str, now: float) -> int | None:
        """None if the request may go (and take a token), else whole seconds to wait."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(tokens=float(self.burst), updated_at=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated_at) * self.per_second)
        bucket.updated_at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))
