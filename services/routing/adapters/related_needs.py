"""Routing's related-needs lookup in PostgreSQL (routing.related_needs, migrations 0017 and 0021), and
when each case was last told of relatives (routing.linked_told, migration 0023).

Needs of one province and type are placed one transaction at a time: each transaction takes a
transaction-scoped advisory lock per (province, type) it places needs in, in one order, before
reading the candidates. Needs routed at once by several partitions or replicas therefore see
each other's placements and end in one cluster with one id; needs of other keys are placed
meanwhile.

Each replica keeps the candidates of the keys it has placed needs in, with their 4-grams
indexed (``Candidates``), from one batch to the next: under the lock it reads only the needs
placed since it last looked (by any replica: placements of one key are numbered in the order of
their locks), and a need's 4-grams are made once per replica. Whether a matching candidate is
still open (not every case of it resolved) is asked only of the candidates that match.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.routing.domain.related_needs import (
    Candidates,
    CaseToTell,
    Clustered,
    ClusterKey,
    KnownNeed,
    Member,
    NewNeed,
    Placement,
    RelatedNeedsPolicy,
    cases_to_tell,
    features,
    first_cluster_id,
    load_weights,
    place,
)
from shared.contracts.need_types import NeedType
from shared.contracts.offices import Office
from shared.database import Connection

# The advisory locks of this lookup, apart from any other lock on the same server.
_LOCK_PREFIX = "routing.related_needs:"


@dataclass(slots=True)
class _Kept:
    """One key's candidates as this replica keeps them, and the newest placement of the key it has read."""

    candidates: Candidates = field(default_factory=Candidates)
    routed_at: dict[UUID, datetime] = field(default_factory=dict)
    last_placed: int = 0

    def add(self, need: KnownNeed, routed_at: datetime, placed: int) -> None:
        """Keep ``need`` (``place`` has already added the needs it placed to the candidates)."""
        if need.need_id not in self.candidates:
            self.candidates.add(need)
        self.routed_at[need.need_id] = routed_at
        self.last_placed = max(self.last_placed, placed)

    def forget(self, *, before: datetime, keep: int) -> None:
        """Drop the needs routed before ``before``, then the oldest beyond the newest ``keep``."""
        for need_id in [need_id for need_id, routed_at in self.routed_at.items() if routed_at < before]:
            self._drop(need_id)
        for need_id in self.candidates.oldest()[: max(len(self.candidates) - keep, 0)]:
            self._drop(need_id)

    def _drop(self, need_id: UUID) -> None:
        self.candidates.remove(need_id)
        self.routed_at.pop(need_id, None)


class RelatedNeedsStore:
    """Places routed needs in clusters of earlier open needs, serialised per (province, type)."""

    def __init__(self, pool: asyncpg.Pool, policy: RelatedNeedsPolicy) -> None:
        self._pool = pool
        self.policy = policy
        self._kept: dict[ClusterKey, _Kept] = {}
        load_weights()

    async def place(self, needs: Sequence[NewNeed], *, now: datetime) -> "Placed":
        """Place ``needs`` (in order); say which share a cluster with other needs, and which earlier cases to tell now.

        A need placed before (a batch read again) keeps its cluster and is not placed again. An
        earlier case told within the link interval is held back: it is marked pending, and
        ``held_back_links`` finds it once its interval has passed. Who is told is recorded in the
        placing transaction, before the batch is published: if the publish fails, the batch read
        again finds the cases told a moment ago and holds them back, so the flush still tells them.
        """
        needs = list({need.need_id: need for need in needs}.values())  # a record redelivered within its batch
        if not needs:
            return Placed([], [])
        keys = sorted({need.key for need in needs}, key=lambda key: (key.province_code, key.need_type.value))
        try:
            return await self._place(needs, keys, now=now)
        except BaseException:
            # What was kept may now hold placements the database rolled back: read those keys afresh.
            for key in keys:
                self._kept.pop(key, None)
            raise

    def _clustered(
        self, needs: Sequence[NewNeed], clusters: dict[UUID, tuple[UUID, int]], members: dict[UUID, list[Member]]
    ) -> list[Clustered]:
        """The needs that share a cluster with any other need, with the cluster's newest other needs."""
        types = {need.need_id: need.key.need_type for need in needs}
        in_clusters = []
        for need_id, (cluster_id, placed) in clusters.items():
            others = [member for member in members[cluster_id] if member.need_id != need_id]
            if others:
                in_clusters.append(
                    Clustered(
                        need_id=need_id,
                        cluster_id=cluster_id,
                        need_type=types[need_id],
                        placed=placed,
                        joined=cluster_id != first_cluster_id(need_id),
                        others=tuple(others[-self.policy.max_related :]),
                    )
                )
        return in_clusters

    async def _place(self, needs: Sequence[NewNeed], keys: Sequence[ClusterKey], *, now: datetime) -> "Placed":
        # Six round trips after the transaction's start at most (the lock; what was placed before
        # and since; the matches' status; the insert; the clusters' members; who is told now): on a
        # busy machine each costs routing's batch milliseconds (docs/performance-notes.md).
        async with self._pool.acquire() as connection, connection.transaction():
            await _lock(connection, keys)
            since = now - self.policy.window
            new_keys = [key for key in keys if key not in self._kept]
            known_keys = [key for key in keys if key in self._kept]
            rows = await connection.fetch(
                _PLACED_BEFORE_AND_SINCE,
                [need.need_id for need in needs],
                [key.province_code for key in known_keys], [key.need_type.value for key in known_keys],
                [self._kept[key].last_placed for key in known_keys], since,
                [key.province_code for key in new_keys], [key.need_type.value for key in new_keys],
                self.policy.max_candidates,
            )  # fmt: skip
            placed_before = {row["need_id"]: (row["cluster_id"], row["placed"]) for row in rows if row["before"]}
            kept = self._refresh(keys, [row for row in rows if not row["before"]])
            fresh = [need for need in needs if need.need_id not in placed_before]
            threshold = self.policy.threshold
            matched = {need.need_id: kept[need.key].candidates.matches(need.features, threshold) for need in fresh}
            matching = {need_id for found in matched.values() for _, need_id in found}
            closed = await _closed(connection, matching) if matching else set()
            by_key: dict[ClusterKey, list[NewNeed]] = defaultdict(list)
            for need in fresh:
                by_key[need.key].append(need)
            placements = [
                placement
                for key, of_key in by_key.items()
                for placement in place(
                    of_key, kept[key].candidates, threshold=threshold, closed=closed, matched=matched
                )
            ]
            order = await _insert(connection, placements)
            for placement in placements:
                need = placement.need
                kept[need.key].add(
                    KnownNeed(need.need_id, placement.cluster_id, need.features), now, order[need.need_id]
                )
            for key in keys:
                kept[key].forget(before=since, keep=self.policy.max_candidates)
            clusters = {
                **placed_before,
                **{
                    placement.need.need_id: (placement.cluster_id, order[placement.need.need_id])
                    for placement in placements
                },
            }
            # Only a cluster someone joined has more than one need: most needs start their own.
            joined = {
                cluster_id for need_id, (cluster_id, _) in clusters.items() if cluster_id != first_cluster_id(need_id)
            }
            members = await _newest_members(connection, joined, limit=self.policy.max_related + 1)
            clustered = self._clustered(needs, clusters, members)
            tell_now = await _due_now(connection, cases_to_tell(clustered), now=now, interval=self.policy.link_interval)
        return Placed(clustered, tell_now)

    def _refresh(self, keys: Sequence[ClusterKey], rows: Sequence[asyncpg.Record]) -> dict[ClusterKey, _Kept]:
        """The kept candidates of each key, with ``rows`` added (read by ``_PLACED_BEFORE_AND_SINCE``)."""
        for key in keys:
            self._kept.setdefault(key, _Kept())
        for row in rows:
            key = ClusterKey(row["province_code"], NeedType(row["need_type"]))
            known = KnownNeed(row["need_id"], row["cluster_id"], features(row["letters"]))
            self._kept[key].add(known, row["routed_at"], row["placed"])
        return {key: self._kept[key] for key in keys}


# After the lock, in one statement: which of the batch's needs were placed before (a batch read
# again), then, oldest first, what was placed since this replica last looked at each key it keeps
# ($2-$4) and the newest ``$8`` open needs of each key it does not keep yet ($6, $7), all routed
# since $5. A need is open until every case of it is resolved; one whose cases are not recorded
# yet (routed a moment ago by another replica) is open.
_PLACED_BEFORE_AND_SINCE = """
    SELECT true AS before, NULL AS province_code, NULL AS need_type, need_id, cluster_id, NULL AS letters,
           NULL::timestamptz AS routed_at, placed
    FROM related_needs WHERE need_id = ANY($1::uuid[])
    UNION ALL
    SELECT false, r.province_code, r.need_type, r.need_id, r.cluster_id, r.letters, r.routed_at, r.placed
    FROM unnest($2::text[], $3::text[], $4::bigint[]) AS k(province_code, need_type, last_placed)
    JOIN related_needs r ON r.province_code = k.province_code AND r.need_type = k.need_type
         AND r.placed > k.last_placed AND r.routed_at >= $5
    UNION ALL
    SELECT false, k.province_code, k.need_type, r.need_id, r.cluster_id, r.letters, r.routed_at, r.placed
    FROM unnest($6::text[], $7::text[]) AS k(province_code, need_type)
    CROSS JOIN LATERAL (
        SELECT r.need_id, r.cluster_id, r.letters, r.routed_at, r.placed FROM related_needs r
        WHERE r.province_code = k.province_code AND r.need_type = k.need_type AND r.routed_at >= $5
          AND NOT (
              EXISTS (SELECT 1 FROM routed_cases c WHERE c.need_id = r.need_id)
              AND NOT EXISTS (SELECT 1 FROM routed_cases c WHERE c.need_id = r.need_id AND c.status <> 'resolved')
          )
        ORDER BY r.placed DESC
        LIMIT $8
    ) AS r
    ORDER BY placed
"""


async def _closed(connection: Connection, need_ids: set[UUID]) -> set[UUID]:
    """Which of ``need_ids`` are closed: every case of them recorded and resolved."""
    rows = await connection.fetch(
        """
        SELECT n.need_id FROM unnest($1::uuid[]) AS n(need_id)
        WHERE EXISTS (SELECT 1 FROM routed_cases c WHERE c.need_id = n.need_id)
          AND NOT EXISTS (SELECT 1 FROM routed_cases c WHERE c.need_id = n.need_id AND c.status <> 'resolved')
        """,
        list(need_ids),
    )
    return {row["need_id"] for row in rows}


@dataclass(frozen=True, slots=True)
class Placed:
    """A batch's needs placed: those in a cluster with other needs, and the earlier cases to tell of them now."""

    clustered: list[Clustered]
    tell_now: list[CaseToTell]


async def _due_now(
    connection: Connection, cases: Sequence[CaseToTell], *, now: datetime, interval: timedelta
) -> list[CaseToTell]:
    """Of the earlier cases a batch would tell of new relatives, those not told within ``interval``; the rest wait."""
    if not cases:
        return []
    rows = await connection.fetch(
        """
        INSERT INTO linked_told AS told (need_id, office, told_at)
        SELECT need_id, office, $3 FROM unnest($1::uuid[], $2::text[]) AS linked(need_id, office)
        ON CONFLICT (need_id, office) DO UPDATE
            SET told_at = CASE WHEN told.told_at <= $4 THEN excluded.told_at ELSE told.told_at END,
                pending = told.told_at > $4
        RETURNING need_id, office, NOT pending AS told_now
        """,
        [case.need_id for case in cases], [case.office.name for case in cases], now, now - interval,
    )  # fmt: skip
    told_now = {(row["need_id"], row["office"]) for row in rows if row["told_now"]}
    return [case for case in cases if (case.need_id, case.office.name) in told_now]


async def _lock(connection: Connection, keys: Sequence[ClusterKey]) -> None:
    # One order for every transaction (sorted by lock id), so two batches never wait on each other in a cycle.
    await connection.execute(
        "SELECT pg_advisory_xact_lock(lock_id) FROM"
        " (SELECT DISTINCT hashtextextended($1 || key, 0) AS lock_id FROM unnest($2::text[]) AS key ORDER BY 1) AS ids",
        _LOCK_PREFIX, [f"{key.province_code}:{key.need_type.value}" for key in keys],
    )  # fmt: skip


async def _insert(connection: Connection, placements: Sequence[Placement]) -> dict[UUID, int]:
    """Store the placements; the place each took in the order of placing."""
    if not placements:
        return {}
    # One statement for the batch, in the batch's order: a row at a time costs a round trip each.
    rows = await connection.fetch(
        """
        INSERT INTO related_needs (need_id, province_code, district_code, need_type, cluster_id, letters, offices,
            routed_at)
        SELECT need_id, province_code, district_code, need_type, cluster_id, letters,
               string_to_array(offices, ' '), routed_at
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[],
                    $8::timestamptz[])
            WITH ORDINALITY AS placed(need_id, province_code, district_code, need_type, cluster_id, letters, offices,
                routed_at, position)
        ORDER BY position
        RETURNING need_id, placed
        """,
        [p.need.need_id for p in placements], [p.need.key.province_code for p in placements],
        [p.need.district_code for p in placements], [p.need.key.need_type.value for p in placements],
        [p.cluster_id for p in placements], [p.need.letters for p in placements],
        [" ".join(office.name for office in p.need.offices) for p in placements],
        [p.need.routed_at for p in placements],
    )  # fmt: skip
    return {row["need_id"]: row["placed"] for row in rows}


async def _newest_members(connection: Connection, cluster_ids: set[UUID], *, limit: int) -> dict[UUID, list[Member]]:
    """The newest ``limit`` needs of each cluster, oldest of them first."""
    rows = await connection.fetch(
        """
        SELECT cluster_id, need_id, offices, placed FROM (
            SELECT cluster_id, need_id, offices, placed,
                   row_number() OVER (PARTITION BY cluster_id ORDER BY placed DESC) AS newest
            FROM related_needs WHERE cluster_id = ANY($1::uuid[])
        ) AS members
        WHERE newest <= $2
        ORDER BY placed
        """,
        list(cluster_ids), limit,
    )  # fmt: skip
    members: dict[UUID, list[Member]] = defaultdict(list)
    for row in rows:
        offices = tuple(Office.parse(name) for name in row["offices"])
        members[row["cluster_id"]].append(Member(row["need_id"], offices, row["placed"]))
    return members


@dataclass(frozen=True, slots=True)
class HeldBack:
    """A case that gained relatives while its last ``case.linked`` was too recent, and its cluster's needs now."""

    need_id: UUID
    office: Office
    cluster_id: UUID
    others: tuple[UUID, ...]


async def held_back_links(
    connection: Connection, *, told_before: datetime, max_related: int, limit: int
) -> list[HeldBack]:
    """Cases held back and last told before ``told_before``, locked until the transaction ends (replicas skip them)."""
    rows = await connection.fetch(
        """
        SELECT t.need_id, t.office, r.cluster_id FROM linked_told t JOIN related_needs r USING (need_id)
        WHERE t.pending AND t.told_at <= $1
        ORDER BY t.told_at LIMIT $2
        FOR UPDATE OF t SKIP LOCKED
        """,
        told_before, limit,
    )  # fmt: skip
    if not rows:
        return []
    members = await _newest_members(connection, {row["cluster_id"] for row in rows}, limit=max_related + 1)
    held = []
    for row in rows:
        others = [member.need_id for member in members[row["cluster_id"]] if member.need_id != row["need_id"]]
        held.append(
            HeldBack(row["need_id"], Office.parse(row["office"]), row["cluster_id"], tuple(others[-max_related:]))
        )
    return held


async def mark_told(connection: Connection, told: Sequence[HeldBack], *, now: datetime) -> None:
    """The held-back cases were told now."""
    await connection.execute(
        "UPDATE linked_told SET told_at = $3, pending = false FROM unnest($1::uuid[], $2::text[]) AS t(need_id, office)"
        " WHERE linked_told.need_id = t.need_id AND linked_told.office = t.office",
        [held.need_id for held in told], [held.office.name for held in told], now,
    )  # fmt: skip


async def forget_told(connection: Connection, *, before: datetime, limit: int) -> int:
    """Forget when cases were told before ``before`` unless they wait, and the waits of forgotten needs; how many.

    Past the window no case gains relatives. A forgotten need's case can be left waiting when the
    need was forgotten while a batch that named it was being placed: its cluster names it no more.
    """
    deleted: int = await connection.fetchval(
        """
        WITH gone AS (
            DELETE FROM linked_told WHERE ctid IN
                (SELECT ctid FROM linked_told WHERE told_at < $1 AND NOT pending LIMIT $2)
            RETURNING 1
        ), orphaned AS (
            DELETE FROM linked_told t
            WHERE t.pending AND NOT EXISTS (SELECT 1 FROM related_needs r WHERE r.need_id = t.need_id)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM orphaned)
        """,
        before, limit,
    )  # fmt: skip
    return deleted


async def forget_related_needs(connection: Connection, *, routed_before: datetime, limit: int) -> int:
    """Forget at most ``limit`` needs routed before ``routed_before``, and when their cases were told; how many.

    A case of a forgotten need still waiting to be told of relatives is not told: its cluster no
    longer names it.
    """
    deleted: int = await connection.fetchval(
        """
        WITH old AS (
            SELECT need_id FROM related_needs WHERE routed_at < $1 ORDER BY routed_at LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), gone AS (
            DELETE FROM related_needs WHERE need_id IN (SELECT need_id FROM old) RETURNING need_id
        ), untold AS (
            DELETE FROM linked_told WHERE need_id IN (SELECT need_id FROM gone)
        )
        SELECT count(*) FROM gone
        """,
        routed_before, limit,
    )  # fmt: skip
    return deleted
