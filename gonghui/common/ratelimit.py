"""Fixed-window rate limits kept in the cache (Redis in production, so every worker shares the counts)."""

import time

from django.core.cache import cache

from gonghui.common.errors import DomainError


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


def rate_limit_hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; False when the key has already used `limit` hits in the current window."""
    window = int(time.time() // window_seconds)
    bucket = f"ratelimit:{key}:{window}"
    cache.add(bucket, 0, timeout=window_seconds + 1)
    try:
        used = cache.incr(bucket)
    except ValueError:  # the bucket expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds + 1)
        used = 1
    return used <= limit


def rate_limit_require(key: str, *, limit: int, window_seconds: int, message: str) -> None:
    if not rate_limit_hit(key, limit=limit, window_seconds=window_seconds):
        raise RateLimited(message)
