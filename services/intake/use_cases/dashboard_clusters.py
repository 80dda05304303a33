"""What GET /v1/dashboard/clusters answers: the largest open clusters of related needs.

From intake's own copy of routing's clusters (``cases.updated.v1``). Workplace drug tips are
never clustered, so no cluster and no size here can point at an informant.
"""

import uuid
from datetime import datetime

import geothai
from pydantic import BaseModel

from services.intake.adapters.need_clusters import OpenCluster, largest_open_clusters
from shared.database import Connection

LARGEST = 10


class ClusterLine(BaseModel):
    """One cluster: its type, its place (the district most of its needs are in), size and age."""

    cluster_id: uuid.UUID
    need_type: str
    province_code: str
    district_code: str
    place_th: str
    place_en: str
    size: int
    first_submitted_at: datetime
    age_days: float


class ClusterPanel(BaseModel):
    """The largest clusters with a need not yet resolved, largest first."""

    largest: list[ClusterLine]


async def cluster_panel(connection: Connection, *, now: datetime) -> ClusterPanel:
    """The dashboard's cluster panel, all provinces."""
    clusters = await largest_open_clusters(connection, provinces=frozenset(), limit=LARGEST)
    return ClusterPanel(largest=[_line(cluster, now=now) for cluster in clusters])


def _line(cluster: OpenCluster, *, now: datetime) -> ClusterLine:
    district = geothai.district(cluster.district_code)
    province = geothai.province(cluster.province_code)
    place_th = " · ".join(item.name_th for item in (district, province) if item is not None) or cluster.district_code
    place_en = ", ".join(item.name_en for item in (district, province) if item is not None) or cluster.district_code
    return ClusterLine(
        cluster_id=cluster.cluster_id, need_type=cluster.need_type, province_code=cluster.province_code,
        district_code=cluster.district_code, place_th=place_th, place_en=place_en, size=cluster.size,
        first_submitted_at=cluster.first_submitted_at,
        age_days=round((now - cluster.first_submitted_at).total_seconds() / 86400, 1),
    )  # fmt: skip
