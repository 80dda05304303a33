"""Related needs end to end: three reports of one unpaid-wages workplace, worded differently, end in one
cluster; an unrelated need of the same district stays out. Seen on the agency topic (with librdkafka),
in the need view and on the dashboard, as agencies and officers see them.
"""

import time

import httpx
import pytest

from tests.e2e.test_pipeline import (
    RunningPipeline,
    create_key_from_the_command_line,
    post_need,
    read_with_librdkafka,
)

pytestmark = pytest.mark.e2e

SAME_WORKPLACE = (
    "บริษัท สยามการ์เมนต์ จำกัด ตำบลโพธิ์ อำเภอเมืองศรีสะเกษ ค้างจ่ายค่าจ้างพนักงานเย็บผ้ามา 2 เดือนแล้ว นายจ้างบอกว่ายังไม่มีเงินจ่าย",
    "พนักงานเย็บผ้า บริษัทสยามการ์เมนต์ ต.โพธิ์ อ.เมืองศรีสะเกษ ยังไม่ได้รับค่าจ้าง ๒ เดือน นายจ้างอ้างว่าไม่มีเงิน",
    "ลูกจ้างโรงงานเย็บผ้าสยามการ์เมนต์ (ตำบลโพธิ์ เมืองศรีสะเกษ) ร้องเรียนว่านายจ้างค้างค่าจ้างมาสองเดือน ยังไม่จ่าย",
)
UNRELATED = "ร้านอาหารในตลาดเทศบาล อำเภอเมืองศรีสะเกษ นายจ้างเลิกจ้างลูกจ้างโดยไม่บอกล่วงหน้าและไม่จ่ายค่าชดเชย"


@pytest.fixture(scope="module")
def pipeline(fresh_shared_pipeline: RunningPipeline) -> RunningPipeline:
    return fresh_shared_pipeline


def test_three_reports_of_one_workplace_end_in_one_cluster_and_an_unrelated_need_stays_out(
    pipeline: RunningPipeline,
) -> None:
    # One report after the other, each routed before the next arrives, as volunteers' reports come in.
    reports: list[str] = []
    for text in SAME_WORKPLACE:
        reports.append(post_need(pipeline, text))
        assert read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={reports[-1]})
    unrelated = post_need(pipeline, UNRELATED)
    wanted = {*reports, unrelated}
    first = reports[0]

    # Each need's case.routed, and a case.linked to each earlier report: the first once, the second once.
    records = read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted=wanted, count=4 + 3, timeout_s=30)

    routed = {record["need_id"]: record for record in records if record["event_type"] == "case.routed"}
    assert set(routed) == wanted
    joined = [routed[need_id] for need_id in reports if routed[need_id].get("cluster_id")]
    assert len(joined) >= 2, "at most the first report starts the cluster; the others join it"
    [cluster_id] = {record["cluster_id"] for record in joined}
    newest = max(joined, key=lambda record: len(record["related_need_ids"]))
    assert {newest["need_id"], *newest["related_need_ids"]} == set(reports)
    assert routed[unrelated].get("cluster_id") is None
    assert all(unrelated not in record.get("related_need_ids", []) for record in routed.values())
    linked = [record for record in records if record["event_type"] == "case.linked"]
    assert linked, "an earlier report's agency is told of the later ones"
    assert {record["cluster_id"] for record in linked} == {cluster_id}
    assert sorted(record["need_id"] for record in linked) == sorted([first, first, reports[1]])

    # Intake learns the cluster from cases.updated.v1 and shows the relatives in the need view.
    agency = {
        "Authorization": "Bearer "
        + create_key_from_the_command_line(pipeline.database_url, "agency", "--agency", "dlpw", "--province", "33")
    }
    deadline = time.monotonic() + 30
    relatives: set[str] = set()
    while relatives != set(reports) - {first} and time.monotonic() < deadline:
        view = httpx.get(f"{pipeline.intake_url}/v1/needs/{first}", headers=agency, timeout=10).json()
        relatives = {item["need_id"] for item in view["related_needs"]}
        time.sleep(0.3)
    assert relatives == set(reports) - {first}
    other = httpx.get(f"{pipeline.intake_url}/v1/needs/{unrelated}", headers=agency, timeout=10).json()
    assert other["related_needs"] == []
    # An agency the needs did not go to may read none of them, relatives included.
    doe = {
        "Authorization": "Bearer "
        + create_key_from_the_command_line(pipeline.database_url, "agency", "--agency", "doe", "--province", "33")
    }
    assert httpx.get(f"{pipeline.intake_url}/v1/needs/{first}", headers=doe, timeout=10).status_code == 404

    admin = {"Authorization": f"Bearer {create_key_from_the_command_line(pipeline.database_url, 'admin')}"}
    panel = httpx.get(f"{pipeline.intake_url}/v1/dashboard/clusters", headers=admin, timeout=10).json()
    [shown] = [line for line in panel["largest"] if line["cluster_id"] == cluster_id]
    assert (shown["need_type"], shown["district_code"], shown["size"]) == ("unfair_labour", "3301", 3)
    assert shown["age_days"] >= 0
