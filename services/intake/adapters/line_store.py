"""Intake's PostgreSQL for LINE: links to volunteers, the kept webhook events, conversations and pushes."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake.domain.line_conversation import Conversation
from services.intake.domain.status_push import CaseChange
from shared.database import Connection

# Events are worked on by one process at a time, so a volunteer's messages are taken in order.
_EVENT_WORKER_LOCK = 0x4C494E45  # "LINE"


@dataclass(frozen=True, slots=True)
class Link:
    """The volunteer a LINE user speaks for, and the volunteer app their needs are submitted as."""

    volunteer_id: str
    submitted_by: str


@dataclass(frozen=True, slots=True)
class KeptEvent:
    """A webhook event stored when it arrived, not yet worked on."""

    id: int
    webhook_event_id: str
    event: dict[str, Any]


async def keep_link_code(
    connection: Connection, *, code_hash: str, volunteer_id: str, submitted_by: str, expires_at: datetime
) -> None:
    """Remember a one-time code (its hash) for a volunteer."""
    await connection.execute(
        "INSERT INTO line_link_codes (code_hash, volunteer_id, submitted_by, expires_at) VALUES ($1, $2, $3, $4)",
        code_hash, volunteer_id, submitted_by, expires_at,
    )  # fmt: skip


async def redeem_link_code(connection: Connection, *, code_hash: str, line_user_id: str, now: datetime) -> Link | None:
    """Use a code once, before it expires, to link the LINE user (call inside a transaction)."""
    row = await connection.fetchrow(
        "UPDATE line_link_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2"
        " RETURNING volunteer_id, submitted_by",
        code_hash, now,
    )  # fmt: skip
    if row is None:
        return None
    await connection.execute(
        "INSERT INTO line_links (line_user_id, volunteer_id, submitted_by, linked_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (line_user_id) DO UPDATE SET volunteer_id = excluded.volunteer_id,"
        " submitted_by = excluded.submitted_by, linked_at = excluded.linked_at",
        line_user_id, row["volunteer_id"], row["submitted_by"], now,
    )  # fmt: skip
    return Link(volunteer_id=row["volunteer_id"], submitted_by=row["submitted_by"])


async def find_link(connection: Connection, line_user_id: str) -> Link | None:
    """The volunteer a LINE user is linked to, if any."""
    row = await connection.fetchrow(
        "SELECT volunteer_id, submitted_by FROM line_links WHERE line_user_id = $1", line_user_id
    )
    return Link(volunteer_id=row["volunteer_id"], submitted_by=row["submitted_by"]) if row else None


async def keep_events(connection: Connection, events: list[tuple[str, str]]) -> None:
    """Store webhook events (id, JSON) as they came; one LINE redelivers (same ``webhookEventId``) is kept once."""
    await connection.executemany(
        "INSERT INTO line_events (webhook_event_id, event) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING", events
    )


async def take_events(connection: Connection, *, limit: int) -> list[KeptEvent] | None:
    """The oldest events not worked on, locked; None if another process is working on events (in a transaction)."""
    if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", _EVENT_WORKER_LOCK):
        return None
    rows = await connection.fetch(
        "SELECT id, webhook_event_id, event FROM line_events WHERE processed_at IS NULL ORDER BY id LIMIT $1", limit
    )
    return [KeptEvent(row["id"], row["webhook_event_id"], json.loads(row["event"])) for row in rows]


async def finish_event(connection: Connection, event_id: int, *, now: datetime) -> None:
    """Mark an event done and drop its content (the need holds what it said)."""
    await connection.execute("UPDATE line_events SET processed_at = $2, event = NULL WHERE id = $1", event_id, now)


async def set_aside_event(connection: Connection, event_id: int, *, failure: str, now: datetime) -> None:
    """Stop working on an event that cannot be, keeping it and why for a person to look at."""
    await connection.execute(
        "UPDATE line_events SET processed_at = $2, failure = $3 WHERE id = $1", event_id, now, failure
    )


async def conversation(connection: Connection, line_user_id: str) -> Conversation | None:
    """Where the user's conversation stands, if one is going on."""
    row = await connection.fetchrow(
        "SELECT description, subdistrict_code FROM line_conversations WHERE line_user_id = $1", line_user_id
    )
    return Conversation(row["description"], row["subdistrict_code"]) if row else None


async def save_conversation(connection: Connection, line_user_id: str, state: Conversation | None) -> None:
    """Keep the conversation's new state, or end it."""
    if state is None:
        await connection.execute("DELETE FROM line_conversations WHERE line_user_id = $1", line_user_id)
        return
    await connection.execute(
        "INSERT INTO line_conversations (line_user_id, description, subdistrict_code, updated_at)"
        " VALUES ($1, $2, $3, now()) ON CONFLICT (line_user_id) DO UPDATE SET description = excluded.description,"
        " subdistrict_code = excluded.subdistrict_code, updated_at = now()",
        line_user_id, state.description, state.subdistrict_code,
    )  # fmt: skip


# The changes of linked volunteers' cases since they linked, not pushed yet: agencies' reports,
# routings that followed a misrouted report (re-routed), and escalations.
_PENDING = """
WITH linked AS (
    SELECT n.need_id, l.line_user_id, l.linked_at
    FROM line_links l JOIN needs n ON n.volunteer_id = l.volunteer_id AND n.submitted_by = l.submitted_by
), changes AS (
    SELECT h.event_id AS push_id, h.need_id, k.line_user_id, 'status' AS kind, h.agency, h.status
    FROM linked k JOIN case_reports h ON h.need_id = k.need_id
    WHERE h.recorded_at >= k.linked_at
    UNION ALL
    SELECT r.event_id, r.need_id, k.line_user_id, 'rerouted', r.agency, r.status
    FROM linked k JOIN need_cases r ON r.need_id = k.need_id
    WHERE r.routed_at >= k.linked_at AND EXISTS (
        SELECT 1 FROM case_reports m
        WHERE m.need_id = r.need_id AND m.status = 'misrouted' AND m.agency <> r.agency
          AND m.recorded_at <= r.routed_at)
    UNION ALL
    -- An escalation has no time of its own: those of cases routed since the link are pushed.
    SELECT md5(r.event_id::text || level)::uuid, r.need_id, k.line_user_id, 'escalated', r.agency, level
    FROM linked k JOIN need_cases r ON r.need_id = k.need_id, unnest(r.escalated) AS level
    WHERE r.routed_at >= k.linked_at
)
SELECT * FROM changes c WHERE NOT EXISTS (SELECT 1 FROM line_pushes p WHERE p.push_id = c.push_id)
LIMIT $1
"""


async def pending_pushes(connection: Connection, *, limit: int) -> list[CaseChange]:
    """Changes of linked volunteers' cases that have not been pushed."""
    rows = await connection.fetch(_PENDING, limit)
    return [
        CaseChange(
            push_id=row["push_id"],
            need_id=row["need_id"],
            line_user_id=row["line_user_id"],
            kind=row["kind"],
            agency=row["agency"],
            status=row["status"],
        )
        for row in rows
    ]


async def record_push(connection: Connection, change: CaseChange) -> None:
    """Remember that a change was pushed, so it is pushed once."""
    await connection.execute(
        "INSERT INTO line_pushes (push_id, need_id, line_user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        change.push_id, change.need_id, change.line_user_id,
    )  # fmt: skip


async def forget_stale(
    connection: Connection, *, events_before: datetime, idle_before: datetime, now: datetime
) -> None:
    """Drop what LINE left behind: old events (set-aside ones with their text), idle conversations, dead codes."""
    await connection.execute("DELETE FROM line_events WHERE processed_at < $1", events_before)
    await connection.execute("DELETE FROM line_conversations WHERE updated_at < $1", idle_before)
    await connection.execute("DELETE FROM line_link_codes WHERE expires_at < $1", now)
