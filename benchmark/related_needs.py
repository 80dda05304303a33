"""Routing's throughput with the related-needs lookup on and off, measured in one run.

``needs-router bench --related-needs``: needs of the benchmark's places, screened once by the
shipped classifier, then routed batch by batch by routing's own consumption (parse, route,
publish to the broker, record in PostgreSQL) with the lookup off and on in turns, each turn on
fresh needs, so both see the same broker and database as they warm and fill. Two workloads, one
after the other: the benchmark's template texts, where nearly every need is a near-copy of an
earlier one of its province and type (the lookup's worst case: almost all cluster, and every
cluster tells its earlier cases, at most once per link interval each; the flush that tells what
was held back runs after every batch with the lookup on, inside the timed turn), and the real
snippets of training/data/real/ as descriptions, which differ as real reports do. It prints
needs per second of each, the ratio on/off of each alternation (one turn off and one on) and
their median, and how many needs ended in a cluster; it asserts nothing. Starts its own embedded
broker and PostgreSQL unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are set.
"""

import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from benchmark.infrastructure import provide_infrastructure
from benchmark.workload import Workload
from services.routing.adapters.database import RoutingStore
from services.routing.adapters.related_needs import RelatedNeedsStore
from services.routing.app import routing_batches
from services.routing.domain.related_needs import RelatedNeedsPolicy
from services.routing.use_cases.route_screened_needs import Router
from services.routing.use_cases.tell_held_back_cases import tell_held_back_cases
from services.screening.domain.classifier import Classifier
from services.screening.domain.screening_result import screened_event
from services.supervisor import prepare_infrastructure
from shared.kafka import create_broker
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED


@dataclass(frozen=True, slots=True)
class ScreenedRecord:
    """A ``needs.screened.v1`` record as routing's consumer reads it."""

    value: bytes
    offset: int
    key: bytes
    topic: str = NEEDS_SCREENED
    partition: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()


REAL_TEXT = Path(__file__).resolve().parents[1] / "training" / "data" / "real" / "train.jsonl"


def real_descriptions() -> list[str]:
    """The real public snippets the screening model is trained on, as volunteers' descriptions."""
    lines = REAL_TEXT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


async def run(
    *, needs_per_turn: int, turns: int, batch: int, settings: InfrastructureSettings, texts: list[str] | None
) -> dict[str, float]:
    """Route ``turns`` turns of ``needs_per_turn`` needs each way; needs per second with the lookup off and on.

    ``texts``: descriptions to use in turn instead of the workload's templates.
    """
    await prepare_infrastructure(settings)
    classifier = Classifier.load()
    workload = Workload()
    rng = random.Random(17)
    now = datetime.now(UTC)
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=4)
    broker = create_broker(settings, client_id="bench-related-needs")
    await broker.connect()
    store = RoutingStore(pool, refresh_s=5)
    policy = RelatedNeedsPolicy()
    routers = {
        "off": routing_batches(Router(store=store), broker),
        "on": routing_batches(Router(store=store, related=RelatedNeedsStore(pool, policy)), broker),
    }
    seconds = dict.fromkeys(routers, 0.0)
    routed = dict.fromkeys(routers, 0)
    ratios = []
    try:
        for turn in range(turns):
            turn_seconds = dict.fromkeys(routers, 0.0)
            # Alternate which goes first, so neither always meets the colder or the fuller system.
            for mode in ("off", "on") if turn % 2 == 0 else ("on", "off"):
                needs = workload.needs(needs_per_turn)
                if texts:
                    needs = [need.model_copy(update={"description": rng.choice(texts)}) for need in needs]
                records = [
                    ScreenedRecord(
                        screened_event(need, classifier.classify(need.description, need.suggested_types), now=now)
                        .model_dump_json()
                        .encode(),
                        offset=index,
                        key=str(need.need_id).encode(),
                    )
                    for index, need in enumerate(needs)
                ]
                started = time.perf_counter()
                for start in range(0, len(records), batch):
                    await routers[mode].handle(records[start : start + batch])
                    if mode == "on":  # the flush of held-back case.linked: once a batch here, once a second in routing
                        await tell_held_back_cases(pool, broker, policy)
                turn_seconds[mode] = time.perf_counter() - started
                seconds[mode] += turn_seconds[mode]
                routed[mode] += len(records)
            # Both modes routed the same number of needs this turn: the ratio of speeds is that of times.
            ratios.append(turn_seconds["off"] / turn_seconds["on"])
    finally:
        await broker.stop()
        await pool.close()
    clustered = await _clustered_share(settings.database_url)
    await _forget_clusters(settings.database_url)
    return {
        "needs_per_s_lookup_off": routed["off"] / seconds["off"],
        "needs_per_s_lookup_on": routed["on"] / seconds["on"],
        "ratio_on_to_off": (routed["on"] / seconds["on"]) / (routed["off"] / seconds["off"]),
        "ratio_on_to_off_median_of_alternations": statistics.median(ratios),
        **{f"ratio_on_to_off_alternation_{turn + 1}": ratio for turn, ratio in enumerate(ratios)},
        "needs_per_mode": float(routed["on"]),
        "share_of_lookup_needs_in_a_cluster": clustered,
    }


async def _forget_clusters(database_url: str) -> None:
    """So that the next workload starts with no earlier needs to relate to."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("TRUNCATE routing.related_needs")
    finally:
        await connection.close()


async def _clustered_share(database_url: str) -> float:
    connection = await asyncpg.connect(database_url)
    try:
        share: float = await connection.fetchval(
            "SELECT coalesce(avg(((SELECT count(*) FROM routing.related_needs o WHERE o.cluster_id = r.cluster_id) > 1)"
            "::int), 0)::float FROM routing.related_needs r"
        )
        return share
    finally:
        await connection.close()


def run_related_needs_benchmark(*, needs_per_turn: int, turns: int, batch: int = 500) -> dict[str, dict[str, float]]:
    """The whole benchmark, both workloads, on the environment's broker and database or embedded ones it starts."""
    with (
        tempfile.TemporaryDirectory(prefix="needs-router-bench-related-") as work_dir,
        provide_infrastructure(Path(work_dir)) as infrastructure,
    ):
        return {
            workload: asyncio.run(
                run(
                    needs_per_turn=needs_per_turn, turns=turns, batch=batch, settings=infrastructure.settings,
                    texts=texts,
                )
            )
            for workload, texts in (("template_texts", None), ("real_texts", real_descriptions()))
        }  # fmt: skip
