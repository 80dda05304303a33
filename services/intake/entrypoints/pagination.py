"""Cursor pagination: an opaque cursor names where a page stopped; the next page is in a ``Link`` header."""

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from services.intake.adapters.database import ListPosition


class InvalidCursor(ValueError):
    """A cursor this service did not make."""


def encode_cursor(position: ListPosition) -> str:
    """The cursor of the page after ``position``; opaque to clients, so its form may change."""
    raw = json.dumps([position.submitted_at.isoformat(), str(position.need_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> ListPosition:
    """The position a cursor names, or InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        submitted_at, need_id = json.loads(raw)
        position = ListPosition(submitted_at=datetime.fromisoformat(submitted_at), need_id=uuid.UUID(need_id))
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor("not a cursor from a Link header of this list") from error
    if position.submitted_at.tzinfo is None:
        raise InvalidCursor("not a cursor from a Link header of this list")
    return position


def next_link(path: str, query: Mapping[str, str], cursor: str) -> str:
    """A ``Link`` header value (RFC 8288) for the next page: the same query from ``cursor`` on."""
    return f'<{path}?{urlencode({**query, "cursor": cursor})}>; rel="next"'
