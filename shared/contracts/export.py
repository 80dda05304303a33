"""Writes each contract's JSON Schema and the AsyncAPI document, for agencies to read."""

import json
from pathlib import Path

from pydantic import BaseModel

from shared.asyncapi import asyncapi_json
from shared.contracts.events import (
    CaseEscalated,
    CaseLinked,
    CaseStatusReport,
    CaseUpdated,
    DeadLetter,
    NeedScreened,
    NeedSubmitted,
    PersonalDataErased,
    RoutedCase,
    ScreenerDecision,
    json_schema_mode,
)
from shared.contracts.submissions import SourceSubmission, SubmissionAccepted, SubmissionRejected

CONTRACTS: dict[str, type[BaseModel]] = {
    "needs.submitted.v1": NeedSubmitted,
    "needs.screened.v1": NeedScreened,
    "agency.routed-case.v1": RoutedCase,
    "agency.personal-data-erased.v1": PersonalDataErased,
    "agency.case-escalated.v1": CaseEscalated,
    "agency.case-linked.v1": CaseLinked,
    "cases.status.v1": CaseStatusReport,
    "cases.updated.v1": CaseUpdated,
    "screening.decisions.v1": ScreenerDecision,
    "needs.dlq.v1": DeadLetter,
    "needs.incoming.v1": SourceSubmission,
    "needs.receipts.accepted.v1": SubmissionAccepted,
    "needs.receipts.rejected.v1": SubmissionRejected,
}


def rendered_documents() -> dict[str, str]:
    """File name -> content of every exported document."""
    documents = {
        f"{name}.schema.json": json.dumps(
            model.model_json_schema(mode=json_schema_mode(model)), indent=2, ensure_ascii=False
        )
        + "\n"
        for name, model in CONTRACTS.items()
    }
    documents["asyncapi.json"] = (
        json.dumps(json.loads(asyncapi_json()), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    )
    return documents


def export_schemas(folder: Path, *, check: bool) -> list[str]:
    """Write (or with ``check``, only compare) the documents; return the names that differed."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, content in rendered_documents().items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
            if not check:
                path.write_text(content, encoding="utf-8")
    return stale
