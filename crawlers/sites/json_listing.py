"""Reading items out of a site's own list API (a preset with `format: json`), driven by SiteRules.

Some sites draw their review list in the browser from a JSON API (banki.ru: "Показать ещё" calls
/services/responses/list/ajax/?page=N); that API is what a crawler without a browser can page
through. The rules are data as for pages, with key paths instead of CSS:

    item        the path to the list of records: "data", "result.items"
    fields.*    a path inside one record ("dateCreate", "company.name", "items.0.id"), or a
                template of paths for a value built from several keys ("/response/{id}/")
    next_page   a path to the next page: a URL (followed), or true / a page number (then the
                current URL's `page` query parameter is set to the next page)
    paging      for APIs that give no next page (or not always): the page parameter's name and first
                number (sravni.ru: pageIndex from 0), and where the answer says whether more pages
                follow (has_more) or how many records there are (total, paged by the page size)

Text fields may hold HTML (<p>, <br>, &quot;): they are read like a page's text, one line per block.
"""

from __future__ import annotations

import json
import string
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from crawlers.sites.extract import build_item, node_text, normalise, parse_rating
from crawlers.sites.rules import PagingRules, SiteRules

_MISSING = object()
# Paging by the `page` parameter from 1: what an API without `paging` settings gets.
DEFAULT_PAGING = PagingRules()


class NotJson(ValueError):
    """The answer is not JSON at all (an HTML error page, a captcha)."""


class NoList(LookupError):
    """The JSON has no list where `item` points (the API changed)."""


def parse_json(body: str) -> Any:
    """The decoded answer; NotJson (with how the answer starts) when it is something else."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        start = " ".join(body[:60].split())
        raise NotJson(f"not JSON ({exc.msg} at character {exc.pos}; it starts {start!r})") from None


def records_at(data: Any, path: str) -> list[Any]:
    """The list of records at `path`; NoList saying what is there instead."""
    records = value_at(data, path)
    if not isinstance(records, list):
        found = "nothing" if records is _MISSING else type(records).__name__
        raise NoList(f"no list at {path!r} in the JSON (found {found})")
    return records


def read_record(
    record: Any, rules: SiteRules, page_url: str, now: datetime, zone: Any
) -> dict[str, Any] | None:
    fields = rules.fields
    rating = field_text(record, fields.rating)
    return build_item(
        rules,
        page_url,
        now,
        zone,
        text=html_text(field_text(record, fields.text)),
        title=html_text(field_text(record, fields.title)),
        author=field_text(record, fields.author),
        date_text=field_text(record, fields.date),
        rating=parse_rating(rating),
        href=field_text(record, fields.url),
        external_id=field_text(record, fields.external_id),
    )


def next_page_url(
    data: Any,
    path: str | None,
    page_url: str,
    paging: PagingRules = DEFAULT_PAGING,
    records: int | None = None,
) -> str | None:
    """Where the next page is. The value at `path` first: a URL, true / a page number (the page
    parameter), or false / null (the last page). When the answer has no such key: `paging.has_more`,
    then `paging.total` against the pages read so far (`records`: how many this page held)."""
    value = value_at(data, path) if path else _MISSING
    if value is not _MISSING:
        return _next_from_value(value, page_url, paging)
    if paging.has_more:
        flag = value_at(data, paging.has_more)
        if isinstance(flag, bool):
            return with_page(page_url, current_page(page_url, paging) + 1, paging) if flag else None
    if paging.total:
        return _next_from_total(value_at(data, paging.total), page_url, paging, records)
    return None


def _next_from_value(value: Any, page_url: str, paging: PagingRules) -> str | None:
    if isinstance(value, str) and value.strip():
        return urljoin(page_url, value.strip())
    current = current_page(page_url, paging)
    if value is True:
        return with_page(page_url, current + 1, paging)
    if isinstance(value, int) and not isinstance(value, bool) and value > current:
        return with_page(page_url, value, paging)
    return None


def _next_from_total(total: Any, page_url: str, paging: PagingRules, records: int | None) -> str | None:
    """The next page while the pages read so far hold fewer records than `total`."""
    if isinstance(total, str) and total.strip().isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or not records:
        return None  # no count, or an empty page: nothing says more follow
    size = page_size(page_url, paging) or records
    current = current_page(page_url, paging)
    pages_read = current - paging.first_page + 1
    return with_page(page_url, current + 1, paging) if pages_read * size < total else None


def value_at(data: Any, path: str) -> Any:
    """data["a"]["b"] for "a.b" (a number picks from a list); _MISSING when any step is absent."""
    for key in path.split("."):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return _MISSING
    return data


def field_text(record: Any, spec: str | None) -> str | None:
    """The value at a key path as text, or the template filled in; None when absent or empty."""
    if not spec:
        return None
    parts = list(string.Formatter().parse(spec))
    if all(name is None for _, name, _, _ in parts):
        return _as_text(value_at(record, spec))
    filled = []
    for literal, name, _, _ in parts:
        filled.append(literal)
        if name is not None:
            value = _as_text(value_at(record, name))
            if value is None:
                return None  # "/response/{id}/" without an id is no URL at all
            filled.append(value)
    return "".join(filled)


def html_text(value: str | None) -> str | None:
    """Text that may be HTML, one line per block or <br>; plain text only has its spaces tidied."""
    if not value:
        return None
    if "<" not in value and "&" not in value:
        return normalise(value) or None
    body = Selector(text=f"<div>{value}</div>").css("body > div")
    return (node_text(body[0]) if body else normalise(value)) or None


def current_page(url: str, paging: PagingRules = DEFAULT_PAGING) -> int:
    value = dict(parse_qsl(urlsplit(url).query)).get(paging.page_param, "")
    return int(value) if value.isdigit() else paging.first_page


def page_size(url: str, paging: PagingRules) -> int | None:
    """The page size the URL asks for (paging.size_param), else the configured one."""
    if paging.size_param:
        value = dict(parse_qsl(urlsplit(url).query)).get(paging.size_param, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return paging.page_size


def with_page(url: str, page: int, paging: PagingRules = DEFAULT_PAGING) -> str:
    parts = urlsplit(url)
    name = paging.page_param
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != name]
    query.append((name, str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _as_text(value: Any) -> str | None:
    if value is _MISSING or value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None
