"""The trends and response-time figures as labelled tables: what the pages show, the CSV/XLSX
downloads hold and the weekly report prints. Pure (no Streamlit), so all three agree.

Titles, column headers and words such as a sentiment's name are in `language` (Russian unless
the caller says otherwise); the page passes the language its reader picked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from monitor.analytics import BrandWeek, NegativeTopics, Ranked, VoiceShare, WeekChange
from monitor.export import Table
from monitor.queries import InboxRow
from monitor.response_times import Conversation, ResponseReport, ResponseStats
from monitor.ui.i18n import DEFAULT_LANGUAGE, translate

# The sentiment a table shows in words; None is a mention the model has not scored.
SENTIMENT_KEYS = {
    "negative": "table.negative",
    "neutral": "table.neutral",
    "positive": "table.positive",
    None: "table.unscored",
}
STATUSES = ("new", "in_progress", "resolved", "ignored")
# Source key -> the display_name spiders.yaml gives it (Config.source_display_names()).
SourceNames = Mapping[str, str]
NO_NAMES: SourceNames = MappingProxyType({})


def source_name(key: str, names: SourceNames) -> str:
    """A source as people read it: its display name, else its key."""
    return names.get(key, key)


def sentiment_name(label: str | None, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The label in words of `language`; a label this table does not know stays as it is."""
    key = SENTIMENT_KEYS.get(label)
    return translate(key, language) if key else label


def status_name(status: str, language: str = DEFAULT_LANGUAGE) -> str:
    return translate(f"status.{status}", language) if status in STATUSES else status


def side(competitor: bool, language: str = DEFAULT_LANGUAGE) -> str:
    return translate("table.competitor" if competitor else "table.us", language)


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _columns(keys: Sequence[str], language: str) -> list[str]:
    return [translate(key, language) for key in keys]


def inbox_table(
    rows: Sequence[InboxRow], language: str = DEFAULT_LANGUAGE, names: SourceNames = NO_NAMES
) -> Table:
    return Table(
        translate("table.inbox", language),
        ["id", *_columns(["table.brand", "table.side", "table.source", "table.author", "table.published",
                          "table.sentiment", "table.score", "table.status", "table.assignee", "table.copies",
                          "table.reach", "table.url", "table.text"], language)],
        [
            [row.mention_id, row.brand, side(row.competitor, language), source_name(row.source, names),
             row.author, row.published_at, sentiment_name(row.sentiment, language), row.score,
             status_name(row.status, language), row.assignee, row.copies, row.reach, row.url, row.text]
            for row in rows
        ],
    )  # fmt: skip


RESPONSE_COLUMNS = [
    "table.mentions",
    "table.answered",
    "table.resolved",
    "table.response_publication_median",
    "table.response_publication_p90",
    "table.response_collection_median",
    "table.response_collection_p90",
    "table.resolution_publication_median",
    "table.resolution_publication_p90",
    "table.resolution_collection_median",
    "table.resolution_collection_p90",
    "table.within_hour",
    "table.within_day",
]


def _response_row(stats: ResponseStats) -> list[str | int | float | None]:
    return [
        stats.key,
        stats.conversations,
        stats.answered,
        stats.resolved,
        *(
            hours(value)
            for durations in (
                stats.response_from_publication,
                stats.response_from_collection,
                stats.resolution_from_publication,
                stats.resolution_from_collection,
            )
            for value in (durations.median_hours, durations.p90_hours)
        ),
        percent(stats.within_hour),
        percent(stats.within_day),
    ]


def response_tables(
    report: ResponseReport, language: str = DEFAULT_LANGUAGE, names: SourceNames = NO_NAMES
) -> list[Table]:
    """By week, by source and by manager, in that order."""
    groups = (
        ("table.by_week", "table.week", report.by_week, NO_NAMES),
        ("table.by_source", "table.source", report.by_source, names),
        ("table.by_manager", "table.assignee", report.by_manager, NO_NAMES),
    )
    return [
        Table(
            translate(title, language),
            _columns([first, *RESPONSE_COLUMNS], language),
            [[source_name(str(row[0]), keys), *row[1:]] for row in map(_response_row, stats)],
        )
        for title, first, stats, keys in groups
    ]


def waiting_table(
    waiting: Sequence[Conversation],
    now: datetime,
    language: str = DEFAULT_LANGUAGE,
    names: SourceNames = NO_NAMES,
) -> Table:
    return Table(
        translate("table.waiting", language),
        ["id", *_columns(["table.brand", "table.source", "table.author", "table.published",
                          "table.waiting_hours", "table.url", "table.text"], language)],
        [
            [c.mention_id, c.brand, source_name(c.source, names), c.author, c.published_at,
             hours((now - c.published_at).total_seconds() / 3600), c.url, c.text]
            for c in waiting
        ],
    )  # fmt: skip


def volume_table(volume: Sequence[BrandWeek], language: str = DEFAULT_LANGUAGE) -> Table:
    return Table(
        translate("table.volume", language),
        _columns(["table.week", "table.brand", "table.side", "table.negative", "table.neutral",
                  "table.positive", "table.unscored", "table.total"], language),
        [
            [str(r.week), r.brand, side(r.competitor, language), r.negative, r.neutral, r.positive,
             r.unscored, r.total]
            for r in volume
        ],
    )  # fmt: skip


def voice_table(shares: Sequence[VoiceShare], language: str = DEFAULT_LANGUAGE) -> Table:
    return Table(
        translate("table.voice", language),
        _columns(["table.brand", "table.side", "table.mentions", "table.share"], language),
        [[s.brand, side(s.competitor, language), s.mentions, percent(s.share)] for s in shares],
    )


def change_table(changes: Sequence[WeekChange], language: str = DEFAULT_LANGUAGE) -> Table:
    return Table(
        translate("table.change", language),
        _columns(["table.brand", "table.side", "table.this_week", "table.last_week", "table.change_percent",
                  "table.negative_now", "table.negative_before"], language),
        [
            [c.brand, side(c.competitor, language), c.this_week, c.last_week, percent(c.change),
             c.negative_this_week, c.negative_last_week]
            for c in changes
        ],
    )  # fmt: skip


def ranked_table(title: str, what: str, ranked: Sequence[Ranked], language: str = DEFAULT_LANGUAGE) -> Table:
    """Top sources or authors: `title` and `what` (the first column) come in the caller's language."""
    return Table(
        title,
        [what, *_columns(["table.mentions", "table.negative_of_them"], language)],
        [[r.name, r.mentions, r.negative] for r in ranked],
    )


def sources_table(
    ranked: Sequence[Ranked], language: str = DEFAULT_LANGUAGE, names: SourceNames = NO_NAMES
) -> Table:
    title, what = translate("table.sources", language), translate("table.source", language)
    return ranked_table(title, what, titled(ranked, names), language)


def titled(ranked: Sequence[Ranked], names: SourceNames) -> list[Ranked]:
    """Top sources with their display names in place of their keys."""
    return [replace(r, name=source_name(r.name, names)) for r in ranked]


def authors_table(ranked: Sequence[Ranked], language: str = DEFAULT_LANGUAGE) -> Table:
    title, what = translate("table.authors", language), translate("table.author", language)
    return ranked_table(title, what, ranked, language)


def topics_tables(topics: NegativeTopics, language: str = DEFAULT_LANGUAGE) -> list[Table]:
    """Words, then two-word phrases, of negative mentions this week against last week."""
    columns = ["table.this_week", "table.last_week"]
    return [
        Table(
            translate("table.words", language),
            _columns(["table.word", *columns], language),
            [[p.phrase, p.this_week, p.last_week] for p in topics.words],
        ),
        Table(
            translate("table.phrases", language),
            _columns(["table.phrase", *columns], language),
            [[p.phrase, p.this_week, p.last_week] for p in topics.phrases],
        ),
    ]


def records(table: Table) -> list[dict[str, object]]:
    """Rows as column -> value, for st.dataframe."""
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]
