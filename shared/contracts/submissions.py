"""What an upstream source posts on its ``needs.incoming.v1.<source>`` topic, and its receipts."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import Event
from shared.contracts.text import WithoutNul

# The source's own id of a submission: one need per (source, submission_id), however often it is sent.
SubmissionId = Annotated[str, Field(min_length=1, max_length=200), WithoutNul]


class FieldProblem(BaseModel):
    """What is wrong, and where: a body field, a query or path parameter, or ``header <Name>``."""

    field: str
    problem: str


class SourceSubmission(BaseModel):
    """A submission on ``needs.incoming.v1.<source>``, keyed by ``submission_id``.

    Besides ``submission_id`` it carries the fields of ``POST /v1/needs`` (see intake's OpenAPI
    document, ``NeedSubmission``) except ``person``: no personal data travels on these topics, and
    a submission that carries ``person`` is rejected. Intake validates the fields exactly as HTTP does.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    submission_id: SubmissionId

    def need_fields(self) -> dict[str, object]:
        """Everything but ``submission_id``: the body of a need, as ``POST /v1/needs`` takes it."""
        return dict(self.model_extra or {})


class _Receipt(Event):
    """What every receipt carries, on ``needs.receipts.v1.<source>`` keyed by submission_id."""

    # Every field is always sent, ``status`` included: the schema says so to whoever reads receipts.
    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_serialization_defaults_required=True)
    time_field = "receipted_at"

    schema_version: Literal[1] = 1
    submission_id: SubmissionId
    receipted_at: datetime


class SubmissionAccepted(_Receipt):
    """A submission became a need (topic ``needs.receipts.v1.<source>``, key = submission_id).

    Sent again, with the same event_id and need_id, whenever the submission is delivered again.
    """

    cloud_event_type = "needs.receipts.accepted.v1"

    status: Literal["accepted"] = "accepted"
    need_id: uuid.UUID


class SubmissionRejected(_Receipt):
    """A submission was refused, with each field's problem as HTTP names it (topic ``needs.receipts.v1.<source>``).

    A problem never repeats the value it is about.
    """

    cloud_event_type = "needs.receipts.rejected.v1"

    status: Literal["rejected"] = "rejected"
    errors: Annotated[list[FieldProblem], Field(min_length=1)]


_RECEIPT_NAMESPACE = uuid.UUID("3c1f6e2a-9b7d-4e58-a0c4-5d2e8f1b7a93")


def accepted_receipt(*, source: str, submission_id: str, need_id: uuid.UUID, now: datetime) -> SubmissionAccepted:
    """The receipt of a submission that is the need ``need_id``; the same id each time it is sent."""
    return SubmissionAccepted(
        event_id=uuid.uuid5(_RECEIPT_NAMESPACE, f"{source}\n{submission_id}\naccepted\n{need_id}"),
        submission_id=submission_id,
        need_id=need_id,
        receipted_at=now,
    )


def rejected_receipt(
    *, source: str, submission_id: str, errors: list[FieldProblem], now: datetime
) -> SubmissionRejected:
    """The receipt of a refused submission; the same id for the same problems."""
    reasons = "\n".join(f"{error.field}: {error.problem}" for error in errors)
    return SubmissionRejected(
        event_id=uuid.uuid5(_RECEIPT_NAMESPACE, f"{source}\n{submission_id}\nrejected\n{reasons}"),
        submission_id=submission_id,
        errors=errors,
        receipted_at=now,
    )
