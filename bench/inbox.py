"""How fast the inbox pages on a million mentions: first page, a deep page by keyset cursor, filters,
search, "mine only", and the capped count. Prints the median of several runs per case.

Usage, from the repository root:

nice .venv/bin/python bench/inbox.py                      # SQLite file /tmp/brandpulse-inbox-bench.db
nice .venv/bin/python bench/inbox.py --mentions 200000    # a smaller table
nice .venv/bin/python bench/inbox.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test

On PostgreSQL the tables go into a schema of their own (bench_inbox) that is dropped at the end
(`--keep` keeps it, and the SQLite file, for another run: an existing table of the asked size is
reused). Rows are bulk-inserted: executemany on SQLite, COPY on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, the repository root is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from monitor.db.models import Base, Item, ItemGroup, Mention, Sentiment, Workflow  # noqa: E402
from monitor.db.session import open_database, session_factory  # noqa: E402
from monitor.queries import (  # noqa: E402
    NEWEST,
    InboxFilter,
    _filtered,
    inbox_count,
    inbox_page,
    inbox_view,
)

DEFAULT_SQLITE = "sqlite:////tmp/brandpulse-inbox-bench.db"
SCHEMA = "bench_inbox"
OURS = ["ВкусМаркет", "ВкусМаркет Экспресс", "Вкусно Дома", "ВМ Доставка", "ВМ Аптека"]
THEIRS = ["Магнит", "Пятёрочка", "Лента", "Перекрёсток", "ВкусВилл"]
USERS = ["olga", "masha", "ivan", "petr", "anna"]
# ~1% of the posts say "возврат": a search term that fills a page quickly but is far from common.
SEARCH_TERM = "возврат"
PHRASES = [
    "обсчитали на кассе",
    "свежий хлеб с утра",
    "очередь на полчаса",
    "курьер опоздал на час",
    "отличные скидки на сыр",
    "просрочка на полке",
    "вежливый кассир",
    "приложение зависает при оплате",
    "доставка пришла быстро",
    "нет пакетов на кассе",
]
START = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 50_000


def rows(count: int, seed: int = 7) -> Iterator[dict[str, dict[str, Any]]]:
    """One generated mention with its item, group, sentiment and workflow per step."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        competitor = rng.random() < 0.4
        brand = rng.choice(THEIRS if competitor else OURS)
        # Whole minutes over a year: about two mentions share each minute, so ties are common.
        published = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        collected = published + timedelta(minutes=rng.randrange(1, 600))
        words = f"{brand}: {rng.choice(PHRASES)}, {rng.choice(PHRASES)}"
        if rng.random() < 0.01:
            words += f", требую {SEARCH_TERM}"
        label = rng.choices(["negative", "neutral", "positive"], [3, 5, 2])[0]
        status = rng.choices(["new", "in_progress", "resolved", "ignored"], [3, 1, 5, 1])[0]
        yield {
            "group": {"id": n, "size": 1, "first_seen_at": collected},
            "item": {
                "id": n,
                "source_id": rng.randrange(1, 21),
                "external_id": f"post-{n}",
                "url": f"https://example.ru/{n}",
                "canonical_url": f"https://example.ru/{n}",
                "kind": "post",
                "text": words,
                "author": f"Автор {rng.randrange(50_000)}",
                "views": rng.randrange(10_000),
                # One in twenty sources gives no date: the inbox sorts those by collection time.
                "published_at": None if rng.random() < 0.05 else published,
                "collected_at": collected,
                "updated_at": collected,
                "group_id": n,
                "matched_at": collected,
            },
            "mention": {
                "id": n,
                "item_id": n,
                "brand": brand,
                "is_competitor": competitor,
                "span_start": 0,
                "span_end": len(brand),
                "matched_text": brand,
                "created_at": collected,
            },
            "sentiment": {
                "mention_id": n,
                "label": label,
                "score": 0.9,
                "model": "bench",
                "scored_at": collected,
                "override_label": "negative" if rng.random() < 0.02 else None,
            },
            "workflow": {
                "mention_id": n,
                "status": status,
                "assignee": None if status == "new" else rng.choice(USERS),
                "updated_at": collected,
            },
        }


TABLES = [
    (key, Base.metadata.tables[model.__tablename__])
    for key, model in [
        ("group", ItemGroup),
        ("item", Item),
        ("mention", Mention),
        ("sentiment", Sentiment),
        ("workflow", Workflow),
    ]
]


def fill(engine: Engine, url: str, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            Base.metadata.tables["sources"].insert(),
            [{"id": n, "name": f"source-{n}", "type": "rss", "consecutive_failures": 0,
              "created_at": START} for n in range(1, 21)],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        _copy(url, count)
        return
    batch: list[dict[str, dict[str, Any]]] = []
    for row in rows(count):
        batch.append(row)
        if len(batch) == CHUNK:
            _insert(engine, batch)
            batch = []
            print(f"  {row['mention']['id']:,} rows", file=sys.stderr)
    if batch:
        _insert(engine, batch)


def _insert(engine: Engine, batch: list[dict[str, dict[str, Any]]]) -> None:
    with engine.begin() as connection:
        for key, table in TABLES:
            connection.execute(table.insert(), [row[key] for row in batch])


def _copy(url: str, count: int) -> None:
    """COPY each table from a generator pass: PostgreSQL's fastest way in."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute(f'SET search_path TO "{SCHEMA}"')
        for key, table in TABLES:
            columns = list(next(rows(1))[key])
            names = ", ".join(columns)
            with connection.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows(count):
                    copy.write_row([row[key][c] for c in columns])
            print(f"  {table.name}: {count:,} rows", file=sys.stderr)
        connection.commit()


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def offset_page(session: Session, filters: InboxFilter, limit: int, offset: int) -> list[Any]:
    """The old way, for comparison: the same order, OFFSET rows skipped."""
    query = _filtered(select(Mention.id), filters).order_by(NEWEST.desc(), Mention.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_SQLITE, help=f"database URL (default {DEFAULT_SQLITE})")
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument(
        "--page-size", type=int, default=25, help="mentions per page (the dashboard's default)"
    )
    parser.add_argument("--deep", type=int, default=500, help="the deep page's number")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is shown")
    parser.add_argument("--keep", action="store_true", help="keep the database for another run")
    args = parser.parse_args()

    url = args.database
    postgres = make_url(url).get_backend_name() == "postgresql"
    if postgres:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{SCHEMA}"
    engine = open_database(url)
    try:
        with engine.connect() as connection:
            stored = connection.scalar(select(func.count(Mention.id)))
        if stored != args.mentions:
            if stored:
                sys.exit(f"{args.database} already holds {stored:,} mentions; drop it or pass --mentions")
            started = time.perf_counter()
            fill(engine, url, args.mentions)
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
            print(
                f"built {args.mentions:,} mentions in {time.perf_counter() - started:.0f} s", file=sys.stderr
            )
        report(engine, args)
    finally:
        engine.dispose()
        if postgres and not args.keep:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')
        elif not postgres and not args.keep:
            Path(make_url(url).database or "").unlink(missing_ok=True)


def report(engine: Engine, args: argparse.Namespace) -> None:
    sessions = session_factory(engine)
    limit, runs = args.page_size, args.runs
    everything = InboxFilter()
    default = InboxFilter(brands=tuple(OURS), statuses=("new", "in_progress"))
    urgent = InboxFilter(brands=(OURS[0],), sentiments=("negative",), statuses=("new",))
    search = InboxFilter(search=SEARCH_TERM)
    mine = InboxFilter(assignee=USERS[0], brands=(OURS[0],), statuses=("in_progress",))

    with sessions() as session:
        # The deep page's cursor, found the way the dashboard finds it: page after page.
        started = time.perf_counter()
        view = inbox_view(session, everything, limit)
        for _ in range(args.deep - 2):
            view = inbox_view(session, everything, limit, after=view.older)
        walk_ms = (time.perf_counter() - started) * 1000 / (args.deep - 1)
        deep = view.older
        assert deep is not None

        cases: list[tuple[str, Callable[[], object]]] = [
            ("first page, no filters", lambda: inbox_page(session, everything, limit)),
            (
                "first page, dashboard default (our brands, new + in progress)",
                lambda: inbox_page(session, default, limit),
            ),
            (
                f"page {args.deep} by keyset cursor",
                lambda: inbox_page(session, everything, limit, after=deep),
            ),
            (
                f"page {args.deep} by OFFSET (the old way)",
                lambda: offset_page(session, everything, limit, (args.deep - 1) * limit),
            ),
            (
                f"previous page from page {args.deep}",
                lambda: inbox_view(session, everything, limit, before=deep),
            ),
            ("one brand + negative + new", lambda: inbox_page(session, urgent, limit)),
            (f"search «{SEARCH_TERM}» (~1% of posts)", lambda: inbox_page(session, search, limit)),
            ("mine only (one user, one brand, in progress)", lambda: inbox_page(session, mine, limit)),
            ("count, dashboard default (capped at 1 000)", lambda: inbox_count(session, default)),
            ("count, one brand + negative + new", lambda: inbox_count(session, urgent)),
            (f"count, search «{SEARCH_TERM}»", lambda: inbox_count(session, search)),
        ]
        results = [(name, median_ms(work, runs)) for name, work in cases]
        counts = {
            "dashboard default": inbox_count(session, default),
            "one brand + negative + new": inbox_count(session, urgent),
            f"search «{SEARCH_TERM}»": inbox_count(session, search),
        }

    print(f"\n{engine.dialect.name}, {args.mentions:,} mentions, {limit} per page, median of {runs} runs\n")
    print("| case | ms |\n|---|---|")
    for name, ms in results:
        print(f"| {name} | {ms:.1f} |")
    print(f"| walking pages 1→{args.deep} with next, per page | {walk_ms:.1f} |")
    print("\ncounts: " + ", ".join(f"{k}: {'1 000+' if v is None else v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
