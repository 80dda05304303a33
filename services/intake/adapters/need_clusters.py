"""Intake's copy of routing's clusters of related needs (intake.need_clusters, migration 0017).

Kept from routing's ``cases.updated.v1`` only, by intake's projection of it
(``adapters/projection.py``), never read from routing's tables: a ``routed`` update of a need
that joined a cluster names the cluster, its type and the other needs in it, so each of them is
recorded as a member. A need's cluster never changes, so a record seen again changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.intake.adapters.database import OVERALL_STATUS
from shared.contracts.events import CaseUpdated
from shared.database import Connection


async def record_clusters(connection: Connection, updates: Sequence[CaseUpdated]) -> None:
    """Record each routed update's need and its relatives as members of its cluster, where it names one.

    A need already in a cluster stays in the first one recorded.
    """
    members = [
        (need_id, update.cluster_id, update.cluster_type.value, update.updated_at)
        for update in updates
        if update.cluster_id is not None and update.cluster_type is not None
        for need_id in (update.need_id, *update.related_need_ids)
    ]
    if members:
        await connection.executemany(
            "INSERT INTO need_clusters (need_id, cluster_id, need_type, updated_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (need_id) DO NOTHING",
            members,
        )


async def relatives(connection: Connection, need_id: UUID) -> list[UUID]:
    """The other needs of the need's cluster, oldest first; none if it is in no cluster."""
    rows = await connection.fetch(
        "SELECT other.need_id FROM need_clusters mine"
        " JOIN need_clusters other ON other.cluster_id = mine.cluster_id AND other.need_id <> mine.need_id"
        " JOIN needs n ON n.need_id = other.need_id"
        " WHERE mine.need_id = $1 ORDER BY n.submitted_at, other.need_id",
        need_id,
    )
    return [row["need_id"] for row in rows]


@dataclass(frozen=True, slots=True)
class OpenCluster:
    """A cluster with open needs: its type, place, size and age."""

    cluster_id: UUID
    need_type: str
    province_code: str
    district_code: str
    size: int
    first_submitted_at: datetime


async def largest_open_clusters(connection: Connection, *, provinces: frozenset[str], limit: int) -> list[OpenCluster]:
    """The largest clusters with a need not yet resolved, in the provinces given (all if none).

    The place is the district most of the cluster's needs are in.
    """
    rows = await connection.fetch(
        f"""
        SELECT c.cluster_id, min(c.need_type) AS need_type, min(n.province_code) AS province_code,
               mode() WITHIN GROUP (ORDER BY n.district_code) AS district_code,
               count(*) AS size, min(n.submitted_at) AS first_submitted_at
        FROM need_clusters c JOIN needs n ON n.need_id = c.need_id
        WHERE cardinality($1::text[]) = 0 OR n.province_code = ANY($1::text[])
        GROUP BY c.cluster_id
        HAVING count(*) > 1 AND bool_or({OVERALL_STATUS} <> 'resolved')
        ORDER BY size DESC, first_submitted_at
        LIMIT $2
        """,
        sorted(provinces), limit,
    )  # fmt: skip
    return [OpenCluster(**dict(row)) for row in rows]
