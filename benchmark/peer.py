"""The obvious FastStream version of screening and routing: the yardstick the benchmark runs beside ours.

What a competent developer writes from FastStream's tutorial: one message per handler, with a
typed pydantic argument; ``@publisher`` on the return value; one awaited INSERT per message;
FastStream's default ack policy; the project's own classifier and routing decision. It leaves
out what the services add and pay for (dead letters, de-duplication, the volunteer's contact,
CloudEvents headers, tracing): the comparison is generous to it. FastStream's default log
lines (one as each message is received, one as it is processed) stay on, as in the tutorial.

It writes to tables of its own (``benchmark_peer``), shaped and indexed as the services' own, so
that it pays the same for each row and never depends on where the services keep their data. It
reads the routing table through routing's admin entrypoint, as ``needs-router routes list`` does.

``python -m benchmark.peer screening`` (or ``routing``), configured like the services.
"""

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
import uvloop
from faststream import Context, ContextRepo, FastStream
from faststream.kafka import KafkaBroker

from services.routing.domain.decide import decide_routes, topic_of
from services.routing.domain.routing_table import RoutingTable
from services.routing.entrypoints.commands import list_routes
from services.routing.settings import RoutingSettings
from services.screening.domain.classifier import Classifier
from services.screening.domain.screening_result import screened_event
from services.screening.settings import ScreeningSettings
from shared.contracts.events import NeedScreened, NeedSubmitted
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED

Pool = Annotated[asyncpg.Pool, Context("pool")]
Table = Annotated[RoutingTable, Context("table")]


def screening_app(settings: ScreeningSettings) -> FastStream:
    """Classify each need and publish the result."""
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    app = FastStream(broker)
    classifier = Classifier.load()
    _connect_database(app, settings)

    @broker.subscriber(NEEDS_SUBMITTED, group_id=settings.screening_group_id, auto_offset_reset="earliest")
    @broker.publisher(NEEDS_SCREENED)
    async def screen(need: NeedSubmitted, pool: Pool) -> NeedScreened:
        classification = classifier.classify(need.description, need.suggested_types)
        screened = screened_event(need, classification, now=datetime.now(UTC))
        await pool.execute(
            "INSERT INTO benchmark_peer.screenings (need_id, event_id, types, language, manual_reason, disagreement,"
            " classifier_version, screened_at, event_payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            need.need_id, screened.event_id, json.dumps([item.model_dump(mode="json") for item in screened.types]),
            screened.language, screened.manual_reason, [str(need_type) for need_type in screened.disagreement],
            screened.classifier_version, screened.screened_at, screened.model_dump_json().encode(),
        )  # fmt: skip
        return screened

    return app


def routing_app(settings: RoutingSettings) -> FastStream:
    """Send each screened need to its agencies' provincial queues."""
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    app = FastStream(broker)
    _connect_database(app, settings)

    @app.after_startup
    async def load_routing_table(context: ContextRepo) -> None:
        context.set_global("table", RoutingTable.from_rules(await list_routes(settings.database_url)))

    @broker.subscriber(NEEDS_SCREENED, group_id=settings.routing_group_id, auto_offset_reset="earliest")
    async def route(screened: NeedScreened, pool: Pool, table: Table) -> None:
        for case in decide_routes(screened, table, contact=None, now=datetime.now(UTC)):
            await broker.publish(case, topic=topic_of(case), key=str(case.need_id).encode())
            await pool.execute(
                "INSERT INTO benchmark_peer.routed_cases (event_id, need_id, agency, province_code, topic, types,"
                " manual_screening, routed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                case.event_id, case.need_id, case.agency.value, case.province_code, topic_of(case),
                [str(need_type) for need_type in case.types], case.manual_screening, case.routed_at,
            )  # fmt: skip

    return app


# The columns, keys and indexes of the services' screenings and routed_cases (shared/migrations).
PEER_TABLES = """
CREATE SCHEMA IF NOT EXISTS benchmark_peer;
CREATE TABLE IF NOT EXISTS benchmark_peer.screenings (
    need_id            uuid PRIMARY KEY,
    event_id           uuid        NOT NULL,
    types              jsonb       NOT NULL,
    language           text        NOT NULL,
    manual_reason      text,
    disagreement       text[]      NOT NULL DEFAULT '{}',
    classifier_version text        NOT NULL,
    screened_at        timestamptz NOT NULL,
    event_payload      bytea       NOT NULL
);
CREATE TABLE IF NOT EXISTS benchmark_peer.routed_cases (
    event_id         uuid PRIMARY KEY,
    need_id          uuid        NOT NULL,
    agency           text        NOT NULL,
    province_code    char(2)     NOT NULL,
    topic            text        NOT NULL,
    types            text[]      NOT NULL,
    manual_screening boolean     NOT NULL,
    routed_at        timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'routed'
        CHECK (status IN ('routed', 'accepted', 'in_progress', 'resolved', 'misrouted')),
    status_at        timestamptz,
    accepted_at      timestamptz,
    resolved_at      timestamptz,
    escalated        text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS routed_cases_need ON benchmark_peer.routed_cases (need_id);
CREATE INDEX IF NOT EXISTS routed_cases_open ON benchmark_peer.routed_cases (status, routed_at)
    WHERE status IN ('routed', 'accepted', 'in_progress');
CREATE INDEX IF NOT EXISTS routed_cases_routed_at ON benchmark_peer.routed_cases (routed_at);
"""
# Both peers start at once, and concurrent CREATE ... IF NOT EXISTS can still collide.
PEER_TABLES_LOCK = 0x6E7062


def _connect_database(app: FastStream, settings: InfrastructureSettings) -> None:
    @app.on_startup
    async def connect(context: ContextRepo) -> None:
        pool = await asyncpg.create_pool(settings.database_url)
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", PEER_TABLES_LOCK)
            await connection.execute(PEER_TABLES)
        context.set_global("pool", pool)

    @app.on_shutdown
    async def disconnect(pool: Pool) -> None:
        await pool.close()


def main(argv: list[str]) -> None:
    """Run one of the two apps until SIGTERM, on uvloop as ``faststream run`` does."""
    match argv:
        case ["screening"]:
            app = screening_app(ScreeningSettings().require())
        case ["routing"]:
            app = routing_app(RoutingSettings().require())
        case _:
            sys.exit(f"usage: python -m benchmark.peer screening|routing (got {argv})")
    uvloop.run(app.run())


if __name__ == "__main__":
    main(sys.argv[1:])
