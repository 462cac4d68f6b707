"""Reading one item out of a page: pure functions over parsel selectors, driven by SiteRules.

Selectors may list comma-separated alternatives; the first one that matches anything wins. Text keeps
one line per block element or <br>, whatever the line breaks in the HTML source. `build_item` turns
the raw values into the item dict; JSON listings (crawlers/sites/json_listing.py) use it too.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from parsel import Selector, SelectorList

from crawlers.sites.date_formats import parse_with_format
from crawlers.sites.dates import parse_date
from crawlers.sites.rules import SiteRules, counted, selector_alternatives

_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 header "
    "hr li main nav ol p pre section table tbody td th tr ul".split()
)
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# "::attr(data-author)" alone: the item's own attribute. As CSS it would also collect the attribute
# from every descendant (a XenForo 1 quote block carries the quoted member's data-author).
_OWN_ATTRIBUTE = re.compile(r"^::attr\(\s*([A-Za-z_][\w.:-]*)\s*\)$")


def matches(node: Selector | SelectorList[Selector], alternative: str) -> SelectorList[Selector]:
    """What one selector alternative matches in `node` (see _OWN_ATTRIBUTE)."""
    own = _OWN_ATTRIBUTE.match(alternative)
    if own and isinstance(node, Selector):
        return node.xpath(f"@{own.group(1)}")
    return node.css(alternative)


def select(node: Selector | SelectorList[Selector], selector: str) -> SelectorList[Selector]:
    """The matches of the first comma-separated alternative that matches anything."""
    for alternative in selector_alternatives(selector):
        found = matches(node, alternative)
        if found:
            return found
    return SelectorList([])


def first_value(node: Selector, selector: str | None) -> str | None:
    """The first non-empty value (attribute, text node or element text) of the first alternative with one."""
    if not selector:
        return None
    for alternative in selector_alternatives(selector):
        for match in matches(node, alternative):
            value = single_line(node_text(match))
            if value:
                return value
    return None


def text_value(node: Selector, selector: str | None) -> str | None:
    """All matches of the first alternative with any text, joined: elements by line, text nodes by space."""
    if not selector:
        return None
    for alternative in selector_alternatives(selector):
        found = matches(node, alternative)
        if not found:
            continue
        if all(isinstance(match.root, str) for match in found):
            text = " ".join(" ".join(str(match.root) for match in found).split())
        else:
            text = normalise("\n".join(node_text(match) for match in found))
        if text:
            return text
    return None


def node_text(match: Selector) -> str:
    """An attribute or text node as is; an element's text with line breaks where blocks and <br> are."""
    root = match.root
    if isinstance(root, str):
        return root
    parts: list[str] = []
    _walk(root, parts)
    return normalise("".join(parts))


def _walk(element: Any, parts: list[str]) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else None
    if tag is None or tag in _SKIPPED_TAGS:
        return  # comments, processing instructions, scripts
    block = tag in _BLOCK_TAGS
    if block or tag == "br":
        parts.append("\n")
    if element.text:
        parts.append(_spaces(element.text))
    for child in element:
        _walk(child, parts)
        if child.tail:
            parts.append(_spaces(child.tail))
    if block:
        parts.append("\n")


def _spaces(text: str) -> str:
    # Line breaks in HTML source mean nothing: only tags make lines.
    return re.sub(r"\s+", " ", text)


def normalise(text: str) -> str:
    """One line per block or <br>: spaces collapsed within lines, empty lines dropped."""
    return "\n".join(line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line)


def single_line(text: str | None) -> str:
    return " ".join((text or "").split())


def parse_rating(value: str | None) -> float | None:
    """The first number in the value: "4", "4,5", "Оценка: 4 из 5", "starsRating-4"."""
    if not value:
        return None
    match = _NUMBER.search(value)
    return float(match.group().replace(",", ".")) if match else None


def rating_value(node: Selector, selector: str | None) -> float | None:
    """The first alternative with a value: a number read from text or an attribute, or, for
    '.stars .on::count', how many elements match (stars drawn as icons, none lit = no rating)."""
    if not selector:
        return None
    for alternative in selector_alternatives(selector):
        css = counted(alternative)
        if css is not None:
            lit = len(matches(node, css))
            if lit:
                return float(lit)
            continue
        rating = parse_rating(first_value(node, alternative))
        if rating is not None:
            return rating
    return None


def extract_item(
    node: Selector, rules: SiteRules, page_url: str, now: datetime, zone: Any, base_url: str | None = None
) -> dict[str, Any] | None:
    """One item as a JSON-able dict, or None when it has no text. `base_url`: what relative links are
    relative to when the page says (<base href>, as XenForo 1 pages do); else the page's URL."""
    fields = rules.fields
    return build_item(
        rules,
        page_url,
        now,
        zone,
        base_url=base_url,
        text=text_value(node, fields.text),
        title=text_value(node, fields.title),
        author=text_value(node, fields.author),
        date_text=text_value(node, fields.date),
        rating=rating_value(node, fields.rating),
        href=first_value(node, fields.url),
        external_id=first_value(node, fields.external_id),
    )


def build_item(
    rules: SiteRules,
    page_url: str,
    now: datetime,
    zone: Any,
    *,
    text: str | None,
    title: str | None,
    author: str | None,
    date_text: str | None,
    rating: float | None,
    href: str | None,
    external_id: str | None,
    base_url: str | None = None,
) -> dict[str, Any] | None:
    """The item dict from the values read off one item; None when it has no text."""
    if not text:
        return None
    author = single_line(author) or None
    date_text = single_line(date_text) or None
    published = parse_with_format(date_text, rules.date_format, zone) if rules.date_format else None
    if published is None:
        published = parse_date(date_text, now=now, timezone=zone, date_format=rules.date_format)
    url = _urljoin(base_url or page_url, href) if href else None
    return {
        "external_id": external_id or url or content_hash(author, date_text, text),
        "url": url or page_url,
        "text": text,
        "title": single_line(title) or None,
        "author": author,
        "published_at": published.isoformat() if published else None,
        "date_text": date_text,
        "rating": rating,
        "page_url": page_url,
    }


def content_hash(author: str | None, date_text: str | None, text: str) -> str:
    digest = hashlib.sha1("\x1f".join((author or "", date_text or "", text)).encode("utf-8")).hexdigest()
    return f"sha1:{digest[:24]}"


def _urljoin(base: str, href: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, href.strip())
