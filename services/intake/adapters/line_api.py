"""LINE's Messaging API: the webhook signature, and replies and pushes over HTTP.

The base URL is a setting, so tests and staging talk to a stand-in; the access token never
appears in a log line.
"""

import base64
import hashlib
import hmac
import logging
import uuid
from typing import Any

import httpx

from services.intake.domain.line_conversation import Reply

log = logging.getLogger(__name__)


class LineUnavailable(Exception):
    """LINE did not take a message: unreachable, or it answered an error."""


def signature_valid(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """``X-Line-Signature`` is base64 of HMAC-SHA256 of the raw body with the channel secret."""
    if not channel_secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature.strip())


def message(reply: Reply) -> dict[str, Any]:
    """A LINE text message, with its quick-reply buttons as postback actions."""
    text: dict[str, Any] = {"type": "text", "text": reply.text}
    if reply.choices:
        text["quickReply"] = {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": choice.label,
                        "data": choice.data,
                        "displayText": choice.label,
                    },
                }
                for choice in reply.choices
            ]
        }
    return text


class LineMessaging:
    """Sends replies and pushes with the channel's access token."""

    def __init__(self, *, base_url: str, access_token: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout_s,
        )

    async def reply(self, reply_token: str, replies: list[Reply]) -> None:
        """Answer an event (the reply token is good once, for a short while)."""
        body = {"replyToken": reply_token, "messages": [message(reply) for reply in replies]}
        await self._post("/v2/bot/message/reply", body, {})

    async def push(self, line_user_id: str, text: str, *, retry_key: uuid.UUID) -> None:
        """Push a text to a user; LINE accepts the same ``retry_key`` once, so a retry is not a second message."""
        body = {"to": line_user_id, "messages": [{"type": "text", "text": text}]}
        await self._post("/v2/bot/message/push", body, {"X-Line-Retry-Key": str(retry_key)})

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        try:
            response = await self._client.post(path, json=body, headers=headers)
        except httpx.HTTPError as failed:
            raise LineUnavailable(f"LINE {path}: {type(failed).__name__}") from failed
        # 409: a push with this retry key was already accepted, which is what a retry wants.
        if response.status_code >= 400 and response.status_code != 409:
            raise LineUnavailable(f"LINE {path} answered {response.status_code}: {response.text[:200]}")

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
