"""The weekly report (`brandpulse report weekly`): trends and response times of one ISO week as one
self-contained HTML file (inline CSS, bars drawn in HTML, no scripts, nothing fetched), so it opens
offline and can be mailed. Every piece of user text is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from monitor.analytics import Trends, Week, trends, weeks_ending
from monitor.export import Cell, Table
from monitor.invisible import shown
from monitor.response_times import (
    WAITING_DAYS,
    Conversation,
    ResponseReport,
    response_report,
    waiting_for_answer,
)
from monitor.ui.i18n import decimal_text, duration_text
from monitor.ui.render import duration
from monitor.ui.tables import (
    NO_NAMES,
    SourceNames,
    change_table,
    ranked_table,
    response_tables,
    source_name,
    titled,
    topics_tables,
    voice_table,
)

WEEKS_OF_HISTORY = 8
SHOWN_WAITING = 50
_COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c", "unscored": "#dddddd"}
_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right;white-space:nowrap}
.bar{display:inline-block;height:1em;vertical-align:middle}
.figures{display:flex;gap:1em;flex-wrap:wrap}
.figure{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:10em}
.figure b{display:block;font-size:1.5em}
.waiting{border-left:4px solid #d62728;padding:.3em .8em;margin:.6em 0;background:#fff5f5}
.muted{color:#777;font-size:.9em}
"""


@dataclass(frozen=True)
class WeeklyReport:
    week: Week
    tz: tzinfo
    generated_at: datetime
    trends: Trends
    response_history: ResponseReport  # the weeks up to `week`
    response_week: ResponseReport  # `week` only, by source and manager
    waiting: list[Conversation]
    # Negative conversations of the last WAITING_DAYS, answered or not: none at all is not "all answered".
    recent_negative: int
    # Source key -> display name (Config.source_display_names()); a source without one shows its key.
    source_names: SourceNames = field(default_factory=dict)


def build_weekly_report(
    session: Session,
    week: Week,
    tz: tzinfo,
    now: datetime,
    brand_terms: Iterable[str] = (),
    source_names: SourceNames = NO_NAMES,
) -> WeeklyReport:
    waiting = waiting_for_answer(session, now)
    return WeeklyReport(
        week=week,
        tz=tz,
        generated_at=now,
        trends=trends(session, week, tz, weeks=WEEKS_OF_HISTORY, brand_terms=brand_terms),
        response_history=response_report(session, weeks_ending(week, WEEKS_OF_HISTORY), tz, now),
        response_week=response_report(session, [week], tz, now),
        waiting=waiting.unanswered,
        recent_negative=waiting.negative,
        source_names=source_names,
    )


def _e(value: object) -> str:
    return html.escape(shown(str(value)), quote=True)


def _cell(value: Cell, tz: tzinfo) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, datetime):
        return f"<td>{_e(value.astimezone(tz).strftime('%d.%m.%Y %H:%M'))}</td>"
    if isinstance(value, bool):
        return f"<td>{'да' if value else 'нет'}</td>"
    if isinstance(value, int | float):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f'<td class="n">{_e(shown)}</td>'
    return f"<td>{_e(value)}</td>"


def html_table(table: Table, tz: tzinfo, columns: Sequence[int] | None = None) -> str:
    chosen = list(columns) if columns is not None else list(range(len(table.columns)))
    if not table.rows:
        return '<p class="muted">Нет данных.</p>'
    head = "".join(f"<th>{_e(table.columns[i])}</th>" for i in chosen)
    body = "".join("<tr>" + "".join(_cell(row[i], tz) for i in chosen) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _volume_bars(data: Trends) -> str:
    """Our brands' mentions per week as stacked HTML bars by sentiment."""
    weeks = sorted({row.week for row in data.volume})
    totals = {
        week: {
            label: sum(getattr(r, label) for r in data.volume if r.week == week and not r.competitor)
            for label in _COLORS
        }
        for week in weeks
    }
    largest = max((sum(t.values()) for t in totals.values()), default=0)
    if not largest:
        return '<p class="muted">Упоминаний наших брендов за эти недели нет.</p>'
    rows = []
    for week in weeks:
        parts = "".join(
            f'<span class="bar" style="width:{400 * n / largest:.1f}px;background:{_COLORS[label]}"'
            f' title="{_e(label)}: {n}"></span>'
            for label, n in totals[week].items()
            if n
        )
        rows.append(
            f'<tr><td>{_e(week)}</td><td class="n">{sum(totals[week].values())}</td><td>{parts}</td></tr>'
        )
    legend = " ".join(
        f'<span class="bar" style="width:1em;background:{color}"></span> {name}'
        for color, name in zip(
            _COLORS.values(), ("негатив", "нейтрально", "позитив", "не оценено"), strict=True
        )
    )
    return (
        "<table><thead><tr><th>неделя</th><th>упоминаний</th><th>по тональности</th></tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table><p class="muted">{legend}</p>'
    )


def _voice_bars(data: Trends) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.brand)}{' (конкурент)' if s.competitor else ''}</td>"
        f'<td class="n">{100 * s.share:.1f}%</td><td><span class="bar" style="width:{300 * s.share:.1f}px;'
        f'background:{"#9e9e9e" if s.competitor else "#1f77b4"}"></span></td></tr>'
        for s in data.share_of_voice
    )
    if not rows:
        return '<p class="muted">Упоминаний за неделю нет.</p>'
    return f"<table><thead><tr><th>бренд</th><th>доля</th><th></th></tr></thead><tbody>{rows}</tbody></table>"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{decimal_text(value, 1, 'ru')} ч"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _figures(report: WeeklyReport) -> str:
    this = report.response_week.total
    ours = [c for c in report.trends.changes if not c.competitor]
    mentions = sum(c.this_week for c in ours)
    before = sum(c.last_week for c in ours)
    change = f"{100 * (mentions - before) / before:+.0f}% к прошлой неделе" if before else "прошлая неделя: 0"
    figures = [
        ("Упоминаний наших брендов", str(mentions), change),
        ("Негативных", str(sum(c.negative_this_week for c in ours)), ""),
        ("Медиана до ответа", _hours(this.response_from_publication.median_hours), "от публикации"),
        ("p90 до ответа", _hours(this.response_from_publication.p90_hours), "от публикации"),
        ("Ответ ≤ 1 ч", _percent(this.within_hour), ""),
        ("Ответ ≤ 24 ч", _percent(this.within_day), ""),
    ]
    return (
        '<div class="figures">'
        + "".join(
            f'<div class="figure">{_e(name)}<b>{_e(value)}</b><span class="muted">{_e(note)}</span></div>'
            for name, value, note in figures
        )
        + "</div>"
    )


def _waiting(report: WeeklyReport) -> str:
    if not report.recent_negative:
        return f"<p>Негативных упоминаний за {WAITING_DAYS} дней нет.</p>"
    if not report.waiting:
        return (
            f"<p>Негатива без ответа дольше часа нет (негативных упоминаний за {WAITING_DAYS} дней: "
            f"{report.recent_negative}).</p>"
        )
    items = []
    for conv in report.waiting[:SHOWN_WAITING]:
        text = conv.text if len(conv.text) <= 400 else conv.text[:400] + "…"
        # As the dashboard says it: «13 д 13 ч», not «325.0 ч».
        waited = duration_text(*duration(report.generated_at - conv.published_at), "ru")
        source = source_name(conv.source, report.source_names)
        items.append(
            f'<div class="waiting"><b>ждёт {_e(waited)}</b> · {_e(conv.brand)} · {_e(source)} · '
            f"{_e(conv.author or 'автор неизвестен')} · "
            f"{_e(conv.published_at.astimezone(report.tz).strftime('%d.%m.%Y %H:%M'))}"
            f'<br>{_e(text)}<br><span class="muted">{_e(conv.url)}</span></div>'
        )
    more = len(report.waiting) - SHOWN_WAITING
    tail = f'<p class="muted">…и ещё {more}.</p>' if more > 0 else ""
    return f"<p>Ждут ответа: <b>{len(report.waiting)}</b>, самые давние сверху.</p>{''.join(items)}{tail}"


def render_html(report: WeeklyReport) -> str:
    tz, data, week = report.tz, report.trends, report.week
    sunday = week.monday + timedelta(days=6)
    title = f"brandpulse: отчёт за неделю {week} ({week.monday:%d.%m}–{sunday:%d.%m.%Y})"
    words, phrases = topics_tables(data.negative_topics)
    by_week = response_tables(report.response_history)[0]
    _, week_sources, week_managers = response_tables(report.response_week, names=report.source_names)
    # The report prints the main columns; the CSV/XLSX downloads in the dashboard have them all.
    main = [0, 1, 2, 4, 5, 8, 9, 12, 13]
    sections = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Сформирован {_e(report.generated_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"))}'
        f" ({_e(tz)}). Пост и его копии считаются одним упоминанием.</p>",
        _figures(report),
        "<h2>Упоминания</h2>",
        "<h3>Наши бренды по неделям</h3>",
        _volume_bars(data),
        "<h3>Неделя к неделе</h3>",
        html_table(change_table(data.changes), tz),
        "<h3>Доля голоса</h3>",
        _voice_bars(data),
        html_table(voice_table(data.share_of_voice), tz),
        "<h3>Источники</h3>",
        html_table(ranked_table("Источники", "источник", titled(data.top_sources, report.source_names)), tz),
        "<h3>Авторы</h3>",
        html_table(ranked_table("Авторы", "автор", data.top_authors), tz),
        "<h2>О чём негатив</h2>",
        f'<p class="muted">Негативных упоминаний: {data.negative_topics.this_week_texts} на этой неделе, '
        f"{data.negative_topics.last_week_texts} на прошлой.</p>",
        "<h3>Слова</h3>",
        html_table(words, tz),
        "<h3>Фразы</h3>",
        html_table(phrases, tz),
        "<h2>Время ответа</h2>",
        "<h3>Негатив без ответа дольше часа (на момент отчёта)</h3>",
        _waiting(report),
        "<h3>По неделям</h3>",
        html_table(by_week, tz, main),
        "<h3>По источникам за неделю</h3>",
        html_table(week_sources, tz, main),
        "<h3>По менеджерам за неделю</h3>",
        html_table(week_managers, tz, main),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )
