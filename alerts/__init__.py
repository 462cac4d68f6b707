"""Alerts: which mentions deserve a message (rules), the message text, the outbox and the senders."""

from __future__ import annotations

import os

from alerts.senders import ConsoleSender, Sender, TelegramSender
from monitor.config import Config
from monitor.secrets import TELEGRAM_API_BASE, TELEGRAM_BOT_TOKEN, secret


def make_sender(config: Config) -> Sender:
    """Telegram when TELEGRAM_BOT_TOKEN is set, else the console (alerts stay in the outbox)."""
    token = secret(TELEGRAM_BOT_TOKEN)
    if token is None:
        return ConsoleSender()
    api_base = os.environ.get(TELEGRAM_API_BASE) or config.alerts.telegram.api_base
    return TelegramSender(token, api_base)
