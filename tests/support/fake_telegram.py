"""A fake Telegram Bot API on 127.0.0.1: records sendMessage calls and answers as told.

It also plays the bot's other side: `press()` queues a button press that getUpdates hands out
(from the offset asked for), and answerCallbackQuery / editMessageReplyMarkup calls are recorded.

As a pytest plugin (tests/conftest.py lists it): `bot`, a FakeBotApi started for the test; and
`sender_for(bot)`, the real TelegramSender pointed at it.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from pydantic import SecretStr

from alerts.senders import TelegramSender
from monitor.local_server import LocalServer, Response


@dataclass
class FakeBotApi:
    """`script` holds the sendMessage answers to give next, in order: 'ok', 429 (retry_after 3) or
    (429, seconds), 500, 403, 400, 'drop' (hang up at once) or 'hang' (hold the request for
    `hang_seconds`, longer than a sender's timeout, then hang up without answering); then 'ok'."""

    token: str = "123456:TEST-token"
    sent: list[dict[str, Any]] = field(default_factory=list)
    script: deque[Any] = field(default_factory=deque)
    calls: int = 0
    updates: list[dict[str, Any]] = field(default_factory=list)
    # The `offset` of every getUpdates call, in order.
    offsets: list[int | None] = field(default_factory=list)
    answered: list[dict[str, Any]] = field(default_factory=list)
    edited: list[dict[str, Any]] = field(default_factory=list)
    hang_seconds: float = 10.0
    # sendMessage requests held by 'hang', counted when the hold starts.
    hung: int = 0

    def __post_init__(self) -> None:
        self.server = LocalServer(routes={"/bot": self._handle})
        self._stopping = threading.Event()
        self._recorded = threading.Condition()

    def __enter__(self) -> FakeBotApi:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Held requests hang up now, so that stopping does not wait for them.
        self._stopping.set()
        self.server.stop()

    def wait_sent(self, count: int, timeout: float = 30.0) -> bool:
        """Block until `count` messages were recorded (True), or `timeout` seconds passed (False)."""
        with self._recorded:
            return self._recorded.wait_for(lambda: len(self.sent) >= count, timeout)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def _handle(self, request: BaseHTTPRequestHandler) -> Response | None:
        self.calls += 1
        if not request.path.startswith(f"/bot{self.token}/"):
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        length = int(request.headers.get("Content-Length") or 0)
        payload = json.loads(request.rfile.read(length) or b"{}")
        method = request.path.split("/")[2].split("?")[0]
        if method == "getUpdates":
            self.offsets.append(payload.get("offset"))
            offset = payload.get("offset") or 0
            return _json(200, {"ok": True, "result": [u for u in self.updates if u["update_id"] >= offset]})
        if method == "answerCallbackQuery":
            self.answered.append(payload)
            return _json(200, {"ok": True, "result": True})
        if method == "editMessageReplyMarkup":
            self.edited.append(payload)
            return _json(200, {"ok": True, "result": True})
        answer = self.script.popleft() if self.script else "ok"
        if answer == "drop":
            return None
        if answer == "hang":
            self.hung += 1
            self._stopping.wait(self.hang_seconds)
            return None
        if answer == 429 or (isinstance(answer, tuple) and answer[0] == 429):
            retry_after = answer[1] if isinstance(answer, tuple) else 3
            return _json(
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
            )
        if answer == 403:
            return _json(
                403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            )
        if answer == 400:
            return _json(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        if isinstance(answer, int):
            return _json(answer, {"ok": False, "error_code": answer, "description": "Internal Server Error"})
        with self._recorded:
            self.sent.append(payload)
            self._recorded.notify_all()
        message = {
            "message_id": len(self.sent),
            "chat": {"id": payload.get("chat_id")},
            "text": payload.get("text"),
        }
        if "reply_markup" in payload:
            message["reply_markup"] = payload["reply_markup"]
        return _json(200, {"ok": True, "result": message})

    def press(self, chat_id: int | str, message_id: int, data: str, username: str = "ivan") -> int:
        """Someone in `chat_id` presses a button with `data` under message `message_id`."""
        update_id = 1000 + len(self.updates)
        self.updates.append(
            {
                "update_id": update_id,
                "callback_query": {
                    "id": f"cq{update_id}",
                    "from": {"id": 42, "is_bot": False, "first_name": "Иван", "username": username},
                    "message": {"message_id": message_id, "chat": {"id": chat_id, "type": "supergroup"}},
                    "data": data,
                },
            }
        )
        return update_id


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def bot() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


def sender_for(bot: FakeBotApi, timeout: float = 5.0) -> TelegramSender:
    return TelegramSender(SecretStr(bot.token), bot.base_url, timeout=timeout)
