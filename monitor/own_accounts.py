"""A brand's own accounts: its posts are stored and shown, never alerted on as complaints.

`brands[].own_accounts` in spiders.yaml lists them as people copy them from the browser:
VK communities and pages (`vk.com/club123`, `public123`, `-123`, `id42`), Telegram channels
(`@vkusmarket`, `t.me/vkusmarket`) and user names on review sites and forums (`ВкусМаркет_официально`).
A link is compared with the author's page the crawler stores; a plain name with the author's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_VK = re.compile(r"^(?:https?://)?(?:m\.)?vk\.(?:com|ru)/(?P<page>[\w.]+)/?$", re.IGNORECASE)
_VK_ID = re.compile(r"^(?:(?P<kind>club|public|event|id)(?P<id>\d+)|-(?P<community>\d+))$", re.IGNORECASE)
_TELEGRAM = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?(?P<channel>\w+)/?$", re.IGNORECASE)


def account_key(value: str) -> str:
    """One comparable spelling: vk:club123, vk:id42, vk:<screen name>, tg:<channel>, name:<name>."""
    value = value.strip()
    vk = _VK.match(value)
    page = vk.group("page") if vk else value
    vk_id = _VK_ID.match(page)
    if vk_id:
        if vk_id.group("community"):
            return f"vk:club{vk_id.group('community')}"
        kind = "id" if vk_id.group("kind").lower() == "id" else "club"  # public/event pages are clubs
        return f"vk:{kind}{vk_id.group('id')}"
    if vk:
        return f"vk:{page.lower()}"
    telegram = _TELEGRAM.match(value)
    if telegram:
        return f"tg:{telegram.group('channel').lower()}"
    if value.startswith("@") and re.fullmatch(r"@\w+", value):
        return f"tg:{value[1:].lower()}"
    return f"name:{' '.join(value.split()).casefold()}"


def author_keys(author: str | None, author_url: str | None) -> set[str]:
    keys = set()
    if author_url:
        key = account_key(author_url)
        if not key.startswith("name:"):
            keys.add(key)
    if author and author.strip():
        keys.add(f"name:{' '.join(author.split()).casefold()}")
    return keys


class OwnAccounts:
    """brand -> the keys of its own accounts."""

    def __init__(self, accounts: dict[str, Iterable[str]]):
        self._keys = {brand: {account_key(a) for a in values} for brand, values in accounts.items()}

    def is_own(self, brand: str, author: str | None, author_url: str | None) -> bool:
        own = self._keys.get(brand)
        return own is not None and not own.isdisjoint(author_keys(author, author_url))
