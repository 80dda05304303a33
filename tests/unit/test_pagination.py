"""Cursors of need lists: what a page hands out, the next request reads back; anything else is refused."""

import base64
import uuid
from datetime import UTC, datetime

import pytest

from services.intake.adapters.database import ListPosition
from services.intake.entrypoints.pagination import InvalidCursor, decode_cursor, encode_cursor, next_link


def test_a_cursor_names_the_position_it_was_made_from() -> None:
    position = ListPosition(submitted_at=datetime(2026, 12, 5, 7, 30, 0, 123456, UTC), need_id=uuid.uuid4())
    cursor = encode_cursor(position)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "0",
        "not a cursor",
        base64.urlsafe_b64encode(b'{"at": 1}').decode(),
        base64.urlsafe_b64encode(b'["2026-12-05T07:30:00", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(f'["2026-12-05T07:30:00", "{uuid.uuid4()}"]'.encode()).decode(),  # no time zone
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_this_service_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_the_next_link_keeps_the_query_and_adds_the_cursor() -> None:
    link = next_link("/v1/needs", {"status": "routed", "limit": "2"}, "abc")
    assert link == '</v1/needs?status=routed&limit=2&cursor=abc>; rel="next"'
