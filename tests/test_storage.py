import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawlers.base import Batch
from monitor import store
from monitor.config import RssSource, TelegramSource
from monitor.db.models import Item, ItemGroup, Source
from monitor.db.session import database_url, open_database
from monitor.errors import StorageError
from monitor.items import RawItem
from monitor.source_health import source_health

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
MSK = timezone(timedelta(hours=3))

COMPLAINT = (
    "Заказала в Пятёрочке доставку на 19:00, курьер приехал в 22:40 и привёз тёплое молоко. "
    "Поддержка ответила шаблоном и предложила промокод на 100 рублей, больше не закажу."
)
PRAISE = (
    "В ВкусВилле на Профсоюзной сегодня открыли кофейню, капучино за 150 рублей очень даже ничего, "
    "и бариста вежливый."
)


def post(external_id: str, text: str = COMPLAINT, source: str = "vk-spb", **fields) -> RawItem:
    fields.setdefault("url", f"https://vk.com/wall-1_{external_id}")
    return RawItem(source=source, external_id=external_id, text=text, **fields)


def save(sessions, items, source="vk-spb", type="vk", cursor=None, now=NOW):
    with sessions.begin() as session:
        return store.save_batch(session, source, type, Batch(items=items, cursor=cursor or {}), now=now)


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def items(sessions) -> list[Item]:
    with sessions() as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def group_sizes(sessions) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(ItemGroup.size).order_by(ItemGroup.id)))


def test_reingesting_the_same_batch_stores_each_item_once(sessions):
    batch = [post("101"), post("102", PRAISE)]
    first = save(sessions, batch)
    second = save(sessions, batch)

    assert len(first.new_item_ids) == 2
    assert second.new_item_ids == [] and second.updated == 0
    assert count(sessions, Item) == 2


def test_an_item_repeated_within_one_batch_is_stored_once(sessions):
    result = save(sessions, [post("101", likes=3), post("101", likes=5)])

    assert len(result.new_item_ids) == 1
    assert [item.likes for item in items(sessions)] == [5]


def test_same_canonical_url_with_utm_params_upserts_the_same_row(sessions):
    url = "https://lenta.ru/news/2025/03/14/pyaterochka/"
    save(sessions, [post("guid-1", url=url)], source="lenta", type="rss")
    result = save(
        sessions,
        [post("guid-2", url=f"{url}?utm_source=telegram&utm_medium=social", likes=7)],
        source="lenta",
        type="rss",
    )

    assert result.new_item_ids == [] and result.updated == 1
    [item] = items(sessions)
    assert item.canonical_url == "https://lenta.ru/news/2025/03/14/pyaterochka"
    assert item.likes == 7


def test_update_refreshes_engagement_but_keeps_collected_at_and_matched_at(sessions):
    save(sessions, [post("101", likes=3, views=40)])
    with sessions.begin() as session:
        session.scalar(select(Item)).matched_at = NOW
    later = NOW + timedelta(hours=2)

    result = save(sessions, [post("101", likes=30, views=900)], now=later)

    assert result.updated == 1
    [item] = items(sessions)
    assert (item.likes, item.views) == (30, 900)
    assert item.collected_at == NOW
    assert item.updated_at == later
    assert item.matched_at == NOW


def test_edited_text_is_stored_and_matched_again(sessions):
    save(sessions, [post("101")])
    with sessions.begin() as session:
        session.scalar(select(Item)).matched_at = NOW

    save(sessions, [post("101", COMPLAINT + " UPD: деньги так и не вернули.")], now=NOW + timedelta(hours=1))

    [item] = items(sessions)
    assert item.text.endswith("деньги так и не вернули.")
    assert item.matched_at is None
    assert item.collected_at == NOW


def test_item_from_another_source_with_the_same_url_joins_its_group(sessions):
    url = "https://www.banki.ru/services/responses/bank/response/11804732/"
    save(
        sessions,
        [post("11804732", "Тинькофф заблокировал карту без объяснений, жду третий день.", url=url)],
        source="banki",
        type="site",
    )
    result = save(
        sessions,
        [post("tg-5521", "Клиент пишет: заблокировали карту, банк молчит", url=url + "?from=tg")],
        source="tg-finance",
        type="telegram",
    )

    assert len(result.new_item_ids) == 1 and result.grouped == 1
    stored = items(sessions)
    assert len(stored) == 2
    assert stored[0].group_id == stored[1].group_id
    assert group_sizes(sessions) == [2]


def test_repost_with_prefix_joins_the_original_group(sessions):
    save(sessions, [post("101")])
    result = save(
        sessions, [post("9001", f"Репост: {COMPLAINT}", source="tg-spb")], source="tg-spb", type="telegram"
    )

    assert result.grouped == 1
    assert group_sizes(sessions) == [2]


def test_copy_paste_with_different_punctuation_joins_the_group(sessions):
    copy = (
        "заказала в пятерочке доставку на 19 00 -- курьер приехал в 22:40, и привез теплое молоко!!! "
        "Поддержка ответила шаблоном и предложила промокод на 100 рублей... больше не закажу 😡"
    )
    save(sessions, [post("101"), post("102", copy)])

    assert group_sizes(sessions) == [2]


def test_different_texts_get_different_groups(sessions):
    result = save(sessions, [post("101"), post("102", PRAISE)])

    assert result.grouped == 0
    assert group_sizes(sessions) == [1, 1]


def test_two_short_texts_do_not_group(sessions):
    save(sessions, [post("101", "Спасибо!"), post("102", "Спасибо!!"), post("103", "Ужас, а не сервис")])

    assert group_sizes(sessions) == [1, 1, 1]


def test_a_copy_of_an_old_post_outside_the_window_starts_a_new_group(sessions):
    save(sessions, [post("101")])
    save(sessions, [post("202", f"Репост: {COMPLAINT}")], now=NOW + store.GROUP_WINDOW + timedelta(days=1))

    assert group_sizes(sessions) == [1, 1]


def test_cursor_is_saved_with_the_items(sessions):
    save(sessions, [post("101")], cursor={"next_from": "7/-1_101", "offset": 20})

    with sessions() as session:
        assert store.get_cursor(session, "vk-spb") == {"next_from": "7/-1_101", "offset": 20}


def test_cursor_and_items_are_rolled_back_together(sessions):
    save(sessions, [post("101")], cursor={"next_from": "old"})

    with pytest.raises(RuntimeError), sessions.begin() as session:
        store.save_batch(
            session, "vk-spb", "vk", Batch(items=[post("102", PRAISE)], cursor={"next_from": "new"})
        )
        raise RuntimeError("crawler process killed before commit")

    with sessions() as session:
        assert store.get_cursor(session, "vk-spb") == {"next_from": "old"}
    assert [item.external_id for item in items(sessions)] == ["101"]


def test_get_cursor_is_none_before_the_first_successful_crawl(sessions):
    with sessions() as session:
        assert store.get_cursor(session, "vk-spb") is None
    with sessions.begin() as session:
        store.record_failure(session, "vk-spb", "vk", "vk-spb: timed out")
        assert store.get_cursor(session, "vk-spb") is None


def test_record_failure_counts_failures_in_a_row_and_success_resets(sessions):
    for minute in range(2):
        with sessions.begin() as session:
            store.record_failure(
                session, "vk-spb", "vk", "vk-spb: HTTP 503", now=NOW + timedelta(minutes=minute)
            )
    with sessions() as session:
        source = session.scalar(select(Source))
        assert source.consecutive_failures == 2
        assert source.last_error == "vk-spb: HTTP 503"
        assert source.last_error_at == source.last_run_at == NOW + timedelta(minutes=1)

    save(sessions, [post("101")], now=NOW + timedelta(minutes=5))

    with sessions() as session:
        source = session.scalar(select(Source))
        assert source.consecutive_failures == 0
        assert source.last_success_at == source.last_run_at == NOW + timedelta(minutes=5)
        assert source.last_items_count == 1


def test_source_is_failing_after_three_failures_in_a_row(sessions):
    config = [TelegramSource(name="tg-spb", type="telegram", channels=["spb_today"], interval="15m")]
    for attempt in range(3):
        with sessions.begin() as session:
            store.record_failure(session, "tg-spb", "telegram", "tg-spb: HTTP 502", now=NOW)
            [health] = source_health(session, config, now=NOW)
            assert health.failing == (attempt == 2)


def test_source_is_silent_after_three_intervals_without_success(sessions):
    config = [RssSource(name="lenta", type="rss", urls=["https://lenta.ru/rss"], interval="1h")]
    save(sessions, [post("1")], source="lenta", type="rss", now=NOW)

    with sessions() as session:
        [fresh] = source_health(session, config, now=NOW + timedelta(hours=2, minutes=59))
        [quiet] = source_health(session, config, now=NOW + timedelta(hours=3, minutes=1))

    assert not fresh.silent and not fresh.failing
    assert quiet.silent and not quiet.failing
    assert quiet.last_success_at == NOW


def test_a_configured_source_never_crawled_is_reported_but_not_flagged(sessions):
    config = [RssSource(name="lenta", type="rss", urls=["https://lenta.ru/rss"])]
    with sessions() as session:
        [health] = source_health(session, config, now=NOW)

    assert (health.name, health.last_run_at, health.silent, health.failing) == ("lenta", None, False, False)


def test_items_with_empty_text_are_skipped_and_counted(sessions):
    result = save(sessions, [post("101", "   \n\t "), post("102", "\x00"), post("103", PRAISE)])

    assert result.skipped == 2
    assert len(result.new_item_ids) == 1


def test_nul_bytes_and_a_megabyte_of_text_are_stored(sessions):
    huge = ("Отзыв о Магните: очередь на кассе, просрочка на полке. " * 20_000)[:1_000_000]
    save(sessions, [post("101", "Пятёрочка\x00 на Невском\x00 закрыта"), post("102", huge)])

    stored = items(sessions)
    assert stored[0].text == "Пятёрочка на Невском закрыта"
    assert len(stored[1].text) == store.MAX_TEXT_CHARS
    assert stored[1].text == huge[: store.MAX_TEXT_CHARS].strip()


def test_timezone_aware_datetimes_come_back_aware_and_equal(sessions):
    published = datetime(2025, 3, 13, 23, 15, 42, 123456, tzinfo=MSK)
    save(sessions, [post("101", published_at=published)])

    [item] = items(sessions)
    assert item.published_at.tzinfo is not None
    assert item.published_at == published
    assert item.collected_at == NOW


def test_a_naive_published_at_is_taken_as_utc(sessions):
    save(sessions, [post("101", published_at=datetime(2025, 3, 13, 20, 15))])

    assert items(sessions)[0].published_at == datetime(2025, 3, 13, 20, 15, tzinfo=UTC)


def test_unwritable_sqlite_directory_gives_a_one_line_storage_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")

    with pytest.raises(StorageError) as error:
        open_database(f"sqlite:///{blocker / 'brandpulse.db'}")

    message = str(error.value)
    assert message.startswith(f"cannot open database {blocker / 'brandpulse.db'}: ")
    assert "\n" not in message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_sqlite_directory_gives_a_one_line_storage_error(tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir(mode=0o500)

    with pytest.raises(
        StorageError, match=r"^cannot open database .*brandpulse.db: directory is not writable$"
    ):
        open_database(f"sqlite:///{folder / 'brandpulse.db'}")


def test_unreachable_postgresql_gives_a_one_line_error_without_the_password():
    with pytest.raises(StorageError) as error:
        open_database("postgresql+psycopg://brandpulse:hunter2secret@127.0.0.1:1/brandpulse")

    message = str(error.value)
    assert message.startswith(
        "cannot open database postgresql+psycopg://brandpulse:***@127.0.0.1:1/brandpulse"
    )
    assert "hunter2secret" not in message and "\n" not in message


def test_database_url_from_the_environment_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://brandpulse@db.internal:5432/brandpulse")

    assert (
        database_url("sqlite:///data/brandpulse.db")
        == "postgresql+psycopg://brandpulse@db.internal:5432/brandpulse"
    )


def test_relative_sqlite_path_is_relative_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert (
        database_url("sqlite:///data/brandpulse.db")
        == f"sqlite:///{Path(tmp_path) / 'data' / 'brandpulse.db'}"
    )


def test_open_database_creates_the_folder_of_a_sqlite_file(tmp_path):
    path = tmp_path / "var" / "lib" / "brandpulse.db"
    open_database(f"sqlite:///{path}").dispose()

    assert path.is_file()


LAYOUT_WARNING = (
    "otzovik-sber: no items matched selector '.review-item' on https://otzovik.com/reviews/sber/ "
    "(layout changed?)"
)


def save_warned(sessions, warnings, now, items=()):
    with sessions.begin() as session:
        store.save_batch(session, "otzovik-sber", "site", Batch(list(items), {}, list(warnings)), now=now)


def site_health(sessions, now=NOW):
    config = [RssSource(name="otzovik-sber", type="rss", urls=["https://otzovik.com/rss"], interval="1h")]
    with sessions() as session:
        [health] = source_health(session, config, now=now)
    return health


def test_warnings_of_a_successful_crawl_are_recorded_and_a_clean_crawl_ends_their_run(sessions):
    save_warned(sessions, [LAYOUT_WARNING], now=NOW)
    save_warned(sessions, [LAYOUT_WARNING], now=NOW + timedelta(hours=1))
    warned = site_health(sessions, NOW + timedelta(hours=1))
    assert (warned.last_warning, warned.last_warning_at) == (LAYOUT_WARNING, NOW + timedelta(hours=1))
    assert (warned.consecutive_warning_runs, warned.warnings_since) == (2, NOW)
    assert warned.last_items_count == 0 and not warned.degraded

    save_warned(sessions, [], now=NOW + timedelta(hours=2), items=[post("1", source="otzovik-sber")])
    clean = site_health(sessions, NOW + timedelta(hours=2))
    assert (clean.consecutive_warning_runs, clean.warnings_since, clean.degraded) == (0, None, False)
    # Kept for the record, like last_error after a success.
    assert clean.last_warning == LAYOUT_WARNING


def test_source_whose_layout_warning_repeats_three_crawls_in_a_row_is_degraded(sessions):
    for run in range(3):
        save_warned(sessions, [LAYOUT_WARNING], now=NOW + timedelta(hours=run))
        health = site_health(sessions, NOW + timedelta(hours=run))
        assert health.degraded == (run == 2)
        # Every crawl "succeeded": neither failing nor silent would ever have said so.
        assert not health.failing and not health.silent


def test_a_failed_crawl_neither_extends_nor_ends_a_run_of_warned_crawls(sessions):
    save_warned(sessions, [LAYOUT_WARNING], now=NOW)
    save_warned(sessions, [LAYOUT_WARNING], now=NOW + timedelta(hours=1))
    with sessions.begin() as session:
        store.record_failure(session, "otzovik-sber", "site", "otzovik-sber: HTTP 503", now=NOW)
    assert site_health(sessions, NOW + timedelta(hours=1)).consecutive_warning_runs == 2
    save_warned(sessions, [LAYOUT_WARNING], now=NOW + timedelta(hours=2))
    assert site_health(sessions, NOW + timedelta(hours=2)).degraded


def test_many_warnings_of_one_crawl_keep_the_first_few_and_count_the_rest(sessions):
    warnings = [
        f"vk-spb: community c{n}: VK error 15 (Access denied)" for n in range(store.MAX_WARNINGS_KEPT + 3)
    ]
    save_warned(sessions, warnings, now=NOW)
    lines = site_health(sessions).last_warning.split("\n")
    assert lines == [*warnings[: store.MAX_WARNINGS_KEPT], "... and 3 more warnings"]


def test_intermediate_batch_keeps_the_run_of_warned_crawls_and_the_item_count(sessions):
    with sessions.begin() as session:
        warned = Batch([post("1"), post("2")], {}, ["стена закрыта"])
        store.save_batch(session, "vk-spb", "vk", warned, now=NOW)
        store.save_batch(session, "vk-spb", "vk", Batch([post("3")], {}), now=NOW, end_of_run=False)
        source = session.scalar(select(Source).where(Source.name == "vk-spb"))
        assert (source.consecutive_warning_runs, source.last_items_count) == (1, 2)
