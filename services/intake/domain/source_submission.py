"""A submission an upstream source posts on Kafka: read, then checked exactly as ``POST /v1/needs`` checks a body."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from services.intake.domain.field_problems import body_problems
from services.intake.domain.submission import NeedSubmission
from shared.contracts.submissions import (
    FieldProblem,
    SourceSubmission,
    SubmissionAccepted,
    SubmissionRejected,
    accepted_receipt,
    rejected_receipt,
)
from shared.topics import receipts_topic

SUBMISSION_ID_REUSED = "this submission_id was already used for a different need"
PERSON_REFUSED = "personal data is not accepted on Kafka: send the person's identity through POST /v1/needs"


class Unreadable(ValueError):
    """Not a JSON object with a ``submission_id``: no receipt can name it, so it is a dead letter."""


def read_submission(value: bytes | None) -> SourceSubmission:
    """The submission in a record's value; raises ``Unreadable`` (naming what is missing, never a value)."""
    if not value:
        raise Unreadable("empty message")
    try:
        payload: Any = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise Unreadable(f"message: not JSON ({error.msg})") from error
    if not isinstance(payload, dict):
        raise Unreadable("message: not a JSON object")
    try:
        return SourceSubmission.model_validate(payload)
    except ValidationError as error:
        raise Unreadable(
            "; ".join(f"{problem.field}: {problem.problem}" for problem in body_problems(error))
        ) from error


def without_person(value: bytes) -> bytes:
    """What of a record may be kept as a dead letter: all but its ``person``, or nothing if that cannot be told."""
    try:
        payload: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        return b"" if b"person" in value else value
    if isinstance(payload, dict) and "person" in payload:
        return orjson.dumps({name: field for name, field in payload.items() if name != "person"})
    return value


def check_submission(submission: SourceSubmission) -> NeedSubmission | list[FieldProblem]:
    """The need, validated as HTTP validates it, or every field's problem; ``person`` is refused by name only."""
    fields = submission.need_fields()
    problems = []
    if "person" in fields:
        problems.append(FieldProblem(field="person", problem=PERSON_REFUSED))
        del fields["person"]
    try:
        need = NeedSubmission.model_validate(fields)
    except ValidationError as error:
        return problems + body_problems(error)
    return problems or need


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where the receipt of one submission goes: its source's receipts topic, keyed by its submission_id."""

    source: str
    submission_id: str

    @property
    def topic(self) -> str:
        """``needs.receipts.v1.<source>``."""
        return receipts_topic(self.source)

    @property
    def key(self) -> bytes:
        """The submission_id, as the source keyed its submission."""
        return self.submission_id.encode()

    @property
    def submitted_by(self) -> str:
        """Who a source's needs are recorded as submitted by (an API key's owner for HTTP)."""
        return f"source:{self.source}"

    def accepted(self, need_id: uuid.UUID, *, now: datetime) -> SubmissionAccepted:
        """The receipt naming the need the submission became."""
        return accepted_receipt(source=self.source, submission_id=self.submission_id, need_id=need_id, now=now)

    def rejected(self, errors: list[FieldProblem], *, now: datetime) -> SubmissionRejected:
        """The receipt listing each field's problem."""
        return rejected_receipt(source=self.source, submission_id=self.submission_id, errors=errors, now=now)
