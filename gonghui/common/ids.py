"""Public identifiers.

Every object that appears in a URL or the API has a UUID primary key in the time-ordered UUIDv7 layout: 74 random
bits make ids impossible to enumerate, while the leading timestamp keeps B-tree inserts local (see docs/decisions.md).
"""

import os
import time
import uuid


def new_public_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 74 random bits."""
    unix_ms = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((random_bits >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= random_bits & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def parse_public_id(text: str) -> uuid.UUID | None:
    """The UUID in `text`, or None when it is not one (callers answer 404, exactly as for a missing object)."""
    try:
        return uuid.UUID(str(text))
    except (ValueError, TypeError, AttributeError):
        return None


def new_public_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s in one go (bulk imports): one clock reading, one draw of random bits."""
    unix_ms = time.time_ns() // 1_000_000
    head = (unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0b10 << 62
    pool = os.urandom(10 * count)
    ids = []
    for i in range(count):
        random_bits = int.from_bytes(pool[10 * i : 10 * i + 10], "big")
        ids.append(uuid.UUID(int=head | ((random_bits >> 68) & 0xFFF) << 64 | (random_bits & ((1 << 62) - 1))))
    return ids
