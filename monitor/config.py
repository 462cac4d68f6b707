"""spiders.yaml: the typed configuration, validated once at start-up.

Everything a user tunes lives in the YAML; secrets never do (see monitor/secrets.py).
A bad file stops start-up with one line per problem: file, line, key path, what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.errors import ConfigError
from monitor.query import parse_query

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> int:
    """'15m', '1h', '90s', '1d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 15m, 1h or a number of seconds")
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like 15m, 1h or 90s, got {value!r}")
        seconds = int(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


Duration = Annotated[int, Field(gt=0)]


class StrictModel(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandConfig(StrictModel):
    """A brand to watch: its name, other spellings, and what must not count as a hit."""

    name: str = Field(min_length=1)
    aliases: list[str] = []
    # Boolean query over the text: AND / OR / NOT, parentheses, "quoted phrases".
    # Words match in any inflected form. When set, a text must satisfy it to count.
    query: str | None = None
    # Phrases that turn a hit into a false one (e.g. "кричать в мегафон" for МегаФон).
    exclude: list[str] = []
    # For brands that are ordinary words (Магнит, Лента, Мир): a lowercase hit counts only
    # when one of these words is in the same text. A capitalised hit mid-sentence, a «quoted»
    # name, a hashtag or an @handle always counts.
    context: list[str] = []
    competitor: bool = False

    @field_validator("aliases", "exclude", "context")
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if not term.strip():
                raise ValueError("empty string in list")
        return terms

    @field_validator("query")
    @classmethod
    def _query_parses(cls, query: str | None) -> str | None:
        if query is not None:
            parse_query(query)  # ValueError names the position and what was expected
        return query

    @property
    def terms(self) -> list[str]:
        return [self.name, *self.aliases]


class SourceBase(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[\w.\-]+$")
    interval: Duration = 900
    enabled: bool = True
    # Fetch timeout and size cap for one HTTP response.
    timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=5_000_000, gt=0)

    @field_validator("interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


class RssSource(SourceBase):
    type: Literal["rss"]
    urls: list[str] = Field(min_length=1)


class TelegramSource(SourceBase):
    """Public channels read through the web preview t.me/s/<channel>: no account needed."""

    type: Literal["telegram"]
    channels: list[str] = Field(min_length=1)
    base_url: str = "https://t.me"
    max_pages: int = Field(default=5, ge=1)


class VkSource(SourceBase):
    """VK: newsfeed.search over the brand queries plus walls (and comments) of communities."""

    type: Literal["vk"]
    # Brand names whose terms are searched; empty = every brand.
    brands: list[str] = []
    # Communities to read with wall.get: screen names or -numeric ids.
    groups: list[str] = []
    with_comments: bool = True
    api_base: str = "https://api.vk.com/method"
    api_version: str = "5.199"
    max_pages: int = Field(default=5, ge=1)


class SiteFields(StrictModel):
    """CSS selectors (Scrapy/parsel syntax, ::text and ::attr(x) allowed) relative to one item."""

    text: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    rating: str | None = None
    url: str | None = None
    external_id: str | None = None


class SiteSource(SourceBase):
    """A review site or forum crawled by the generic Scrapy spider, driven by selectors."""

    type: Literal["site"]
    # A ready rule set from crawlers/sites/presets.yaml (otzovik, irecommend, banki, phpbb, xenforo);
    # anything set here overrides the preset.
    preset: str | None = None
    start_urls: list[str] = []
    # Template with {query}; expanded once per brand term.
    search_url: str | None = None
    item: str | None = None
    fields: SiteFields = SiteFields()
    # strptime format; empty means Russian free-form dates ("вчера в 14:05", "3 марта 2025").
    date_format: str | None = None
    next_page: str | None = None
    max_pages: int = Field(default=5, ge=1)
    # What one item is (review / post / comment) and the zone the site prints dates in.
    kind: str | None = None
    timezone: str | None = None
    # Review lists show newest first, so a page of known items ends the crawl; forum topics
    # are oldest first (false) and are walked up to max_pages.
    newest_first: bool | None = None
    obey_robots: bool = True
    # Scrapy's download delay in seconds; AutoThrottle adapts from there.
    delay: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _has_somewhere_to_start(self) -> SiteSource:
        if not self.start_urls and not self.search_url:
            raise ValueError("a site source needs start_urls or search_url")
        if self.search_url and "{query}" not in self.search_url:
            raise ValueError("search_url must contain {query}")
        return self


SourceConfig = Annotated[RssSource | TelegramSource | VkSource | SiteSource, Field(discriminator="type")]
SOURCE_TYPES = ("rss", "site", "telegram", "vk")

ChatId = int | str


class AlertRule(StrictModel):
    name: str = Field(min_length=1)
    # Brand names; empty = every brand that is not a competitor.
    brands: list[str] = []
    # Source names; empty = every source.
    sources: list[str] = []
    min_negative_score: float = Field(default=0.7, ge=0, le=1)
    min_reach: int = Field(default=0, ge=0)
    # Empty = alerts.telegram.chat_ids.
    chat_ids: list[ChatId] = []


class TelegramConfig(StrictModel):
    chat_ids: list[ChatId] = []
    # Fake Bot API servers in tests and the demo; TELEGRAM_API_BASE overrides it.
    api_base: str = "https://api.telegram.org"


class AlertsConfig(StrictModel):
    telegram: TelegramConfig = TelegramConfig()
    rules: list[AlertRule] = []


class SentimentConfig(StrictModel):
    # "offline": the model shipped with brandpulse; "transformers": a HF model id or local path.
    engine: Literal["offline", "transformers"] = "offline"
    model: str | None = None
    # Raw model label -> ours (negative / neutral / positive), for transformers models.
    labels: dict[str, Literal["negative", "neutral", "positive"]] = {}
    batch_size: int = Field(default=32, ge=1)
    negative_threshold: float = Field(default=0.5, ge=0, le=1)


class StorageConfig(StrictModel):
    # DATABASE_URL in the environment wins; a password never belongs here.
    url: str = "sqlite:///data/brandpulse.db"

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        if re.match(r"^[\w+]+://[^/@:]*:[^/@]+@", url):
            raise ValueError("database URL holds a password: set DATABASE_URL in the environment instead")
        return url


class Config(StrictModel):
    brands: list[BrandConfig] = Field(min_length=1)
    sources: list[SourceConfig] = []
    alerts: AlertsConfig = AlertsConfig()
    sentiment: SentimentConfig = SentimentConfig()
    storage: StorageConfig = StorageConfig()

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> Config:
        _require_unique("brands", [b.name for b in self.brands])
        _require_unique("sources", [s.name for s in self.sources])
        brand_names = {b.name for b in self.brands}
        source_names = {s.name for s in self.sources}
        for rule in self.alerts.rules:
            for name in rule.brands:
                if name not in brand_names:
                    raise ValueError(f"alert rule {rule.name!r} names unknown brand {name!r}")
            for name in rule.sources:
                if name not in source_names:
                    raise ValueError(f"alert rule {rule.name!r} names unknown source {name!r}")
        for source in self.sources:
            if isinstance(source, VkSource):
                for name in source.brands:
                    if name not in brand_names:
                        raise ValueError(f"source {source.name!r} names unknown brand {name!r}")
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")

    @property
    def own_brands(self) -> list[BrandConfig]:
        return [b for b in self.brands if not b.competitor]


def _require_unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what}: name {name!r} is used twice")
        seen.add(name)


def load_config(path: str | Path) -> Config:
    """Read and validate spiders.yaml; raise ConfigError with one line per problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(text, str(path))


def parse_config(text: str, filename: str = "spiders.yaml") -> Config:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{filename}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: expected a mapping with 'brands:' and 'sources:' at the top")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(error, root, filename) for error in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def _describe(error: Any, root: yaml.Node | None, filename: str) -> str:
    loc = [part for part in error["loc"] if not _is_union_branch(part)]
    key_path = _format_loc(loc)
    line = _line_of(root, loc)
    where = f"{filename}:{line}" if line else filename
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "union_tag_invalid":
        tag = error.get("input", {}).get("type") if isinstance(error.get("input"), dict) else None
        message = f"unknown source type {tag!r}; expected one of: {', '.join(SOURCE_TYPES)}"
    elif error["type"] == "union_tag_not_found":
        message = f"missing 'type'; expected one of: {', '.join(SOURCE_TYPES)}"
    return f"{where}: {key_path or '(top level)'}: {message}"


def _is_union_branch(part: Any) -> bool:
    # pydantic puts the chosen discriminator value into the location: drop it.
    return isinstance(part, str) and part in SOURCE_TYPES


def _format_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """Walk the composed YAML to the deepest node on the key path; 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
