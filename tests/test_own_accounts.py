"""A brand's own accounts: recognised however the user copied the link, never alerted on."""

from __future__ import annotations

import pytest

from monitor.own_accounts import OwnAccounts, account_key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("https://vk.com/club123", "vk:club123"),
        ("vk.com/public123", "vk:club123"),
        ("-123", "vk:club123"),
        ("club123", "vk:club123"),
        ("https://m.vk.com/id42/", "vk:id42"),
        ("vk.com/VkusMarket", "vk:vkusmarket"),
        ("@VkusMarket", "tg:vkusmarket"),
        ("https://t.me/s/vkusmarket", "tg:vkusmarket"),
        ("t.me/vkusmarket", "tg:vkusmarket"),
        ("  ВкусМаркет  Официально ", "name:вкусмаркет официально"),
    ],
)
def test_every_spelling_of_an_account_reads_the_same(written, key):
    assert account_key(written) == key


def test_a_post_by_the_brand_community_is_its_own():
    own = OwnAccounts({"ВкусМаркет": ["vk.com/public123", "@vkusmarket", "ВкусМаркет_официальный"]})
    assert own.is_own("ВкусМаркет", "ВкусМаркет", "https://vk.com/club123")
    assert own.is_own("ВкусМаркет", "ВкусМаркет — канал", "https://t.me/vkusmarket")
    assert own.is_own("ВкусМаркет", "вкусмаркет_официальный", None)


def test_a_customer_or_another_brand_is_not():
    own = OwnAccounts({"ВкусМаркет": ["vk.com/club123"], "Магнит": []})
    assert not own.is_own("ВкусМаркет", "Иван Петров", "https://vk.com/id5")
    assert not own.is_own("ВкусМаркет", "ВкусМаркет", "https://vk.com/club999")  # a copycat community
    assert not own.is_own("Магнит", "ВкусМаркет", "https://vk.com/club123")
