"""Intake's audited reveal (``POST /v1/needs/{id}/identity``), called for an officer the inbox allowed."""

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID


class RevealFailed(RuntimeError):
    """Intake did not reveal the identity (not configured, unreachable, or it refused)."""


@dataclass(frozen=True, slots=True)
class RevealedIdentity:
    """Who reported the need and who it is about, as intake answered."""

    volunteer_id: str
    name: str | None
    phone: str | None
    national_id: str | None
    erased: bool


@dataclass(frozen=True, slots=True)
class IntakeReveal:
    """Intake's base address and the key the inbox calls it with."""

    base_url: str
    api_key: str

    async def reveal(self, need_id: UUID, *, reason: str) -> RevealedIdentity:
        """Ask intake, which checks the key, reveals and audits with the reason (percent-encoded: a header)."""
        if not self.api_key:
            raise RevealFailed("the inbox has no key for intake's reveal (INBOX_INTAKE_KEY)")
        request = urllib.request.Request(
            f"{self.base_url.rstrip('/')}/v1/needs/{need_id}/identity",
            method="POST",
            headers={"Authorization": f"Bearer {self.api_key}", "Reason": quote(reason, safe=" :()/.,-")},
        )
        try:
            body = await asyncio.to_thread(_answer, request)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise RevealFailed(f"intake did not reveal: {error}") from error
        return RevealedIdentity(
            volunteer_id=str(body["volunteer_id"]), name=body.get("name"), phone=body.get("phone"),
            national_id=body.get("national_id"), erased=bool(body.get("personal_data_erased")),
        )  # fmt: skip


def _answer(request: urllib.request.Request) -> dict[str, Any]:
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer
