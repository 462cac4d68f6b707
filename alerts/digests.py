"""Daily and weekly digests for marketing and team leads: volume and sentiment per brand, share of
voice against competitors, response times and the worst negative mentions still unanswered.

A digest covers whole local days before its send time (yesterday, or the seven days before the
weekday it goes out). Its dedup key names the period, so a restart, a second process or a manual
`brandpulse digest` never sends one period twice to one chat.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.messages import TELEGRAM_LIMIT, escape, post_list
from alerts.senders import Sender
from monitor import volume
from monitor.clock import utcnow
from monitor.config import WEEKDAYS, Config, DigestConfig
from monitor.db.models import OutboxMessage, Source
from monitor.errors import ConfigError
from monitor.response_times import Conversation, Durations, conversations, waiting_for_answer

WORST_SHOWN = 5
_RANK_CHUNK = 500
_TITLES = {"daily": "Сводка за день", "weekly": "Сводка за неделю"}


@dataclass(frozen=True)
class DigestPeriod:
    kind: str
    timezone: str
    # [start, end) in UTC: whole local days.
    start: datetime
    end: datetime
    first_day: date
    last_day: date
    # When it is due (UTC): `at` on the day after the period.
    due_at: datetime

    @property
    def key(self) -> str:
        return f"digest:{self.kind}:{self.start:%Y-%m-%dT%H:%M}Z:{self.end:%Y-%m-%dT%H:%M}Z"


def latest_period(digest: DigestConfig, now: datetime) -> DigestPeriod:
    """The newest period whose digest is due at `now` (it may have been sent already)."""
    tz = ZoneInfo(digest.timezone)
    local_now = now.astimezone(tz)
    send_time = time.fromisoformat(digest.at)
    send_day = local_now.date()
    if digest.kind == "daily":
        if local_now.time() < send_time:
            send_day -= timedelta(days=1)
        days = 1
    else:
        send_day -= timedelta(days=(send_day.weekday() - WEEKDAYS.index(digest.weekday)) % 7)
        if send_day == local_now.date() and local_now.time() < send_time:
            send_day -= timedelta(days=7)
        days = 7
    first_day = send_day - timedelta(days=days)
    return DigestPeriod(
        kind=digest.kind,
        timezone=digest.timezone,
        start=datetime.combine(first_day, time(0), tz).astimezone(UTC),
        end=datetime.combine(send_day, time(0), tz).astimezone(UTC),
        first_day=first_day,
        last_day=send_day - timedelta(days=1),
        due_at=datetime.combine(send_day, send_time, tz).astimezone(UTC),
    )


@dataclass(frozen=True)
class Digest:
    period: DigestPeriod
    volumes: list[volume.BrandVolume]
    # Our conversations (a post and its copies) that began in the period, and how fast they were
    # answered, from publication: the dashboard's response-time numbers for the same days.
    responses: Durations
    conversations: int
    # Negative conversations nobody has answered: all those of the last 30 days waiting when the
    # digest is made (what the team has to do), and how many of them began in the period.
    unanswered_negative: int
    unanswered_negative_in_period: int
    worst_unanswered: list[volume.NotablePost]


def gather_digest(session: Session, period: DigestPeriod, now: datetime | None = None) -> Digest:
    """The digest of `period`, its unanswered negatives counted at `now` (default: when it is due)."""
    now = now or period.due_at
    volumes = volume.period_volume(session, period.start, period.end)
    convs = conversations(session, period.start, period.end)
    answered = [c.first_response_at - c.published_at for c in convs if c.first_response_at is not None]
    in_period = [c for c in convs if c.negative and c.first_response_at is None]
    waiting = waiting_for_answer(session, now, older_than=timedelta(0)).unanswered
    return Digest(
        period=period,
        volumes=volumes,
        responses=Durations.of(max(d, timedelta(0)) for d in answered),
        conversations=len(convs),
        unanswered_negative=len(waiting),
        unanswered_negative_in_period=len(in_period),
        worst_unanswered=_worst(session, waiting)[:WORST_SHOWN],
    )


def _worst(session: Session, waiting: Sequence[Conversation]) -> list[volume.NotablePost]:
    """The widest audience first, then the surest negative."""
    ids = [c.mention_id for c in waiting]
    ranks: dict[int, tuple[int, float | None]] = {}
    # In chunks: a month of unanswered negatives may pass a backend's limit on bound parameters.
    for start in range(0, len(ids), _RANK_CHUNK):
        ranks |= volume.reach_and_score(session, ids[start : start + _RANK_CHUNK])
    posts = []
    for c in waiting:
        reach, score = ranks.get(c.mention_id, (0, None))
        posts.append(
            volume.NotablePost(
                mention_id=c.mention_id,
                brand=c.brand,
                source=c.source,
                author=c.author,
                url=c.url,
                text=c.text,
                published_at=c.published_at,
                reach=reach,
                label="negative",
                score=score,
            )
        )
    return sorted(posts, key=lambda post: (-post.reach, -(post.score or 0.0), post.mention_id))


def digest_message(digest: Digest) -> str:
    """The digest as Telegram HTML, at most 4096 characters: snippets shrink, then the lists do."""
    attempts = ((200, WORST_SHOWN, 30), (100, WORST_SHOWN, 30), (50, 3, 15), (0, 0, 10))
    for width, shown, brands in attempts:
        text = _render(digest, width, shown, brands)
        if len(text) <= TELEGRAM_LIMIT:
            return text
    # Cut whole lines: every line closes the tags it opens, so the HTML stays valid.
    lines = text.splitlines()
    while len("\n".join(lines)) > TELEGRAM_LIMIT - 2:
        lines.pop()
    return "\n".join([*lines, "…"])


def _render(digest: Digest, snippet_width: int, shown: int, brands_shown: int) -> str:
    period = digest.period
    if period.first_day == period.last_day:
        days = f"{period.first_day:%d.%m.%Y}"
    else:
        days = f"{period.first_day:%d.%m}–{period.last_day:%d.%m.%Y}"
    lines = [f"📊 <b>{_TITLES[period.kind]}: {days}</b> ({html.escape(period.timezone)})", ""]
    if not digest.volumes:
        lines.append("Упоминаний за период нет.")
    else:
        lines.append("<b>Упоминания</b> (негатив / нейтрально / позитив)")
        for row in digest.volumes[:brands_shown]:
            lines.append(f"• {_brand(row)}: {row.total} — {_shares(row)}")
        if len(digest.volumes) > brands_shown:
            lines.append(f"• и ещё брендов: {len(digest.volumes) - brands_shown}")
        everything = sum(row.total for row in digest.volumes)
        if any(row.competitor for row in digest.volumes) and everything:
            by_volume = sorted(digest.volumes, key=lambda r: (-r.total, r.brand))[:brands_shown]
            voice = " · ".join(f"{_name(row.brand)} {_percent(row.total / everything)}" for row in by_volume)
            lines += ["", f"<b>Доля голоса:</b> {voice}"]
    lines += ["", "<b>Ответы</b>"]
    median = digest.responses.median_hours
    if median is None:
        lines.append(f"Медиана от публикации до ответа: нет ответов (обращений: {digest.conversations})")
    else:
        lines.append(
            f"Медиана от публикации до ответа: {_duration(median)} "
            f"(отвечено {digest.responses.count} из {digest.conversations})"
        )
    lines.append(
        f"Негатив без ответа сейчас: {digest.unanswered_negative} "
        f"(из них за период: {digest.unanswered_negative_in_period})"
    )
    if digest.worst_unanswered and shown:
        lines += ["", "<b>Худшие без ответа</b>", post_list(digest.worst_unanswered[:shown], snippet_width)]
    return "\n".join(lines)


def _brand(row: volume.BrandVolume) -> str:
    return _name(row.brand) + (" (конкурент)" if row.competitor else "")


def _name(brand: str, limit: int = 100) -> str:
    return escape(brand if len(brand) <= limit else brand[: limit - 1] + "…")


def _shares(row: volume.BrandVolume) -> str:
    if not row.scored:
        return "без оценки"
    shares = " / ".join(_percent(n / row.scored) for n in (row.negative, row.neutral, row.positive))
    return shares + (f" (без оценки: {row.unscored})" if row.unscored else "")


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def _duration(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes} мин"
    if minutes < 24 * 60:
        return f"{minutes // 60} ч {minutes % 60} мин" if minutes % 60 else f"{minutes // 60} ч"
    return f"{minutes // (24 * 60)} д {minutes % (24 * 60) // 60} ч"


def queue_due_digests(session: Session, config: Config, now: datetime) -> int:
    """Queue every configured digest whose time has come and that its chats have not had yet."""
    queued = 0
    for digest in config.alerts.digests:
        period = latest_period(digest, now)
        chats = _missing(session, period, _chats(digest, config))
        # Nothing was watched during the period (a first start): no digest of empty days.
        if not chats or not _watched_before(session, period.end):
            continue
        queued += _queue(session, period, chats, digest_message(gather_digest(session, period, now)), now)
    return queued


def _chats(digest: DigestConfig, config: Config) -> list[str]:
    return [str(chat) for chat in digest.chat_ids or config.alerts.telegram.chat_ids]


def _missing(session: Session, period: DigestPeriod, chats: Sequence[str]) -> list[str]:
    if not chats:
        return []
    had = set(
        session.scalars(
            select(OutboxMessage.chat_id).where(
                OutboxMessage.dedup_key == period.key, OutboxMessage.chat_id.in_(chats)
            )
        )
    )
    return [chat for chat in dict.fromkeys(chats) if chat not in had]


def _watched_before(session: Session, moment: datetime) -> bool:
    first = session.scalar(select(func.min(Source.created_at)))
    return first is not None and first < moment


def _queue(session: Session, period: DigestPeriod, chats: Sequence[str], text: str, now: datetime) -> int:
    for chat in chats:
        session.add(
            OutboxMessage(kind="digest", dedup_key=period.key, chat_id=chat, text=text, created_at=now)
        )
    session.flush()
    return len(chats)


@dataclass(frozen=True)
class DigestRun:
    period: DigestPeriod
    text: str
    queued: int
    chats: list[str]


def digest_now(
    session: Session, config: Config, kind: str, now: datetime, dry_run: bool = False
) -> list[DigestRun]:
    """`brandpulse digest`: build the latest due digest of `kind` now, for each configured digest of
    that kind (or one in Europe/Moscow for alerts.telegram.chat_ids), and queue it unless `dry_run`.
    A chat that already had this period's digest does not get it again."""
    runs = []
    for digest in _digests_of(kind, config):
        period = latest_period(digest, now)
        text = digest_message(gather_digest(session, period, now))
        chats = _chats(digest, config)
        queued = 0 if dry_run else _queue(session, period, _missing(session, period, chats), text, now)
        runs.append(DigestRun(period, text, queued, chats))
    return runs


def _digests_of(kind: str, config: Config) -> list[DigestConfig]:
    configured = [digest for digest in config.alerts.digests if digest.kind == kind]
    return configured or [DigestConfig.model_validate({"kind": kind})]


def plain_text(text_html: str) -> str:
    """The digest without Telegram's HTML, for the console."""
    return html.unescape(re.sub(r"<[^>]+>", "", text_html))


def digest_command(
    config: Config,
    sessions: sessionmaker[Session],
    kind: str,
    dry_run: bool,
    sender: Sender | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The body of `brandpulse digest`: the lines to print. Queues and delivers unless `dry_run`."""
    if not dry_run and not any(_chats(digest, config) for digest in _digests_of(kind, config)):
        raise ConfigError(
            f"no chat to send the {kind} digest to: set alerts.telegram.chat_ids or the digest's "
            "chat_ids (or use --dry-run to print it)"
        )
    with sessions.begin() as session:
        runs = digest_now(session, config, kind, now or utcnow(), dry_run=dry_run)
    if dry_run:
        return [plain_text(run.text) for run in runs]
    lines = []
    for run in runs:
        days = f"{run.period.first_day:%d.%m.%Y}–{run.period.last_day:%d.%m.%Y}"
        already = len(run.chats) - run.queued
        lines.append(
            f"{kind} digest for {days}: queued for {run.queued} chat(s)"
            + (f", {already} already had it" if already else "")
        )
    if any(run.queued for run in runs):
        from alerts import make_sender
        from alerts.outbox import send_pending

        # The chats' quiet hours, cool-downs and batching hold here as in the main loop.
        report = send_pending(sessions, sender or make_sender(config), telegram=config.alerts.telegram)
        lines.append(
            f"delivered {report.delivered} message(s), {report.retrying} to retry, {report.failed} failed"
        )
    return lines
