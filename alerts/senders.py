"""Where alert messages go: the Telegram Bot API, or the console when no bot token is set."""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

import httpx
from pydantic import SecretStr


@dataclass(frozen=True)
class SendResult:
    ok: bool
    # Set when Telegram asked us to wait (429 retry_after) before trying again.
    retry_after: float | None = None
    # Set when trying again cannot help (bot blocked, chat not found): the message fails for good.
    permanent_error: str | None = None
    # Set when the sender itself is misconfigured (bad token, wrong API URL): no message can go,
    # so delivery stops and every message stays pending until the setup is fixed.
    sender_error: str | None = None
    error: str | None = None


class Sender(Protocol):
    # "sent" for a real delivery, "printed" when the message only went to the console.
    delivered_status: str
    # Outbox statuses this sender delivers: Telegram also sends what was only printed while no
    # token was set, so nothing printed is lost once the bot is configured.
    picks_up: tuple[str, ...]

    # `reply_markup`: Bot API inline keyboard (the alert's buttons); a console has none.
    def send(
        self, chat_id: str, text_html: str, reply_markup: dict[str, Any] | None = None
    ) -> SendResult: ...


class ConsoleSender:
    """No token: show the alert on the console; the outbox keeps it as 'printed'."""

    delivered_status: str = "printed"
    picks_up: tuple[str, ...] = ("pending",)

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def send(self, chat_id: str, text_html: str, reply_markup: dict[str, Any] | None = None) -> SendResult:
        plain = html.unescape(re.sub(r"<[^>]+>", "", text_html))
        print(f"── alert for chat {chat_id} ──\n{plain}\n", file=self.stream)
        return SendResult(ok=True)


class TelegramSender:
    """sendMessage over plain httpx; the base URL is configurable so tests use a fake Bot API."""

    delivered_status: str = "sent"
    picks_up: tuple[str, ...] = ("pending", "printed")

    def __init__(
        self, token: SecretStr, api_base: str, timeout: float = 10.0, client: httpx.Client | None = None
    ):
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout)

    def send(self, chat_id: str, text_html: str, reply_markup: dict[str, Any] | None = None) -> SendResult:
        url = f"{self._api_base}/bot{self._token.get_secret_value()}/sendMessage"
        payload: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text_html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        try:
            response = self._client.post(url, json=payload)
        except httpx.HTTPError as exc:
            # The URL holds the token: name only the kind of failure.
            return SendResult(ok=False, error=f"network error talking to Telegram: {type(exc).__name__}")
        return _interpret(response)

    def close(self) -> None:
        self._client.close()


def _interpret(response: httpx.Response) -> SendResult:
    try:
        body = response.json()
    except ValueError:
        body = {}
    description = str(body.get("description") or response.reason_phrase)
    if response.status_code == 200 and body.get("ok"):
        return SendResult(ok=True)
    if response.status_code == 429:
        retry_after = float((body.get("parameters") or {}).get("retry_after") or 5)
        return SendResult(ok=False, retry_after=retry_after, error=f"Telegram 429: {description}")
    if response.status_code in (401, 404):
        return SendResult(
            ok=False,
            sender_error=f"Telegram {response.status_code}: {description}: "
            "check TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE",
        )
    if response.status_code in (400, 403):
        return SendResult(ok=False, permanent_error=f"Telegram {response.status_code}: {description}")
    return SendResult(ok=False, error=f"Telegram {response.status_code}: {description}")
