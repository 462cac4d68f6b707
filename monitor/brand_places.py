"""Places that belong to a brand: whatever is written there is about the brand.

Customers answer under the brand's own VK posts and in its Telegram channel without naming it
(«привезли в 22:40, курьер хамил»), and a review page of the brand's shop on otzovik is about the
brand whatever each review says. Two ways to tie a place to a brand in spiders.yaml:

- `sources[].brand`: every item of that source (an otzovik/irecommend product page, a banki.ru bank
  page, a forum thread about the brand);
- `brands[].own_accounts`: the brand's VK communities and Telegram channels also tie every post and
  comment published in them (the brand's own posts there stay "own posts", never alerted on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from monitor.own_accounts import account_key

# vk.com/wall-123_456 (a community's wall) or vk.com/wall42_7 (a person's), with ?reply=… for comments.
_VK_WALL = re.compile(r"^https?://(?:m\.)?vk\.(?:com|ru)/wall(?P<owner>-?\d+)_\d+", re.IGNORECASE)
_TELEGRAM_POST = re.compile(r"^https?://(?:t\.me|telegram\.me)/(?:s/)?(?P<channel>\w+)/\d+", re.IGNORECASE)


def place_keys(url: str | None, place: str | None) -> set[str]:
    """The account keys (monitor.own_accounts) of where an item was published: from its URL and
    from the place its crawler noted (a VK community as configured, e.g. "vk:vkusmarket")."""
    keys: set[str] = set()
    wall = _VK_WALL.match(url or "")
    if wall:
        owner = int(wall.group("owner"))
        keys.add(f"vk:club{-owner}" if owner < 0 else f"vk:id{owner}")
    channel = _TELEGRAM_POST.match(url or "")
    if channel:
        keys.add(f"tg:{channel.group('channel').lower()}")
    if place and place.startswith("vk:"):
        community = place[3:]
        keys.add(account_key(community) if community.startswith("-") else f"vk:{community.lower()}")
    return keys


class BrandPlaces:
    """Which brand, if any, an item belongs to by where it was published."""

    def __init__(self, source_brands: Mapping[str, str], own_accounts: Mapping[str, Iterable[str]]):
        self._by_source = dict(source_brands)
        self._by_key: dict[str, str] = {}
        for brand, accounts in own_accounts.items():
            for account in accounts:
                key = account_key(account)
                if key.startswith(("vk:", "tg:")):  # a site user name is an author, not a place
                    self._by_key.setdefault(key, brand)

    def __bool__(self) -> bool:
        return bool(self._by_source or self._by_key)

    def brand_of(self, source: str, url: str | None, place: str | None) -> str | None:
        if source in self._by_source:
            return self._by_source[source]
        for key in sorted(place_keys(url, place)):
            if key in self._by_key:
                return self._by_key[key]
        return None
