"""Kafka topic names: the one place they are spelled."""

from shared.contracts.need_types import Agency

NEEDS_SUBMITTED = "needs.submitted.v1"
NEEDS_SCREENED = "needs.screened.v1"
NEEDS_DEAD_LETTERS = "needs.dlq.v1"
CASE_STATUS = "cases.status.v1"

PIPELINE_TOPICS = (NEEDS_SUBMITTED, NEEDS_SCREENED, NEEDS_DEAD_LETTERS, CASE_STATUS)


def agency_topic(agency: Agency, province_code: str) -> str:
    """The queue of one agency's office in one province, e.g. ``agency.dlpw.33``."""
    return f"agency.{agency.value}.{province_code}"
