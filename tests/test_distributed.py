"""Distributed crawling: `brandpulse worker` processes sharing one Redis queue, writing to one PostgreSQL.

Everything is real: the Redis at 127.0.0.1:6379 (keys under a prefix of this module's own, deleted
afterwards), a PostgreSQL schema of its own, worker subprocesses started as a user starts them, and
a review site on 127.0.0.1 of 10 products × 30 listing pages, 2 reviews each, linked by next-page
links. Redis or PostgreSQL being down fails these tests; it never skips them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy.exceptions import DontCloseSpider
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from crawlers.sites import request_json
from crawlers.sites.distributed import QueueKeys, WorkerSpider, seed_round
from crawlers.sites.rules import resolve_rules
from monitor.cli import app
from monitor.config import SiteSource
from monitor.db.models import Item, Source
from monitor.local_server import LocalServer, Response
from tests.support.postgres import fresh_postgres_schema

REDIS_URL = "redis://127.0.0.1:6379/0"
REPO = Path(__file__).resolve().parents[1]
PRODUCTS = [
    "vkusmarket_supermarket", "vkusmarket_dostavka", "vkusmarket_kafe", "vkusmarket_karta_loyalnosti",
    "vkusmarket_pekarnya", "vkusmarket_apteka", "vkusmarket_express", "vkusmarket_gipermarket",
    "vkusmarket_prilozhenie", "vkusmarket_samovyvoz",
]  # fmt: skip
PAGES = 30
REVIEWS_PER_PAGE = 2
LISTING = "/otzovik/reviews/{product}/"
WORKER_TIMEOUT = 90

OPENINGS = [
    "Хожу в ВкусМаркет у дома почти каждый день.",
    "Заказывала доставку из ВкусМаркета на выходных.",
    "Решил наконец написать отзыв про ВкусМаркет.",
    "Пользуюсь картой ВкусМаркета уже третий год.",
    "Зашли всей семьёй после работы, в субботу вечером.",
]
MIDDLES = [
    "Овощи свежие, хлеб ещё тёплый, кассир вежливая.",
    "Курьер опоздал на сорок минут и не извинился.",
    "На кассе пробили молоко дважды, вернули деньги только через администратора.",
    "Цены на полках не совпадают с ценами на кассе, уже не первый раз.",
    "Приложение глючит: бонусы списались, а скидка не применилась.",
    "Выбор сыров отличный, есть фермерские продукты.",
    "В зале чисто, тележек хватает, очередей почти нет.",
]
ENDINGS = [
    "Буду ходить дальше.",
    "Больше заказывать не буду.",
    "В целом нормально, но есть куда расти.",
    "Рекомендую друзьям.",
    "Поставила бы ноль, если бы было можно.",
]


def review_id(product: int, page: int, position: int) -> int:
    return 15_000_000 + product * 10_000 + page * 10 + position


def review_html(product: int, page: int, position: int) -> str:
    n = review_id(product, page, position)
    text = " ".join(
        [
            OPENINGS[n % len(OPENINGS)],
            MIDDLES[(n // 5) % len(MIDDLES)],
            f"Чек на {300 + n % 2700} ₽, магазин №{product + 1}, отзыв {n}.",
            ENDINGS[(n // 35) % len(ENDINGS)],
        ]
    )
    day = 1 + (PAGES - page) % 28
    return f"""
<div class="item status4 mshow0" itemprop="review">
  <div class="item-left"><div class="login-col">
    <a class="user-login url fn" href="/otzovik/profile/user{n}/"><span itemprop="name">user{n}</span></a>
  </div></div>
  <div class="item-right">
    <h3><a class="review-title" href="/otzovik/review_{n}.html"><span>ВкусМаркет - отзыв {n}</span></a></h3>
    <div class="rating-wrap">
      <div class="rating-score"><span>{1 + n % 5}</span></div>
      <div class="review-postdate" content="2026-10-{day:02d}T12:00:00+03:00">{day} окт 2026</div>
    </div>
    <div class="review-teaser" itemprop="description">{text}</div>
  </div>
</div>"""


class ReviewSite:
    """The listing pages, generated; page n links to page n + 1. `extra` adds reviews on top of a
    first page (a new review arriving between two rounds)."""

    def __init__(self) -> None:
        self.extra: dict[int, list[str]] = {}
        # Pages are answered only once 3 requests wait at once, which takes two workers (each holds
        # at most 2): the split of work then never depends on which process started faster.
        self._gate = threading.Condition()
        self._waiting = 0
        self._open = False

    def listing(self, request: BaseHTTPRequestHandler) -> Response:
        self._pass_gate()
        parts = [part for part in request.path.split("?")[0].split("/") if part]
        slug, page = parts[2], int(parts[3]) if len(parts) > 3 else 1
        if slug not in PRODUCTS or not 1 <= page <= PAGES:
            return Response(404, "<h1>404 Страница не найдена</h1>".encode())
        product = PRODUCTS.index(slug)
        reviews = list(self.extra.get(product, [])) if page == 1 else []
        reviews += [review_html(product, page, position) for position in range(REVIEWS_PER_PAGE)]
        pager = (
            f'<a class="pager-item next" href="{LISTING.format(product=slug)}{page + 1}/">Далее</a>'
            if page < PAGES
            else ""
        )
        body = f"""<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">
<title>ВкусМаркет — отзывы покупателей (страница {page})</title></head><body>
<div class="review-list-chunk">{"".join(reviews)}</div><div class="pager">{pager}</div></body></html>"""
        return Response(200, body.encode("utf-8"))

    def _pass_gate(self) -> None:
        with self._gate:
            self._waiting += 1
            if self._waiting >= 3:
                self._open = True
                self._gate.notify_all()
            self._gate.wait_for(lambda: self._open, timeout=30)
            self._waiting -= 1


@dataclass
class Round:
    requests: Counter[str]
    workers: list[dict[str, Any]]


runner = CliRunner()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[LocalServer, ReviewSite]]:
    pages = ReviewSite()
    with LocalServer(routes={"/otzovik/reviews/": pages.listing}) as server:
        yield server, pages


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this module's own on the real Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({exc}); start it with `make services`", pytrace=False
        )
    prefix = f"bptest-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def database(postgres_server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema shared by the seeding, the workers and the checks."""
    with fresh_postgres_schema(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory, site: Any, redis_prefix: str) -> Path:
    server, _ = site
    start_urls = "".join(f"\n      - {server.url(LISTING.format(product=p))}" for p in PRODUCTS)
    path = tmp_path_factory.mktemp("distributed") / "spiders.yaml"
    path.write_text(
        f"""
brands:
  - name: ВкусМаркет
sources:
  - name: vkusmarket-reviews
    type: site
    preset: otzovik
    distributed: true
    start_urls:{start_urls}
    max_pages: {PAGES + 5}
    delay: 0
distributed:
  key_prefix: "{redis_prefix}"
  idle_timeout: 1
""",
        encoding="utf-8",
    )
    return path


def environment(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BRANDPULSE_HTTPCACHE")}
    env.update(DATABASE_URL=database, REDIS_URL=REDIS_URL, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    return env


def seed(config_file: Path, database: str) -> dict[str, Any]:
    """`brandpulse crawl` as cron runs it: for a distributed source it queues the start pages."""
    result = runner.invoke(
        app, ["crawl", "--config", str(config_file), "--format", "json"], env=environment(database)
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_workers(count: int, config_file: Path, database: str) -> list[dict[str, Any]]:
    """Start `count` workers at once and wait until each exits on its idle timeout."""
    command = [sys.executable, "-c", "from monitor.cli import main; main()", "worker"]
    workers = [
        subprocess.Popen(
            [*command, "--config", str(config_file), "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(database),
            cwd=REPO,
        )
        for _ in range(count)
    ]
    rows = []
    for worker in workers:
        try:
            stdout, stderr = worker.communicate(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.kill()
            pytest.fail(f"a worker did not exit within {WORKER_TIMEOUT} s")
        assert worker.returncode == 0, stderr
        rows.append(json.loads(stdout.strip().splitlines()[-1]))
    return rows


def page_requests(server: LocalServer) -> Counter[str]:
    return Counter(path for path in server.requests if path.startswith("/otzovik/reviews/"))


def stored_ids(database: str) -> list[str]:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(Item.external_id).join(Source).where(Source.name == "vkusmarket-reviews")
                )
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def first_round(site: Any, config_file: Path, database: str) -> Round:
    server, _ = site
    assert seed(config_file, database)["queued"] == len(PRODUCTS)
    workers = run_workers(2, config_file, database)
    return Round(requests=page_requests(server), workers=workers)


def all_listing_pages() -> set[str]:
    return {
        LISTING.format(product=product) + (f"{page}/" if page > 1 else "")
        for product in PRODUCTS
        for page in range(1, PAGES + 1)
    }


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_fetch_every_page_exactly_once(first_round):
    assert set(first_round.requests) == all_listing_pages()
    assert set(first_round.requests.values()) == {1}


@pytest.mark.postgres
@pytest.mark.slow
def test_both_workers_take_part_of_the_pages(first_round):
    pages = [worker["pages"] for worker in first_round.workers]
    assert all(count > 0 for count in pages), pages
    assert sum(pages) == len(PRODUCTS) * PAGES


@pytest.mark.postgres
@pytest.mark.slow
def test_every_review_is_stored_exactly_once(first_round, site, database):
    server, _ = site
    ids = stored_ids(database)
    expected = {
        server.url(f"/otzovik/review_{review_id(product, page, position)}.html")
        for product in range(len(PRODUCTS))
        for page in range(1, PAGES + 1)
        for position in range(REVIEWS_PER_PAGE)
    }
    assert len(ids) == len(expected)
    assert set(ids) == expected
    assert sum(worker["new"] for worker in first_round.workers) == len(expected)


@pytest.mark.postgres
@pytest.mark.slow
def test_next_round_refetches_first_pages_and_stops_where_nothing_is_new(
    first_round, site, config_file, database
):
    server, pages = site
    pages.extra[0] = [review_html(0, 0, 9)]  # one new review on top of the first product's page 1
    before = page_requests(server)
    assert seed(config_file, database)["queued"] == len(PRODUCTS)

    (worker,) = run_workers(1, config_file, database)

    fetched = page_requests(server) - before
    first_pages = {LISTING.format(product=p) for p in PRODUCTS}
    assert set(fetched) == first_pages | {LISTING.format(product=PRODUCTS[0]) + "2/"}
    assert worker["new"] == 1
    assert server.url(f"/otzovik/review_{review_id(0, 0, 9)}.html") in stored_ids(database)


def test_seeding_while_the_last_round_is_queued_starts_no_new_round(site, redis_prefix):
    server, _ = site
    client = redis.Redis.from_url(REDIS_URL)
    source = SiteSource(
        type="site",
        name="pending",
        preset="otzovik",
        start_urls=[server.url(LISTING.format(product=p)) for p in PRODUCTS],
    )
    keys = QueueKeys(redis_prefix, "pending")
    rules = resolve_rules(source, [])

    first = seed_round(client, rules, keys)
    again = seed_round(client, rules, keys)

    assert (first.queued, first.still_queued) == (len(PRODUCTS), 0)
    assert (again.queued, again.still_queued) == (0, len(PRODUCTS))
    assert client.zcard(keys.requests) == len(PRODUCTS)


def test_queued_requests_are_json_not_pickle(site, redis_prefix):
    server, _ = site
    client = redis.Redis.from_url(REDIS_URL)
    url = server.url(LISTING.format(product=PRODUCTS[0]))
    keys = QueueKeys(redis_prefix, "json-check")
    seed_round(
        client,
        resolve_rules(SiteSource(type="site", name="json-check", preset="otzovik", start_urls=[url]), []),
        keys,
    )

    (raw,) = client.zrange(keys.requests, 0, -1)

    queued = json.loads(raw)
    assert (queued["url"], queued["callback"], queued["meta"]) == (url, "parse_page", {"page_no": 1})
    assert request_json.loads(raw)["headers"] == {}


def test_a_queued_request_naming_another_class_is_refused():
    forged = json.dumps({"url": "http://127.0.0.1/", "_class": "os.system"}).encode()
    with pytest.raises(ValueError, match="only plain requests"):
        request_json.loads(forged)


@pytest.mark.postgres
def test_seeding_with_redis_down_is_a_source_error_without_the_password(config_file, database):
    env = environment(database) | {"REDIS_URL": "redis://:s3cret@127.0.0.1:1/0"}
    result = runner.invoke(app, ["crawl", "--config", str(config_file), "--format", "json"], env=env)

    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == 1
    assert row["error"].startswith(
        "vkusmarket-reviews: cannot use the Redis queue at redis://:***@127.0.0.1:1/0"
    )
    assert "s3cret" not in result.output


def test_an_idle_worker_stays_open_until_idle_timeout_passes_without_a_page(site):
    server, _ = site
    rules = resolve_rules(
        SiteSource(type="site", name="idle", preset="otzovik", start_urls=[server.url("/")]), []
    )
    now = [100.0]
    spider = WorkerSpider(rules, idle_timeout=30, clock=lambda: now[0])

    with pytest.raises(DontCloseSpider):
        spider.on_idle()
    now[0] += 20
    spider.on_page_done(spider.first_page(server.url("/")))  # work came in: the wait starts over
    now[0] += 20
    with pytest.raises(DontCloseSpider):
        spider.on_idle()
    now[0] += 30
    assert spider.on_idle() is None  # 30 s idle: the engine may close it
