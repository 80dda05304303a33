"""A stand-in for LINE's Messaging API on 127.0.0.1 that checks each request as LINE would.

The body must parse with line-bot-sdk's own request models (the independent implementation),
and hold to the limits LINE documents that those models do not check: 1 to 5 messages, text up
to 5,000 characters, at most 13 quick-reply buttons with labels up to 20 characters and data up
to 300, the channel's bearer token, JSON, and a UUID ``X-Line-Retry-Key`` on a push if any.
A request that breaks a rule gets 400 and is recorded in ``refused``.
"""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

_MODELS = {"/v2/bot/message/reply": ReplyMessageRequest, "/v2/bot/message/push": PushMessageRequest}


@dataclass
class LineStandIn:
    """What the stand-in received: accepted requests by path, and the refused ones with their reason."""

    access_token: str
    url: str = ""
    accepted: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replies(self, reply_token: str) -> list[dict[str, Any]]:
        """The messages replied with this token."""
        with self.lock:
            return [
                m for path, body, _ in self.accepted if body.get("replyToken") == reply_token for m in body["messages"]
            ]

    def pushes(self, user_id: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """(message, headers) of each push to this user."""
        with self.lock:
            return [
                (m, headers)
                for path, body, headers in self.accepted
                if path.endswith("/push") and body.get("to") == user_id
                for m in body["messages"]
            ]

    def check(self, path: str, headers: dict[str, str], raw: bytes) -> str | None:
        """Why LINE would refuse this request, or None."""
        if path not in _MODELS:
            return f"no such endpoint {path}"
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return "Authorization is not the channel access token"
        if not headers.get("content-type", "").startswith("application/json"):
            return "Content-Type is not application/json"
        if path.endswith("/push") and "x-line-retry-key" in headers:
            try:
                uuid.UUID(headers["x-line-retry-key"])
            except ValueError:
                return "X-Line-Retry-Key is not a UUID"
        try:
            _MODELS[path].from_json(raw.decode())
        except (ValueError, TypeError) as invalid:
            return f"line-bot-sdk refuses the body: {invalid}"
        return _limits(json.loads(raw))


def _limits(body: dict[str, Any]) -> str | None:
    messages = body.get("messages", [])
    if not 1 <= len(messages) <= 5:
        return "1 to 5 messages"
    for message in messages:
        if message.get("type") == "text" and not 1 <= len(message.get("text", "")) <= 5000:
            return "a text message has 1 to 5000 characters"
        items = (message.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            return "at most 13 quick-reply buttons"
        for item in items:
            action = item["action"]
            if not 1 <= len(action.get("label", "")) <= 20:
                return f"a button label has 1 to 20 characters: {action.get('label')!r}"
            if len(action.get("data", "")) > 300 or len(action.get("displayText", "")) > 300:
                return "postback data and displayText have at most 300 characters"
    return None


@contextmanager
def line_stand_in(access_token: str) -> Iterator[LineStandIn]:
    """The stand-in, serving on a free port of 127.0.0.1 until the block ends."""
    stand_in = LineStandIn(access_token)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            refusal = stand_in.check(self.path, headers, raw)
            with stand_in.lock:
                if refusal is None:
                    stand_in.accepted.append((self.path, json.loads(raw), headers))
                else:
                    stand_in.refused.append(f"{self.path}: {refusal}")
            if refusal is None:
                sent = [{"id": str(uuid.uuid4().int)[:18]} for _ in json.loads(raw)["messages"]]
                answer = json.dumps({"sentMessages": sent}).encode()
            else:
                answer = json.dumps({"message": refusal}).encode()
            self.send_response(400 if refusal else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
