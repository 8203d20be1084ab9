"""The one pagination of the API's lists: `limit` and `offset` are bounded, so a request for the ten-quintillionth
row is a 422 with a Chinese message, not an integer overflow in the database."""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 500
MAX_OFFSET = 10_000_000  # beyond any registry this platform holds; far inside a 64-bit OFFSET


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数（1–{MAX_PAGE_SIZE}）")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description=f"跳过的条数（0–{MAX_OFFSET}）")
