"""Kafka topic names: the one place they are spelled."""

import re

from shared.contracts.need_types import Agency
from shared.contracts.offices import Office

NEEDS_SUBMITTED = "needs.submitted.v1"
NEEDS_SCREENED = "needs.screened.v1"
NEEDS_DEAD_LETTERS = "needs.dlq.v1"
CASE_STATUS = "cases.status.v1"
# Routing's decisions and case changes, for the other services' own copies (no identity).
CASES_UPDATED = "cases.updated.v1"
# Screeners' decisions from the officers' inbox, for screening (which owns the corrections).
SCREENER_DECISIONS = "screening.decisions.v1"
# What an agency's office sees: every agency topic, ``agency.<agency>.<province>[.<area>]``.
AGENCY_TOPIC_PATTERN = r"agency\..*"

PIPELINE_TOPICS = (
    NEEDS_SUBMITTED,
    NEEDS_SCREENED,
    NEEDS_DEAD_LETTERS,
    CASE_STATUS,
    CASES_UPDATED,
    SCREENER_DECISIONS,
)


def agency_topic(agency: Agency, province_code: str) -> str:
    """The queue of one agency's office in one province, e.g. ``agency.dlpw.33``."""
    return Office(agency, province_code).topic


# One pair of topics per upstream source (`needs-router sources add NAME`), so that Kafka ACLs bind
# who may submit as whom: the source writes its incoming topic and reads its receipts.
INCOMING_PREFIX = "needs.incoming.v1."
RECEIPTS_PREFIX = "needs.receipts.v1."
# Intake reads every incoming topic with one consumer, by this pattern.
INCOMING_TOPICS_PATTERN = r"needs\.incoming\.v1\..+"
# Lower case, digits, '-' and '_': a topic's legal characters without the dot, so the name is the topic's last part.
SOURCE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
INCOMING_RETENTION_MS = 7 * 24 * 60 * 60 * 1000


def incoming_topic(source: str) -> str:
    """Where a source posts its submissions, e.g. ``needs.incoming.v1.hr-system``."""
    return INCOMING_PREFIX + source


def receipts_topic(source: str) -> str:
    """Where a source reads its receipts, e.g. ``needs.receipts.v1.hr-system``."""
    return RECEIPTS_PREFIX + source


def source_of(topic: str) -> str:
    """The source whose incoming topic this is."""
    return topic.removeprefix(INCOMING_PREFIX)


def agency_pattern(agency: Agency) -> str:
    """A regex of every queue of one agency, all provinces and area offices: a national office's subscription."""
    return f"^agency\\.{agency.value}\\..+$"


def province_pattern(office: Office) -> str:
    """A regex of a province's queue and its area offices' queues (``agency.doe.10``, ``agency.doe.10.area3``)."""
    return "^" + re.escape(office.province.topic) + r"(\.[^.]+)?$"
