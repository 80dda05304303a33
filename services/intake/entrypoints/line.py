"""LINE's webhook and the volunteer app's link codes: thin, the work is in ``line_channel``."""

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from services.intake.adapters.line_api import signature_valid
from services.intake.entrypoints.http_api import Resources, Submitter
from services.intake.entrypoints.http_errors import field_problem
from services.intake.entrypoints.openapi_contract import AUTHENTICATED, Responses, problems
from services.intake.use_cases import line_channel
from shared.contracts.events import VolunteerId

router = APIRouter(tags=["LINE"])


class WebhookTaken(BaseModel):
    """LINE's events are kept; they are worked on after this answer."""

    events_kept: int


class LinkCodeRequest(BaseModel):
    """Which volunteer the app asks a LINE link code for."""

    model_config = ConfigDict(extra="forbid")

    volunteer_id: VolunteerId


class LinkCode(BaseModel):
    """A one-time code: the volunteer sends ``เชื่อม <code>`` (or ``link <code>``) to the LINE account."""

    code: str
    expires_at: datetime
    instructions: str


def _webhook_refusals() -> Responses:
    refusals = problems(400, 401, 413, 503, described={
        400: "Signed, but not a LINE webhook body",
        401: "No X-Line-Signature, or not the channel's (also when no LINE channel is configured)",
    })  # fmt: skip
    refusals[401].pop("headers")  # LINE signs; there is no scheme to authenticate with
    return refusals


@router.post(
    "/channels/line/webhook",
    operation_id="receiveLineWebhook",
    response_model=WebhookTaken,
    openapi_extra={
        "parameters": [
            {
                "name": "X-Line-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "base64 HMAC-SHA256 of the body",
            }
        ]
    },
    responses=_webhook_refusals(),
)
async def receive_webhook(request: Request, resources: Resources) -> WebhookTaken:
    """LINE's webhook: the signature is checked on the raw body before anything reads it.

    Each event is stored before this answers, and worked on right after, so LINE's time limit is
    met and nothing is lost; an event LINE sends again (same ``webhookEventId``) is kept once.
    """
    body = await request.body()
    channel = resources.line
    signature = request.headers.get("X-Line-Signature")
    if channel is None or not signature_valid(channel.channel_secret, body, signature):
        raise field_problem(401, "header X-Line-Signature", "missing, or not the signature of this body")
    try:
        events = line_channel.webhook_events(json.loads(body))
    except (ValueError, line_channel.NotAWebhook) as invalid:
        raise field_problem(400, "body", str(invalid)) from invalid
    await line_channel.keep_webhook_events(events=events, pool=resources.pool)
    channel.wake()
    return WebhookTaken(events_kept=len(events))


@router.post(
    "/channels/line/link-codes",
    operation_id="createLineLinkCode",
    status_code=201,
    response_model=LinkCode,
    responses=problems(*AUTHENTICATED, 400, 403, 404, 413, 422, described={404: "No LINE channel is configured here"}),
)
async def create_link_code(body: LinkCodeRequest, resources: Resources, caller: Submitter) -> LinkCode:
    """A one-time code linking the LINE user who sends it to this volunteer; their needs are submitted as this app."""
    if resources.line is None:
        raise field_problem(
            404, "path", "no LINE channel is configured (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN)"
        )
    issued = await line_channel.issue_link_code(
        volunteer_id=body.volunteer_id, caller=caller, now=datetime.now(UTC),
        valid_for=resources.line_link_code_ttl, pool=resources.pool,
    )  # fmt: skip
    return LinkCode(
        code=issued.code,
        expires_at=issued.expires_at,
        instructions=f'ส่งข้อความ "เชื่อม {issued.code}" ถึงบัญชี LINE ของระบบ ภายในเวลาที่กำหนด',
    )
