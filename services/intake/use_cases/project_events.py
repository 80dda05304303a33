"""Intake keeps its own copy of the events it consumes: screenings, routing's case updates, dead letters.

Nothing is published: a projected event only changes intake's tables. The batch consumer
(``shared/batch_consumption.py``) makes it at-least-once and idempotent; the offsets are committed
after the copy is stored.
"""

from functools import partial
from typing import TypeVar

import asyncpg
from faststream.kafka import KafkaBroker

from services.intake.adapters.projection import (
    ProjectionStore,
    Write,
    project_case_updates,
    project_dead_letters,
    project_screenings,
)
from shared.batch_consumption import BatchConsumption, Produced
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseUpdated, DeadLetter, Event, NeedScreened
from shared.kafka import publish_all

SCREENINGS = "intake-screenings"
CASE_UPDATES = "intake-case-updates"
DEAD_LETTERS = "intake-dead-letters"

E = TypeVar("E", bound=Event)


async def keep(events: list[E]) -> Produced[E]:
    """Every valid event is kept as it is; there is nothing to publish."""
    return Produced(results=events, messages=[])


def projection(
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    *,
    model: type[E],
    consumer: str,
    write: Write[E],
    dead_letters_kept_by_another: bool = True,
) -> BatchConsumption[E, E]:
    """One topic's events into intake's copy.

    An unreadable record is dead-lettered by the consumer that acts on its topic (routing for
    screenings; screening's corrections for case updates), so here it is logged and counted only;
    intake is the only reader of the dead letters themselves.
    """
    return BatchConsumption(
        model=model,
        consumer=consumer,
        source=Source.INTAKE,
        store=ProjectionStore(pool, write),
        produce=keep,
        publish=partial(publish_all, broker),
        dead_letters_kept_by_another=dead_letters_kept_by_another,
    )


def projections(pool: asyncpg.Pool, broker: KafkaBroker) -> dict[str, object]:
    """Each projection by the name its subscriber finds it under."""
    return {
        SCREENINGS: projection(pool, broker, model=NeedScreened, consumer=SCREENINGS, write=project_screenings),
        CASE_UPDATES: projection(pool, broker, model=CaseUpdated, consumer=CASE_UPDATES, write=project_case_updates),
        DEAD_LETTERS: projection(
            pool,
            broker,
            model=DeadLetter,
            consumer=DEAD_LETTERS,
            write=project_dead_letters,
            dead_letters_kept_by_another=False,
        ),
    }
