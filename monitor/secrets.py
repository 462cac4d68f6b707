"""Secrets come from the environment only, wrapped so they never print or log."""

from __future__ import annotations

import os

from pydantic import SecretStr

VK_TOKEN = "VK_TOKEN"
TELEGRAM_BOT_TOKEN = "TELEGRAM_BOT_TOKEN"
TELEGRAM_API_BASE = "TELEGRAM_API_BASE"


def secret(name: str) -> SecretStr | None:
    value = os.environ.get(name, "").strip()
    return SecretStr(value) if value else None


def mask_url_password(url: str) -> str:
    """postgresql://user:pw@host/db -> postgresql://user:***@host/db, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, at, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}{at}{host}"
