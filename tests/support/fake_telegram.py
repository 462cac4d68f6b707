"""A fake Telegram Bot API on 127.0.0.1: records sendMessage calls and answers as told."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from monitor.local_server import LocalServer, Response


@dataclass
class FakeBotApi:
    """`script` holds the answers to give next, in order ('ok', 429, 500, 403, 'drop'); then 'ok'."""

    token: str = "123456:TEST-token"
    sent: list[dict[str, Any]] = field(default_factory=list)
    script: deque[Any] = field(default_factory=deque)
    calls: int = 0

    def __post_init__(self) -> None:
        self.server = LocalServer(routes={"/bot": self._handle})

    def __enter__(self) -> FakeBotApi:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def _handle(self, request: BaseHTTPRequestHandler) -> Response | None:
        self.calls += 1
        if not request.path.startswith(f"/bot{self.token}/"):
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        length = int(request.headers.get("Content-Length") or 0)
        payload = json.loads(request.rfile.read(length) or b"{}")
        answer = self.script.popleft() if self.script else "ok"
        if answer == "drop":
            return None
        if answer == 429:
            return _json(
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3},
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
        self.sent.append(payload)
        message = {
            "message_id": len(self.sent),
            "chat": {"id": payload.get("chat_id")},
            "text": payload.get("text"),
        }
        return _json(200, {"ok": True, "result": message})


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, json.dumps(body).encode(), {"Content-Type": "application/json"})
