"""Submissions that upstream sources post on their Kafka topics, through the same checks and store as HTTP.

At-least-once: a batch's needs, their outbox rows, receipts and dead letters are stored in one
transaction before the batch handler returns, and only then is the offset committed. A
submission delivered again finds its need by (source, submission_id) and gets the same receipt
again. Each record is checked on its own (never as a typed FastStream batch, where one invalid
message drops the batch), so a bad one becomes a rejection or a dead letter beside the others.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from services.intake.adapters.database import recorded_sources
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain.source_submission import (
    ReplyTo,
    Unreadable,
    check_submission,
    read_submission,
    without_person,
)
from services.intake.use_cases import needs as use_cases
from services.intake.use_cases.needs import SourceNeed, SourceOutcome, SourceRefusal
from shared.batch_consumption import BatchReport
from shared.contracts.events import DeadLetter
from shared.observability import BATCH_SECONDS, DEAD_LETTERS, MESSAGES_IN
from shared.raw_records import RawRecord, dead_letter
from shared.retry import retry_transient
from shared.topics import source_of

log = logging.getLogger(__name__)

CONSUMER = "intake-sources"
# What the database refuses because of one record's data, again on every retry: that record
# becomes a dead letter. Anything else (a connection lost, a bug) re-reads the batch.
REFUSED_FOR_ITS_DATA = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


@dataclass(frozen=True, slots=True)
class SourceSubmissions:
    """Takes a batch of records from the incoming topics: a need and a receipt, a rejection, or a dead letter each."""

    pool: asyncpg.Pool
    cipher: PersonalDataCipher
    relay: OutboxRelay

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Store every record's outcome in one transaction; if the database refuses one, each in its own."""
        started = time.perf_counter()
        judged, now = await self._judge(records)
        try:
            outcomes = [outcome for _, outcome in judged]
            await retry_transient(lambda: self._store(outcomes, now), what=f"{CONSUMER}: take")
        except REFUSED_FOR_ITS_DATA as refused:
            log.warning("%s: the database refused a record of the batch (%s); taking its %d records one by one",
                        CONSUMER, type(refused).__name__, len(judged))  # fmt: skip
            judged = await self._take_one_by_one(judged, now)
        return self._report(judged, started)

    async def handle_one_by_one(self, records: Sequence[RawRecord]) -> BatchReport:
        """The same outcomes, each record in a transaction of its own (the fallback; also timed by the benchmark)."""
        started = time.perf_counter()
        judged, now = await self._judge(records)
        return self._report(await self._take_one_by_one(judged, now), started)

    async def _judge(self, records: Sequence[RawRecord]) -> tuple[list[tuple[RawRecord, SourceOutcome]], datetime]:
        named = {source_of(record.topic) for record in records}
        recorded = await retry_transient(lambda: recorded_sources(self.pool, named), what=f"{CONSUMER}: sources")
        for record in records:
            MESSAGES_IN.labels(consumer=CONSUMER, topic=record.topic).inc()
        return [(record, self._outcome(record, recorded)) for record in records], datetime.now(UTC)

    def _outcome(self, record: RawRecord, recorded: set[str]) -> SourceOutcome:
        """What the record leads to, by the same checks as HTTP; nothing is stored yet."""
        source = source_of(record.topic)
        if source not in recorded:
            # A topic made by hand (or by a broker that creates topics on first use) is no source.
            return _letter(record, f"no source {source!r} is recorded: `needs-router sources add {source}`")
        try:
            submission = read_submission(record.value)
        except Unreadable as unreadable:
            return _letter(record, str(unreadable))
        reply_to = ReplyTo(source=source, submission_id=submission.submission_id)
        checked = check_submission(submission)
        if isinstance(checked, list):
            return SourceRefusal(reply_to=reply_to, errors=checked)
        return SourceNeed(reply_to=reply_to, submission=checked)

    async def _take_one_by_one(
        self, judged: list[tuple[RawRecord, SourceOutcome]], now: datetime
    ) -> list[tuple[RawRecord, SourceOutcome]]:
        taken = []
        for record, outcome in judged:
            # A database blip retries this record, not the batch: what was stored stays stored.
            try:
                await retry_transient(lambda: self._store([outcome], now), what=f"{CONSUMER}: take")  # noqa: B023
            except REFUSED_FOR_ITS_DATA as refused:
                # Named by its class and SQLSTATE only: the server's message may quote the value.
                outcome = _letter(record, f"the database refused it: {type(refused).__name__} ({refused.sqlstate})")
                await retry_transient(lambda: self._store([outcome], now), what=f"{CONSUMER}: take")  # noqa: B023
            taken.append((record, outcome))
        return taken

    async def _store(self, outcomes: Sequence[SourceOutcome], now: datetime) -> None:
        await use_cases.take_source_submissions(
            outcomes=outcomes, now=now, pool=self.pool, cipher=self.cipher, relay=self.relay
        )

    @staticmethod
    def _report(judged: list[tuple[RawRecord, SourceOutcome]], started: float) -> BatchReport:
        dead_letters = sum(isinstance(outcome, DeadLetter) for _, outcome in judged)
        elapsed_s = time.perf_counter() - started
        DEAD_LETTERS.labels(consumer=CONSUMER).inc(dead_letters)
        BATCH_SECONDS.labels(consumer=CONSUMER).observe(elapsed_s)
        log.info("%s: batch of %d records in %.1f ms: %d answered with a receipt, %d dead letters",
                 CONSUMER, len(judged), elapsed_s * 1000, len(judged) - dead_letters, dead_letters)  # fmt: skip
        return BatchReport(processed=len(judged) - dead_letters, duplicates=0, dead_letters=dead_letters)


def _letter(record: RawRecord, reason: str) -> DeadLetter:
    """The record as a dead letter, kept without any ``person`` it held."""
    letter = dead_letter(record, error=reason, consumer=CONSUMER)
    return letter.model_copy(update={"original": without_person(letter.original)})
