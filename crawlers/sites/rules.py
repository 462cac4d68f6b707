"""The rules one site crawl follows: a SiteSource from spiders.yaml merged over its preset.

`resolve_rules` is the edge where a site's configuration is checked: an unknown preset, a missing
item or text selector, or a selector that is not valid CSS is a ConfigError naming the source and
the key, raised before any request is made. What comes out is plain, typed, JSON-able data that the
crawl subprocess receives on stdin.

A preset or source with `format: json` reads a site's own list API instead of its pages: `item`,
the fields and `paging.total` / `paging.has_more` are then key paths into the JSON (see
crawlers/sites/json_listing.py), not CSS. `date_format` is checked as a strptime format.
"""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml
from cssselect import SelectorError
from parsel.csstranslator import HTMLTranslator

from crawlers.sites.date_formats import check_format
from crawlers.sites.dates import DEFAULT_TIMEZONE, timezone_named
from monitor.config import BrandConfig, SiteFields, SitePaging, SiteSource
from monitor.errors import ConfigError

FIELD_NAMES = tuple(SiteFields.model_fields)
# Keys a preset in presets.yaml may set. `kind` is the RawItem kind (review, post, comment...);
# `timezone` is the zone the site prints its dates in; `newest_first: false` for listings that put
# the oldest first (forum topics), where a page of known items says nothing about the next page.
PRESET_KEYS = (
    "item",
    "fields",
    "next_page",
    "date_format",
    "kind",
    "timezone",
    "newest_first",
    "format",
    "paging",
)
FORMATS = ("html", "json")
PAGING_KEYS = tuple(SitePaging.model_fields)
# `fields.rating: ".stars .on::count"`: the number of matching elements (stars drawn as icons).
COUNT_SUFFIX = "::count"
_ALTERNATIVE_SPLIT = re.compile(r",(?![^\[\(]*[\]\)])")


@dataclass(frozen=True)
class FieldRules:
    """CSS selectors relative to one item; see SiteFields. None = the page does not show it."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    rating: str | None = None
    url: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class PagingRules:
    """How a list API pages when next_page alone cannot say; see SitePaging in monitor/config.py."""

    page_param: str = "page"
    first_page: int = 1
    size_param: str | None = None
    page_size: int | None = None
    total: str | None = None
    has_more: str | None = None


@dataclass(frozen=True)
class SiteRules:
    source: str
    start_urls: tuple[str, ...]
    item: str
    fields: FieldRules
    next_page: str | None = None
    max_pages: int = 5
    date_format: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    kind: str = "post"
    newest_first: bool = True
    obey_robots: bool = True
    delay: float = 1.0
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    preset: str | None = None
    # "html": CSS selectors over pages; "json": key paths over a list API's answers.
    format: str = "html"
    paging: PagingRules = PagingRules()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start_urls"] = list(self.start_urls)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteRules:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["fields"] = FieldRules(**values["fields"])
        values["paging"] = PagingRules(**(values.get("paging") or {}))
        values["start_urls"] = tuple(values["start_urls"])
        return cls(**values)


def preset_names() -> list[str]:
    return sorted(_presets())


def resolve_rules(source: SiteSource, brands: list[BrandConfig]) -> SiteRules:
    """Merge `source` over its preset, expand search_url per brand term and validate the result."""
    base: dict[str, Any] = {}
    if source.preset:
        presets = _presets()
        if source.preset not in presets:
            known = ", ".join(sorted(presets)) or "none"
            raise ConfigError(f"source {source.name!r}: unknown preset {source.preset!r} (known: {known})")
        base = presets[source.preset]

    merged_fields = dict(base.get("fields") or {})
    for name in FIELD_NAMES:
        value = getattr(source.fields, name)
        # A key written in spiders.yaml wins, even as null: that is how a preset's selector is dropped.
        if value is not None or name in source.fields.model_fields_set:
            merged_fields[name] = value

    def pick(key: str) -> Any:
        value = getattr(source, key)
        if value is not None or key in source.model_fields_set:
            return value
        return base.get(key)

    item = pick("item")
    if not item:
        raise ConfigError(
            f"source {source.name!r}: 'item' is not set (no item selector in the source or its preset)"
        )
    if not merged_fields.get("text"):
        raise ConfigError(
            f"source {source.name!r}: 'fields.text' is not set (no text selector in the source or its preset)"
        )
    next_page = pick("next_page")
    page_format = _format(source, base)
    paging = _paging(source, base, page_format)
    check = _check_key_path if page_format == "json" else _check_selector
    check(source.name, "item", item)
    if next_page:
        check(source.name, "next_page", next_page)
    for name, selector in merged_fields.items():
        if selector:
            check(source.name, f"fields.{name}", selector)
    for key in ("total", "has_more"):
        if getattr(paging, key):
            _check_key_path(source.name, f"paging.{key}", getattr(paging, key))
    date_format = pick("date_format") or None
    if date_format:
        try:
            check_format(date_format)
        except ValueError as exc:
            raise ConfigError(f"source {source.name!r}: date_format: {exc}") from None
    timezone = pick("timezone") or DEFAULT_TIMEZONE
    try:
        timezone_named(timezone)
    except ValueError as exc:
        raise ConfigError(f"source {source.name!r}: timezone: {exc}") from None
    newest_first = pick("newest_first")

    return SiteRules(
        source=source.name,
        start_urls=tuple(expand_start_urls(source, brands)),
        item=item,
        fields=FieldRules(
            text=merged_fields["text"], **{n: merged_fields.get(n) for n in FIELD_NAMES if n != "text"}
        ),
        next_page=next_page or None,
        max_pages=source.max_pages,
        date_format=date_format,
        timezone=timezone,
        kind=pick("kind") or "post",
        newest_first=True if newest_first is None else bool(newest_first),
        obey_robots=source.obey_robots,
        delay=source.delay,
        timeout=source.timeout,
        max_bytes=source.max_bytes,
        preset=source.preset,
        format=page_format,
        paging=paging,
    )


def _format(source: SiteSource, preset: dict[str, Any]) -> str:
    """The source's format, else its preset's, else html; a preset's fields are written for its own
    format, so the source may not switch it."""
    preset_format = preset.get("format")
    if preset_format is not None and preset_format not in FORMATS:
        raise ConfigError(
            f"source {source.name!r}: preset {source.preset!r}: format {preset_format!r} is not one of "
            f"{', '.join(FORMATS)}"
        )
    if source.format and source.preset and source.format != (preset_format or "html"):
        raise ConfigError(
            f"source {source.name!r}: format {source.format!r} does not fit preset {source.preset!r}, "
            f"whose selectors are for {preset_format or 'html'}; drop the preset or the format"
        )
    return source.format or preset_format or "html"


def _paging(source: SiteSource, preset: dict[str, Any], page_format: str) -> PagingRules:
    """The preset's paging with the keys the source sets over it."""
    merged = dict(preset.get("paging") or {})
    unknown = sorted(set(merged) - set(PAGING_KEYS))
    if unknown:
        raise ConfigError(
            f"source {source.name!r}: preset {source.preset!r}: unknown paging key {unknown[0]!r}"
        )
    if source.paging is not None:
        if page_format != "json":
            raise ConfigError(
                f"source {source.name!r}: paging is for list APIs (format: json); an HTML site pages "
                "with next_page"
            )
        merged.update({key: getattr(source.paging, key) for key in source.paging.model_fields_set})
    return PagingRules(**merged)


def expand_start_urls(source: SiteSource, brands: list[BrandConfig]) -> list[str]:
    """start_urls, then search_url once per brand term (name and aliases), URL-encoded; no repeats."""
    urls = list(source.start_urls)
    if source.search_url:
        for brand in brands:
            for term in brand.terms:
                urls.append(source.search_url.replace("{query}", quote(term.strip(), safe="")))
    return list(dict.fromkeys(urls))


def selector_alternatives(selector: str) -> list[str]:
    """'a.title::text, h3::text' -> ['a.title::text', 'h3::text']: fallbacks, the first that matches wins.

    Commas inside [attr='a, b'] or :is(a, b) do not split.
    """
    return [part.strip() for part in _ALTERNATIVE_SPLIT.split(selector) if part.strip()]


def counted(alternative: str) -> str | None:
    """'.stars .on::count' -> '.stars .on' (count the matches); None for an ordinary selector."""
    if alternative.endswith(COUNT_SUFFIX):
        return alternative.removesuffix(COUNT_SUFFIX).strip()
    return None


def _check_selector(source: str, key: str, selector: str) -> None:
    translator = HTMLTranslator()
    for alternative in selector_alternatives(selector):
        css = counted(alternative)
        if css is not None:
            if key != "fields.rating":
                raise ConfigError(
                    f"source {source!r}: {key}: {COUNT_SUFFIX} counts stars and is only for fields.rating"
                )
            alternative = css
        try:
            translator.css_to_xpath(alternative)
        except SelectorError as exc:
            raise ConfigError(
                f"source {source!r}: {key}: not a valid CSS selector {alternative!r}: {exc}"
            ) from None


def _check_key_path(source: str, key: str, path: str) -> None:
    """A JSON key path ("data", "company.name") or a template of them ("/response/{id}/")."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(path) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"source {source!r}: {key}: not a key path or template {path!r}: {exc}") from None
    for name in names or [path]:
        if not name.strip() or any(not part for part in name.split(".")):
            raise ConfigError(f"source {source!r}: {key}: empty key in {path!r}")


@cache
def _presets() -> dict[str, dict[str, Any]]:
    text = resources.files("crawlers.sites").joinpath("presets.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError("crawlers/sites/presets.yaml: expected a mapping of preset name -> rules")
    for name, preset in data.items():
        if not isinstance(preset, dict):
            raise ConfigError(f"crawlers/sites/presets.yaml: preset {name!r}: expected a mapping")
        for key in preset:
            if key not in PRESET_KEYS:
                raise ConfigError(f"crawlers/sites/presets.yaml: preset {name!r}: unknown key {key!r}")
        for key in preset.get("fields") or {}:
            if key not in FIELD_NAMES:
                raise ConfigError(f"crawlers/sites/presets.yaml: preset {name!r}: unknown field {key!r}")
    return data
