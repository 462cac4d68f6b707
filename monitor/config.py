"""spiders.yaml: the typed configuration, validated once at start-up.

Everything a user tunes lives in the YAML; secrets never do (see monitor/secrets.py).
A bad file stops start-up with one line per problem: file, line, key path, what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.categories import categories, category_names
from monitor.errors import ConfigError
from monitor.query import parse_query

if TYPE_CHECKING:
    from monitor.brand_sense import SenseModel

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


# Upper bounds are sanity, not policy: a year between crawls, a gigabyte a page, ten thousand pages.
# `max_pages: 1e20` or `timeout: .inf` is a typo that would otherwise run (or hang) for ever.
YEAR = 366 * 24 * 3600
Duration = Annotated[int, Field(gt=0, le=YEAR)]


class StrictModel(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class BrandConfig(StrictModel):
    """A brand to watch: its name, other spellings, and what must not count as a hit."""

    name: str = Field(min_length=1, max_length=200)  # the width of the brand columns
    aliases: list[str] = []
    # Boolean query over the text: AND / OR / NOT, parentheses, "quoted phrases".
    # Words match in any inflected form. When set, a text must satisfy it to count.
    query: str | None = None
    # Phrases that turn a hit into a false one (e.g. "кричать в мегафон" for МегаФон).
    exclude: list[str] = []
    # For brands that are ordinary words (Магнит, Лента, Мир): a lowercase hit counts only
    # when one of these words is in the same text, and so does a bare #hashtag of the word. A
    # capitalised hit mid-sentence, a «quoted» name (not another thing's: «Мир фантастики»,
    # кинотеатр «Перекрёсток») or an @handle always counts.
    context: list[str] = []
    # A trade from monitor/categories.yaml (bank, telecom, grocery…): its topical words count as
    # `context` too, and its everyday senses of common names («на ленту») as `exclude`.
    category: str | None = None
    # Words of another sense of the brand's abbreviation (МТС: колхоз, трактор): a text holding more
    # of them than of the brand's trade uses the abbreviation in that sense throughout. Well-known
    # abbreviations have theirs built in (monitor/other_senses.yaml).
    other_senses: list[str] = []
    competitor: bool = False
    # The brand's own accounts (vk.com/club123, @channel, t.me/channel, a site user name): their
    # posts are stored and shown, never alerted on as complaints.
    own_accounts: list[str] = []
    # The learned brand-or-word decision's bar for this brand (matching.model): higher = fewer,
    # surer mentions. Empty = the one the model was trained with (0.4).
    sense_threshold: float | None = Field(default=None, ge=0, le=1)

    @field_validator("aliases", "exclude", "context", "other_senses", "own_accounts")
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if not term.strip():
                raise ValueError("empty string in list")
        return terms

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str | None) -> str | None:
        if category is not None and category not in categories():
            raise ValueError(f"unknown category {category!r}; expected one of: {', '.join(category_names())}")
        return category

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
    timeout: float = Field(default=20.0, gt=0, le=600)
    max_bytes: int = Field(default=5_000_000, gt=0, le=1_000_000_000)
    # A source that is about one brand (its otzovik page, its banki.ru page, a forum thread about
    # it): every item is a mention of that brand, named or not (monitor/brand_places.py).
    brand: str | None = Field(default=None, min_length=1)
    # What people read instead of the key (inbox, filters, health page, exports, reports); the
    # key stays what commands and alert rules name.
    display_name: str | None = Field(default=None, min_length=1, max_length=200)

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
    max_pages: int = Field(default=5, ge=1, le=10_000)


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
    max_pages: int = Field(default=5, ge=1, le=10_000)


class SiteFields(StrictModel):
    """CSS selectors (Scrapy/parsel syntax, ::text and ::attr(x) allowed) relative to one item."""

    text: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    rating: str | None = None
    url: str | None = None
    external_id: str | None = None


class SitePaging(StrictModel):
    """How a list API (format: json) pages, for APIs that give no next-page URL: the page number is
    a query parameter, and the answer says whether more pages follow or how many records there are."""

    # The query parameter holding the page number ("page", sravni.ru's "pageIndex") and the first
    # page's number (0 for APIs that count from zero).
    page_param: str = Field(default="page", min_length=1)
    first_page: int = Field(default=1, ge=0, le=1)
    # The query parameter holding the page size ("pageSize", "limit"), read from the URL; page_size
    # when the URL does not carry one (else: the number of records on the page just read).
    size_param: str | None = None
    page_size: int | None = Field(default=None, ge=1, le=1000)
    # Key paths into the answer: the number of records in all ("total", "meta.totalCount") and a
    # flag that more pages follow ("hasMorePages"). next_page, when it holds a value, wins over both.
    total: str | None = None
    has_more: str | None = None


class SiteSource(SourceBase):
    """A review site or forum crawled by the generic Scrapy spider, driven by selectors."""

    type: Literal["site"]
    # A ready rule set from crawlers/sites/presets.yaml (otzovik, irecommend, banki, banki_api, phpbb,
    # xenforo); anything set here overrides the preset.
    preset: str | None = None
    start_urls: list[str] = []
    # Template with {query}; expanded once per brand term.
    search_url: str | None = None
    item: str | None = None
    fields: SiteFields = SiteFields()
    # strptime format; %b / %B also read Russian month names ("10-Апр-26 12:55": "%d-%b-%y %H:%M").
    # Empty means Russian free-form dates ("вчера в 14:05", "3 марта 2025").
    date_format: str | None = None
    next_page: str | None = None
    # "html" (CSS selectors over pages) or "json" (key paths over a list API's answers); default:
    # the preset's, else html.
    format: Literal["html", "json"] | None = None
    # How a list API pages when next_page alone cannot say (format: json).
    paging: SitePaging | None = None
    max_pages: int = Field(default=5, ge=1, le=10_000)
    # What one item is (review / post / comment) and the zone the site prints dates in.
    kind: str | None = None
    timezone: str | None = None
    # Review lists show newest first, so a page of known items ends the crawl; forum topics
    # are oldest first (false) and are walked up to max_pages.
    newest_first: bool | None = None
    obey_robots: bool = True
    # Scrapy's download delay in seconds; AutoThrottle adapts from there.
    delay: float = Field(default=1.0, ge=0, le=3600)
    # Crawled by `brandpulse worker` processes sharing a Redis queue (see `distributed:`);
    # `crawl` and `run` then only queue its start pages for them.
    distributed: bool = False

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
    # At most 200 characters: the outbox's `rule` column.
    name: str = Field(min_length=1, max_length=200)
    # Brand names; empty = every brand that is not a competitor.
    brands: list[str] = []
    # Source names; empty = every source.
    sources: list[str] = []
    min_negative_score: float = Field(default=0.7, ge=0, le=1)
    min_reach: int = Field(default=0, ge=0, le=10**10)
    # Likes + reposts + comments the post must have (when the source tells them).
    min_engagement: int = Field(default=0, ge=0, le=10**9)
    # Empty = alerts.telegram.chat_ids.
    chat_ids: list[ChatId] = []
    # Spike alerts (alerts/spikes.py): an hour's volume far above the same hour on earlier days.
    spikes: bool = False
    spike_metrics: list[Literal["negative", "total"]] = Field(default=["negative", "total"], min_length=1)
    # Fewer mentions than this in an hour is never a spike.
    spike_min_count: int = Field(default=5, ge=1, le=10**6)
    # After a spike alert for a brand, this rule stays quiet about that brand for this long.
    spike_cooldown: Duration = 6 * 3600
    # Days of the same hour that make the baseline, and how many are needed before any alert.
    spike_baseline_days: int = Field(default=14, ge=1, le=90)
    spike_min_history_days: int = Field(default=3, ge=1, le=90)

    @field_validator("spike_cooldown", mode="before")
    @classmethod
    def _cooldown_duration(cls, value: Any) -> int:
        return parse_duration(value)

    @model_validator(mode="after")
    def _history_fits_the_window(self) -> AlertRule:
        if self.spike_min_history_days > self.spike_baseline_days:
            raise ValueError("spike_min_history_days cannot exceed spike_baseline_days")
        return self


_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _duration_or_off(value: Any) -> int:
    """A duration, or 0 / "0" / "off" for a feature that is turned off."""
    if value is False or str(value).strip().lower() in ("0", "0s", "off"):
        return 0
    return parse_duration(value)


class QuietHours(StrictModel):
    """A nightly pause for a chat: negative alerts wait (never dropped) and come as one digest after it."""

    # Local times HH:MM in `timezone`; a start later than the end spans midnight (23:00 → 08:00).
    start: str
    end: str
    timezone: str = "Europe/Moscow"
    # Urgent alerts (reach ≥ 10,000) go out at once even in quiet hours.
    urgent_bypass: bool = False

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _HH_MM.match(value):
            raise ValueError(f"expected a time of day like 23:00, got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}; expected a name like Europe/Moscow") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")
        return self


class ChatAlertSettings(StrictModel):
    """Per-chat overrides of the alert-fatigue settings in `alerts.telegram`; unset = inherited."""

    batch_over: int | None = Field(default=None, ge=1, le=10_000)
    batch_window: int | None = Field(default=None, gt=0, le=YEAR)
    batch_max_messages: int | None = Field(default=None, ge=1, le=20)
    cooldown: int | None = Field(default=None, ge=0, le=YEAR)
    quiet_hours: QuietHours | None = None
    # `quiet_hours: off` in an override turns inherited quiet hours off for this chat.
    quiet_hours_off: bool = False

    @field_validator("batch_window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> int | None:
        return None if value is None else parse_duration(value)

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: Any) -> int | None:
        return None if value is None else _duration_or_off(value)


# The shortest telegram.claim_lease: longer than the longest wait for Telegram's rate limits (60 s).
MIN_CLAIM_LEASE = 120


class TelegramConfig(StrictModel):
    chat_ids: list[ChatId] = []
    # Fake Bot API servers in tests and the demo; TELEGRAM_API_BASE overrides it.
    api_base: str = "https://api.telegram.org"
    # Alert fatigue (alerts/fatigue.py): more than `batch_over` negative alerts to one chat within
    # `batch_window` and the rest arrive folded into a digest of at most `batch_max_messages` messages.
    batch_over: int = Field(default=5, ge=1, le=10_000)
    batch_window: Duration = 600
    batch_max_messages: int = Field(default=3, ge=1, le=20)
    # After a negative alert about a brand, more about that brand in the chat wait this long and come
    # as one digest; 0 = off.
    cooldown: int = Field(default=0, ge=0, le=YEAR)
    quiet_hours: QuietHours | None = None
    # Overrides per chat id (the keys): any of the settings above.
    per_chat: dict[ChatId, ChatAlertSettings] = {}
    # «Беру в работу» / «Не релевантно» buttons under negative alerts; `brandpulse bot` answers them.
    buttons: bool = True
    # A sender that claimed an alert and died before marking it: another sender retries it after this.
    # At least MIN_CLAIM_LEASE: a sender may wait out Telegram's rate limits (up to a minute) while
    # holding its claims.
    claim_lease: Duration = 300

    @field_validator("batch_window", "claim_lease", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)

    @field_validator("claim_lease")
    @classmethod
    def _long_enough_lease(cls, value: int) -> int:
        if value < MIN_CLAIM_LEASE:
            raise ValueError(f"must be at least {MIN_CLAIM_LEASE} s (2m), got {value} s")
        return value

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: Any) -> int:
        return _duration_or_off(value)

    @field_validator("per_chat", mode="before")
    @classmethod
    def _quiet_hours_off(cls, value: Any) -> Any:
        # `quiet_hours: off` (YAML false) in an override means "none for this chat".
        if isinstance(value, dict):
            value = {
                chat: (
                    {**{k: v for k, v in settings.items() if k != "quiet_hours"}, "quiet_hours_off": True}
                    if isinstance(settings, dict) and settings.get("quiet_hours") is False
                    else settings
                )
                for chat, settings in value.items()
            }
        return value


_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestConfig(StrictModel):
    """A daily or weekly summary (alerts/digests.py) sent to some chats at a local time."""

    kind: Literal["daily", "weekly"]
    # Local time of day to send, HH:MM, in `timezone`.
    at: str = "09:00"
    timezone: str = "Europe/Moscow"
    # Weekly digests only: the day they go out; they cover the seven days before it.
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    # Empty = alerts.telegram.chat_ids.
    chat_ids: list[ChatId] = []

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"expected a time of day like 09:00, got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}; expected a name like Europe/Moscow") from None
        return value


class AlertsConfig(StrictModel):
    telegram: TelegramConfig = TelegramConfig()
    rules: list[AlertRule] = []
    digests: list[DigestConfig] = []
    # A negative alert is urgent (marked, sent first) when its reach is at least `urgent_reach`, or
    # its engagement grows at least `urgent_engagement_per_hour` since publication.
    urgent_reach: int = Field(default=10_000, ge=1, le=10**10)
    urgent_engagement_per_hour: float = Field(default=50, gt=0, le=10**7)
    # A post published longer than this before it was collected (a source's first crawl reaching
    # weeks back) is stored and scored but not alerted: history, not news to answer. 0 = alert on all.
    max_post_age: int = Field(default=2 * 24 * 3600, ge=0, le=YEAR)

    @field_validator("max_post_age", mode="before")
    @classmethod
    def _post_age(cls, value: Any) -> int:
        return _duration_or_off(value)


class SentimentConfig(StrictModel):
    # "e5": multilingual-e5-small fine-tuned toward the brand, shipped (the accurate one);
    # "offline": the fast n-gram model shipped with brandpulse (backfills, no torch);
    # "hybrid": the offline model combined with frozen e5 embeddings;
    # "transformers": a HF model id or local path.
    engine: Literal["e5", "offline", "hybrid", "transformers"] = "e5"
    model: str | None = None
    # Raw model label -> ours (negative / neutral / positive), for transformers models.
    labels: dict[str, Literal["negative", "neutral", "positive"]] = {}
    batch_size: int = Field(default=32, ge=1, le=4096)
    negative_threshold: float = Field(default=0.5, ge=0, le=1)
    # transformers only: tokens per text before truncation (empty = the model's own limit, at most 512),
    # dynamic int8 on the Linear layers (faster on CPU, may cost F1: measure first), and torch
    # threads (empty = every core; set it lower when other processes share the machine).
    max_length: int | None = Field(default=None, ge=1, le=100_000)
    quantize: bool = False
    threads: int | None = Field(default=None, ge=1, le=256)
    # e5: "auto" computes in bfloat16 where the CPU does so natively (~1.6x faster, labels hardly
    # move: BENCHMARKS.md), float32 elsewhere; "fp32" / "bf16" force one.
    precision: Literal["auto", "fp32", "bf16"] = "auto"


class MatchingConfig(StrictModel):
    # The learned brand-or-word decision (`brandpulse match-train` writes it): for ordinary-word
    # hits the rules cannot settle. Empty = the rules alone.
    model: str | None = Field(default=None, min_length=1)


class StorageConfig(StrictModel):
    # DATABASE_URL in the environment wins; a password never belongs here.
    url: str = "sqlite:///data/brandpulse.db"

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        if re.match(r"^[\w+]+://[^/@:]*:[^/@]+@", url):
            raise ValueError("database URL holds a password: set DATABASE_URL in the environment instead")
        return url


class DistributedConfig(StrictModel):
    """Where `brandpulse worker`s share the request queue and duplicate filter of `distributed` sites."""

    # The environment variable holding the Redis URL (it may carry a password, so it is never
    # written here); unset = redis://127.0.0.1:6379/0.
    redis_url_env: str = Field(default="REDIS_URL", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # Every Redis key starts with it: <key_prefix>:<source>:requests and :dupefilter.
    key_prefix: str = Field(default="brandpulse", min_length=1, pattern=r"^[\w.\-:]+$")
    # A worker with nothing to fetch for this long exits; 0 = never (a long-running service).
    idle_timeout: int = Field(default=0, ge=0, le=YEAR)

    @field_validator("idle_timeout", mode="before")
    @classmethod
    def _duration_or_zero(cls, value: Any) -> int:
        return parse_timeout(value)


def parse_timeout(value: Any) -> int:
    """Like parse_duration, but 0 (never) is allowed."""
    if not isinstance(value, bool) and str(value).strip() in ("0", "0.0", "0s"):
        return 0
    return parse_duration(value)


class DashboardConfig(StrictModel):
    # `name:role:hash` lines written by `brandpulse user add`; BRANDPULSE_USERS_FILE overrides it.
    # A path, never the passwords: the hashes stay out of this file.
    users_file: str | None = None
    # The dashboard's language until a user picks another in the sidebar.
    language: Literal["ru", "en"] = "ru"
    # Mentions per inbox page.
    page_size: int = Field(default=25, ge=5, le=200)
    # How long a login survives page reloads (a signed cookie); 0 = log in on every reload.
    session_hours: int = Field(default=12, ge=0, le=720)


class Config(StrictModel):
    brands: list[BrandConfig] = Field(min_length=1)
    sources: list[SourceConfig] = []
    alerts: AlertsConfig = AlertsConfig()
    sentiment: SentimentConfig = SentimentConfig()
    matching: MatchingConfig = MatchingConfig()
    storage: StorageConfig = StorageConfig()
    dashboard: DashboardConfig = DashboardConfig()
    distributed: DistributedConfig = DistributedConfig()

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
            if source.brand is not None and source.brand not in brand_names:
                raise ValueError(f"source {source.name!r}: brand {source.brand!r} is not a configured brand")
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

    def source_display_names(self) -> dict[str, str]:
        """Each source's `display_name` by its key, for sources that have one; look up with
        `.get(key, key)` so a source without one, or no longer configured, shows as its key."""
        return {s.name: s.display_name for s in self.sources if s.display_name}

    def sense_model(self) -> SenseModel | None:
        """The learned brand-or-word decision, with the brands' thresholds; None without one."""
        if self.matching.model is None:
            return None
        from monitor.brand_sense import SenseModel

        thresholds = {b.name: b.sense_threshold for b in self.brands if b.sense_threshold is not None}
        return SenseModel.load(self.matching.model).with_thresholds(thresholds)

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


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first_line: int):
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no stubs in .venv: Any
    """YAML keeps the last of two equal keys without a word: a second `name:` in a brand silently
    renames it. Here a repeated key is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                seen = first.setdefault(key, key_node.start_mark.line)
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            if seen != key_node.start_mark.line:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1, seen + 1)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse_config(text: str, filename: str = "spiders.yaml") -> Config:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
        root = yaml.compose(text)
    except _DuplicateKey as exc:
        raise ConfigError(
            f"{filename}:{exc.line}: key {exc.key!r} given twice (first on line {exc.first_line}); keep one"
        ) from None
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
    loc = [part for n, part in enumerate(error["loc"]) if not _is_union_branch(error["loc"][:n], part)]
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


def _is_union_branch(before: tuple[Any, ...], part: Any) -> bool:
    # pydantic puts the chosen discriminator value into the location, right after the list index
    # (sources[0].rss.interval): drop it there, and only there (alerts.telegram is a real key).
    return bool(before) and isinstance(before[-1], int) and isinstance(part, str) and part in SOURCE_TYPES


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
