"""`brandpulse bot`: answers the buttons under alerts by long polling Telegram (getUpdates).

A press of «Беру в работу» or «Не релевантно» moves the mention along the workflow (set_status in
monitor/actions.py) in the same transaction that stores the next update offset, so each press counts once
across restarts. Presses from chats that are not in spiders.yaml change nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.keyboard import BUTTONS, alert_keyboard, parse_callback
from monitor.actions import set_status
from monitor.auth import Actor
from monitor.clock import utcnow
from monitor.config import Config
from monitor.db.models import BotOffset, Mention

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30
MAX_RETRY_WAIT = 300.0


class BotApiError(Exception):
    """A Bot API call failed: network error or an answer with ok=false (the text never holds the token)."""


class BotApi:
    """Plain Bot API calls over httpx; the base URL is configurable so tests use a fake Bot API."""

    def __init__(self, token: SecretStr, api_base: str, client: httpx.Client | None = None):
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._client = client or httpx.Client(timeout=10.0)

    @property
    def bot_id(self) -> str:
        # The part before the colon names the bot; the part after is the secret.
        return self._token.get_secret_value().split(":", 1)[0]

    def call(self, method: str, payload: dict[str, Any], timeout: float = 10.0) -> Any:
        url = f"{self._api_base}/bot{self._token.get_secret_value()}/{method}"
        try:
            response = self._client.post(url, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            raise BotApiError(f"{method}: network error talking to Telegram: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("ok"):
            description = body.get("description") or response.reason_phrase
            raise BotApiError(f"{method}: Telegram {response.status_code}: {description}")
        return body.get("result")

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class ButtonPress:
    callback_id: str
    chat_id: str
    chat_username: str | None
    message_id: int | None
    user: str
    data: str | None


@dataclass(frozen=True)
class Reply:
    """What the presser sees: a short notice, and the keyboard the alert shows from now on."""

    text: str
    keyboard: dict[str, Any] | None = None


# A Telegram first name is free text; as an assignee it is shown on the dashboard, so keep it plain.
_ASSIGNEE_UNSAFE = re.compile(r"[^\w.@-]")


def parse_update(update: dict[str, Any]) -> ButtonPress | None:
    query = update.get("callback_query")
    if not isinstance(query, dict):
        return None
    message = query.get("message") or {}
    chat = message.get("chat") or {}
    sender = query.get("from") or {}
    user = sender.get("username") or sender.get("first_name") or str(sender.get("id", "?"))
    return ButtonPress(
        callback_id=str(query.get("id", "")),
        chat_id=str(chat.get("id", "")),
        chat_username=chat.get("username"),
        message_id=message.get("message_id"),
        user=_ASSIGNEE_UNSAFE.sub("", str(user))[:64] or str(sender.get("id", "?")),
        data=query.get("data"),
    )


def allowed_chat_ids(config: Config) -> set[str]:
    """Every chat spiders.yaml sends alerts to; presses from anywhere else are refused."""
    telegram = config.alerts.telegram
    chats = {str(c) for c in telegram.chat_ids} | {str(c) for c in telegram.per_chat}
    for rule in config.alerts.rules:
        chats |= {str(c) for c in rule.chat_ids}
    return chats


def apply_press(session: Session, press: ButtonPress, allowed_chats: set[str]) -> Reply:
    """Check where the press came from and what it asks; update the mention's status."""
    usernames = {f"@{press.chat_username}"} if press.chat_username else set()
    if press.chat_id not in allowed_chats and not usernames & allowed_chats:
        log.warning("button press from chat %s refused: it is not in spiders.yaml", press.chat_id)
        return Reply("Этот чат не подключён к brandpulse")
    change = parse_callback(press.data)
    if change is None:
        return Reply("Неизвестная кнопка")
    if session.get(Mention, change.mention_id) is None:
        return Reply("Упоминание не найдено: возможно, оно удалено")
    # Whoever can read an alert chat is staff there: the chat list in spiders.yaml is the access list.
    set_status(session, Actor(f"telegram:{press.user}", "staff"), [change.mention_id], change.status)
    label = dict((status, label) for label, status in BUTTONS)[change.status]
    return Reply(f"Готово: «{label}»", alert_keyboard(change.mention_id, chosen=change.status))


def poll_once(
    sessions: sessionmaker[Session], api: BotApi, allowed_chats: set[str], poll_timeout: int = POLL_TIMEOUT
) -> int:
    """One getUpdates round from the stored offset; returns how many updates were handled."""
    with sessions() as session:
        stored = session.get(BotOffset, api.bot_id)
        offset = stored.next_update_id if stored else None
    payload: dict[str, Any] = {"timeout": poll_timeout, "allowed_updates": ["callback_query"]}
    if offset is not None:
        payload["offset"] = offset
    updates = api.call("getUpdates", payload, timeout=poll_timeout + 10) or []
    for update in updates:
        press = parse_update(update)
        with sessions.begin() as session:
            reply = apply_press(session, press, allowed_chats) if press else None
            _store_offset(session, api.bot_id, int(update["update_id"]) + 1)
        if press is not None and reply is not None:
            _answer(api, press, reply)
    return len(updates)


def run_bot(
    sessions: sessionmaker[Session],
    api: BotApi,
    allowed_chats: set[str],
    stop: threading.Event,
    poll_timeout: int = POLL_TIMEOUT,
) -> None:
    """Poll until `stop` is set; Telegram or network trouble is logged and retried with backoff."""
    wait = 5.0
    while not stop.is_set():
        try:
            poll_once(sessions, api, allowed_chats, poll_timeout)
        except (BotApiError, SQLAlchemyError) as exc:
            # The offset is stored with the press's effect, so the same update comes back next time.
            log.error("bot: %s; retrying in %ds", " ".join(str(exc).split())[:300], wait)
            stop.wait(wait)
            wait = min(wait * 2, MAX_RETRY_WAIT)
        else:
            wait = 5.0


def _answer(api: BotApi, press: ButtonPress, reply: Reply) -> None:
    # The status is saved already: a failed notice is only logged.
    try:
        api.call("answerCallbackQuery", {"callback_query_id": press.callback_id, "text": reply.text})
        if reply.keyboard is not None and press.message_id is not None:
            api.call(
                "editMessageReplyMarkup",
                {"chat_id": press.chat_id, "message_id": press.message_id, "reply_markup": reply.keyboard},
            )
    except BotApiError as exc:
        log.warning("bot: could not confirm the press in chat %s: %s", press.chat_id, exc)


def _store_offset(session: Session, bot_id: str, next_update_id: int) -> None:
    row = session.get(BotOffset, bot_id)
    if row is None:
        session.add(BotOffset(bot_id=bot_id, next_update_id=next_update_id, updated_at=utcnow()))
    elif next_update_id > row.next_update_id:
        row.next_update_id, row.updated_at = next_update_id, utcnow()
