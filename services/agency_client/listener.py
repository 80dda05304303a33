"""``needs-router agency listen``: receive an agency's cases, print them, optionally accept them.

Copy this to build an agency's own consumer: subscribe to your office's queue
(``agency.<code>.<province>`` or an area office's ``agency.<code>.<province>.<area>``), to the
pattern of a province and its area offices (Bangkok: ``agency.doe.10`` and
``agency.doe.10.area1``...), or to ``agency.<code>.*`` for a national office, in a consumer group
of your own; drop redeliveries by ``event_id``, and report back on ``cases.status.v1`` keyed by need_id.
"""

import sys
from datetime import UTC, datetime

import uvloop
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.agency_client.render import render_event
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseStatusReport
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.kafka import OutgoingMessage, create_broker, keep_raw_bytes, publish_all
from shared.settings import InfrastructureSettings
from shared.topics import CASE_STATUS, agency_pattern, province_pattern


def listen(*, agency: Agency, office: Office | None, accept: bool, settings: InfrastructureSettings) -> None:
    """Print every case of this agency (of this office) as it arrives, until Ctrl-C.

    ``office`` None: every queue of the agency (a national office); a whole province: its queue
    and its area offices' queues, by pattern, so no area's case is missed; an area office: its queue.
    """
    broker = create_broker(settings, client_id=f"agency-{agency.value}")
    topics = (office.topic,) if office and office.area else ()
    if office is None:
        pattern: str | None = agency_pattern(agency)
    else:
        pattern = None if office.area else province_pattern(office)
    seen: set[str] = set()

    @broker.subscriber(
        *topics,
        pattern=pattern,
        group_id="agency-" + (office.name.replace(".", "-") if office else agency.value),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=keep_raw_bytes,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    async def on_event(message: KafkaMessage) -> None:
        try:
            text, case = render_event(message.body)
        except ValueError as unreadable:  # bad JSON, bad UTF-8 and pydantic ValidationError alike
            # Skip it rather than read it again for ever; a real consumer would keep it aside.
            print(f"━━ ข้อความอ่านไม่ได้ (unreadable event): {unreadable}", file=sys.stderr, flush=True)
            return
        if case is not None and str(case.event_id) in seen:
            return  # a redelivery: the same case, the same event id
        print(text, flush=True)
        if case is not None:
            seen.add(str(case.event_id))
            if accept:
                await _accept(broker, case.need_id, agency)

    uvloop.run(FastStream(broker).run())


async def _accept(broker: KafkaBroker, need_id: object, agency: Agency) -> None:
    report = CaseStatusReport.model_validate(
        {"need_id": need_id, "agency": agency, "status": "accepted", "note": "รับเรื่องแล้ว", "at": datetime.now(UTC)}
    )
    await publish_all(
        broker,
        [OutgoingMessage.of(report, topic=CASE_STATUS, key=str(need_id).encode(), source=Source.AGENCY_CLIENT)],
    )
    print(f"   ↳ รายงานสถานะ accepted แล้ว ({report.event_id})", file=sys.stdout, flush=True)
