"""What intake does for LINE: link a volunteer, keep webhook events, turn a conversation into a need, push changes.

A need made here goes through ``use_cases.submit_need``, the one intake path, with the
idempotency key ``line:<webhookEventId>`` of the confirming event: working on an event again
(after a crash, or LINE redelivering it) gives the same need.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.intake.adapters import access_store as access
from services.intake.adapters import line_store
from services.intake.adapters.line_api import LineMessaging, LineUnavailable
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain import line_conversation as talk
from services.intake.domain.api_keys import Principal
from services.intake.domain.status_push import push_text
from services.intake.domain.submission import NeedSubmission
from services.intake.use_cases import needs as use_cases
from shared.database import Connection

log = logging.getLogger(__name__)

# Unambiguous when read off a phone screen: no 0/O, 1/I/L.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8
# What an event LINE did not shape as documented raises; a database or network error is retried instead.
_MALFORMED = (KeyError, TypeError, AttributeError, ValueError)
# Long enough to look into a set-aside event or a LINE redelivery; a conversation idle a week is abandoned.
_KEEP_EVENTS = timedelta(days=30)
_KEEP_IDLE_CONVERSATION = timedelta(days=7)
_FORGET_EVERY_S = 3600.0
_REPLY_NAMESPACE = uuid.UUID("5f1c9a7e-2b84-4e36-9d0a-8c7b6e5f4a31")


class NotAWebhook(ValueError):
    """A signed body that is not a LINE webhook: JSON with a list of events, each with its webhookEventId."""


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A one-time code for a volunteer to send to the LINE account."""

    code: str
    expires_at: datetime


def _hash(code: str) -> str:
    return hashlib.sha256(code.upper().encode()).hexdigest()


async def issue_link_code(
    *, volunteer_id: str, caller: Principal, now: datetime, valid_for: timedelta, pool: asyncpg.Pool
) -> IssuedCode:
    """A code that links the LINE user who sends it to this volunteer, once; audited."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    expires_at = now + valid_for
    async with pool.acquire() as connection, connection.transaction():
        await line_store.keep_link_code(
            connection, code_hash=_hash(code), volunteer_id=volunteer_id, submitted_by=caller.owner,
            expires_at=expires_at,
        )  # fmt: skip
        await access.audit(
            connection, actor=caller, action="line:link-code", need_id=None, detail={"volunteer_id": volunteer_id}
        )
    return IssuedCode(code=code, expires_at=expires_at)


def webhook_events(payload: Any) -> list[tuple[str, str]]:
    """(webhookEventId, event JSON) of each event of a webhook body, or NotAWebhook."""
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise NotAWebhook("events: must be a list")
    kept = []
    for position, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("webhookEventId"), str):
            raise NotAWebhook(f"events.{position}.webhookEventId: required")
        kept.append((event["webhookEventId"], json.dumps(event, ensure_ascii=False)))
    return kept


async def keep_webhook_events(*, events: list[tuple[str, str]], pool: asyncpg.Pool) -> None:
    """Store the events before LINE gets its answer: from then on none is lost."""
    async with pool.acquire() as connection:
        await line_store.keep_events(connection, events)


@dataclass
class LineChannel:
    """The LINE side of intake: the channel secret, the Messaging API, and the worker's wake-up."""

    channel_secret: str
    messaging: LineMessaging
    pool: asyncpg.Pool
    cipher: PersonalDataCipher
    relay: OutboxRelay
    clock: Callable[[], datetime]
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """New events were kept: work on them now rather than at the next poll."""
        self._wake.set()

    async def run_events(self, *, interval_s: float) -> None:
        """Work on kept events as they come, and every ``interval_s`` (events of another replica's webhook)."""
        while True:
            try:
                while await self.work_on_events():
                    pass
            except (OSError, asyncpg.PostgresError):
                log.exception("LINE events: will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval_s)
            self._wake.clear()

    async def work_on_events(self, *, limit: int = 50) -> int:
        """Work on a batch of kept events, in order; return how many."""
        async with self.pool.acquire() as connection, connection.transaction():
            events = await line_store.take_events(connection, limit=limit)
            for event in events or []:
                try:
                    async with connection.transaction():  # a savepoint: a malformed event undoes only itself
                        await self._work_on(connection, event)
                except _MALFORMED as malformed:
                    log.exception("LINE event %s set aside", event.webhook_event_id)
                    failure = f"{type(malformed).__name__}: {malformed}"
                    await line_store.set_aside_event(connection, event.id, failure=failure, now=self.clock())
                    continue
                await line_store.finish_event(connection, event.id, now=self.clock())
        return len(events or [])

    async def _work_on(self, connection: Connection, kept: line_store.KeptEvent) -> None:
        event = kept.event
        user = (event.get("source") or {}).get("userId")
        if not user or event.get("type") not in _ANSWERED or event.get("mode") == "standby":
            return  # an unfollow, a group's join, or an event another channel's bot answers
        incoming = _incoming(event)
        replies = await self._answer(connection, user, incoming, kept.webhook_event_id)
        await self._reply(user, event.get("replyToken"), replies, kept.webhook_event_id)

    async def _answer(
        self, connection: Connection, user: str, incoming: talk.Incoming | None, event_id: str
    ) -> list[talk.Reply]:
        code = talk.link_code(incoming.text) if isinstance(incoming, talk.Text) else None
        if code is not None:
            link = await line_store.redeem_link_code(
                connection, code_hash=_hash(code), line_user_id=user, now=self.clock()
            )
            if link is None:
                return [talk.Reply(talk.LINK_REFUSED)]
            await access.audit(connection, actor=None, action="line:linked", need_id=None,
                               detail={"volunteer_id": link.volunteer_id})  # fmt: skip
            return [talk.Reply(talk.linked(link.volunteer_id))]
        link = await line_store.find_link(connection, user)
        if link is None:
            return [talk.Reply(talk.HOW_TO_LINK)]
        if incoming is None:  # a follow: already linked
            return [talk.Reply(talk.START)]
        step = talk.next_step(await line_store.conversation(connection, user), incoming)
        await line_store.save_conversation(connection, user, step.conversation)
        if step.confirmed is None:
            return [step.reply]
        return [await self._submit(step.confirmed, link, event_id)]

    async def _submit(self, confirmed: talk.Conversation, link: line_store.Link, event_id: str) -> talk.Reply:
        try:
            submission = NeedSubmission(
                volunteer_id=link.volunteer_id,
                subdistrict_code=confirmed.subdistrict_code or "",
                description=confirmed.description,
            )
        except ValidationError as invalid:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
            return talk.Reply(f"ส่งเรื่องไม่ได้ ({problems}): พิมพ์เล่าเรื่องใหม่อีกครั้ง")
        need_id = await use_cases.submit_need(
            submission=submission, submitted_by=link.submitted_by, idempotency_key=f"line:{event_id}",
            now=self.clock(), pool=self.pool, cipher=self.cipher, relay=self.relay,
        )  # fmt: skip
        return talk.Reply(talk.submitted(str(need_id)))

    async def _reply(self, user: str, reply_token: Any, replies: list[talk.Reply], event_id: str) -> None:
        try:
            if not isinstance(reply_token, str):
                raise LineUnavailable("the event has no reply token")
            await self.messaging.reply(reply_token, replies)
        except LineUnavailable as failed:
            # A reply token is good once and briefly (gone when an event is worked on again): push instead.
            log.warning("LINE reply not taken (%s): pushing it", failed)
            for position, reply in enumerate(replies):
                retry_key = uuid.uuid5(_REPLY_NAMESPACE, f"{event_id}:{position}")
                try:
                    await self.messaging.push(user, reply.text, retry_key=retry_key)
                except LineUnavailable:
                    log.exception("LINE push of a reply failed; the volunteer can follow the need in the app")

    async def run_pushes(self, *, interval_s: float) -> None:
        """Push the changes of linked volunteers' cases every ``interval_s``; forget what is stale hourly."""
        forgotten_at = 0.0
        while True:
            try:
                await self.push_changes()
                if time.monotonic() - forgotten_at > _FORGET_EVERY_S:
                    await self.forget_stale()
                    forgotten_at = time.monotonic()
            except (OSError, asyncpg.PostgresError):
                log.exception("LINE pushes: will try again")
            await asyncio.sleep(interval_s)

    async def forget_stale(self) -> None:
        """Events worked on long ago (a set-aside one keeps its text until then), idle conversations, dead codes."""
        now = self.clock()
        async with self.pool.acquire() as connection:
            await line_store.forget_stale(
                connection, events_before=now - _KEEP_EVENTS, idle_before=now - _KEEP_IDLE_CONVERSATION, now=now
            )

    async def push_changes(self, *, limit: int = 100) -> int:
        """Push each change not pushed yet, once (LINE drops a retry with the same retry key); return how many."""
        async with self.pool.acquire() as connection:
            changes = await line_store.pending_pushes(connection, limit=limit)
            for change in changes:
                try:
                    await self.messaging.push(change.line_user_id, push_text(change), retry_key=change.push_id)
                except LineUnavailable:
                    log.exception("LINE push failed; it is tried again next round")
                    return 0
                await line_store.record_push(connection, change)
        return len(changes)


_ANSWERED = {"message", "postback", "follow"}


def _incoming(event: dict[str, Any]) -> talk.Incoming | None:
    """What the volunteer sent; None for a follow, answered with how to link or to start."""
    kind = event.get("type")
    if kind == "postback":
        return talk.Postback(str((event.get("postback") or {}).get("data", "")))
    if kind == "follow":
        return None
    message = event.get("message") or {}
    if message.get("type") == "location":
        return talk.Location()
    return talk.Text(str(message.get("text", "")))
