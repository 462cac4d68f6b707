"""VK's execute: the first pages of comments under many posts in one request, inner errors one post
at a time; and VK warnings reaching the source's health through the pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crawlers.vk import MIN_CALL_INTERVAL, VkCrawler
from monitor.config import parse_config
from monitor.demo_vk import VkApiEmulator, load_vk_data
from monitor.pipeline import Pipeline
from monitor.source_health import source_health
from tests.support.fake_vk import TOKEN, FakeClock, FakeVk
from tests.test_vk import MAGNIT, OWN, by_id, crawl

# Ten new posts on the brand's wall, each with one comment: the ten newest the crawler reads comments of.
NEW_POSTS = range(2001, 2011)


@pytest.fixture
def vk(vk_server: FakeVk, clock: FakeClock) -> FakeVk:
    vk_server.reset(clock=clock)
    for post_id in NEW_POSTS:
        date = 1795000000 + post_id
        vk_server.data.posts.append(
            {"id": post_id, "owner_id": OWN, "from_id": OWN, "date": date, "text": f"Новость №{post_id}"}
        )
        vk_server.data.comments.append(
            {
                "id": post_id + 100,
                "owner_id": OWN,
                "post_id": post_id,
                "from_id": 51234017,
                "date": date + 60,
                "parents_stack": [],
                "text": f"В Магните под постом {post_id} опять очередь на кассах",
            }
        )
    return vk_server


def comment_id(post_id: int) -> str:
    return f"wall{OWN}_{post_id}_r{post_id + 100}"


def http_requests(vk: FakeVk, method: str) -> list[dict[str, str]]:
    return [request.params for request in vk.requests if request.method == method]


def test_comments_of_ten_posts_arrive_in_one_execute_request(vk_token, vk, clock):
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club218734561"])
    assert len(http_requests(vk, "execute")) == 1
    assert http_requests(vk, "wall.getComments") == []
    # Inside it: one wall.getComments per post, the ten new ones and the pinned one.
    assert {int(c["post_id"]) for c in vk.calls("wall.getComments")} == {*NEW_POSTS, 1520}
    assert {comment_id(post_id) for post_id in NEW_POSTS} <= set(by_id(batch))
    assert batch.warnings == []
    assert batch.cursor["groups"]["-218734561"]["comments"]["2005"] == {"count": 1, "last_id": 2105}


def test_an_inner_error_of_execute_is_one_warning_and_the_other_posts_keep_their_comments(
    vk_token, vk, clock
):
    vk.fail("wall.getComments", 212, times=None, post_id=2003)
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club218734561"])
    assert len(http_requests(vk, "execute")) == 1
    assert len(batch.warnings) == 1
    assert f"comments of wall{OWN}_2003" in batch.warnings[0] and "VK error 212" in batch.warnings[0]
    assert comment_id(2003) not in by_id(batch)
    assert {comment_id(post_id) for post_id in NEW_POSTS if post_id != 2003} <= set(by_id(batch))
    # Nothing recorded for that post: the next run asks for its comments again.
    comments = batch.cursor["groups"]["-218734561"]["comments"]
    assert comments["2003"] == {} and comments["2004"] == {"count": 1, "last_id": 2104}


def test_an_inner_rate_limit_error_is_retried_as_a_call_of_its_own(vk_token, vk, clock):
    vk.fail("wall.getComments", 6, times=1, post_id=2004)
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club218734561"])
    assert batch.warnings == []
    assert comment_id(2004) in by_id(batch)
    assert [c["post_id"] for c in http_requests(vk, "wall.getComments")] == ["2004"]


def test_execute_refused_as_a_whole_is_one_warning_and_the_wall_still_counts(vk_token, vk, clock):
    vk.fail("execute", 14, times=None)
    batch = crawl(vk, clock, all_brands=[MAGNIT], groups=["club218734561"])
    assert len(batch.warnings) == 1 and "execute: VK error 14" in batch.warnings[0]
    assert f"wall{OWN}_2005" in by_id(batch) and comment_id(2005) not in by_id(batch)
    assert batch.cursor["groups"]["-218734561"]["comments"]["2005"] == {}


def test_execute_requests_keep_to_the_rate_limit(vk_token, vk, clock):
    crawl(vk, clock, groups=["club218734561", "vkusmarket", "skidki_tmn"])
    moments = [request.at for request in vk.requests]
    assert "execute" in {request.method for request in vk.requests}
    assert all(
        later - earlier >= MIN_CALL_INTERVAL for earlier, later in zip(moments, moments[1:], strict=False)
    )


# --- the fake's execute -------------------------------------------------------------------------


def test_fake_execute_answers_false_for_a_failed_call_and_lists_its_error():
    api = VkApiEmulator(load_vk_data(), token=TOKEN)
    code = (
        'return [API.wall.get({"owner_id": -218734561, "count": 1}), API.wall.get({"owner_id": -220051937})];'
    )
    answer = api.answer("execute", {"code": code, "access_token": TOKEN, "v": "5.199"})
    first, second = answer["response"]
    assert first["items"][0]["owner_id"] == -218734561 and second is False
    [error] = answer["execute_errors"]
    assert (error["method"], error["error_code"]) == ("wall.get", 15)


@pytest.mark.parametrize(
    "code",
    [
        "return API.wall.get({});",
        'var a = 1; return [API.wall.get({"owner_id": 1})];',
        "return [API.wall.get(1)];",
    ],
)
def test_fake_execute_refuses_code_outside_the_one_form_it_runs(code):
    api = VkApiEmulator(load_vk_data(), token=TOKEN)
    answer = api.answer("execute", {"code": code, "access_token": TOKEN, "v": "5.199"})
    assert answer["error"]["error_code"] == 12


def test_fake_execute_refuses_more_than_25_calls():
    api = VkApiEmulator(load_vk_data(), token=TOKEN)
    code = "return [" + ",".join(['API.wall.get({"owner_id": -218734561})'] * 26) + "];"
    answer = api.answer("execute", {"code": code, "access_token": TOKEN, "v": "5.199"})
    assert answer["error"]["error_code"] == 13


# --- warnings reach the source's health ----------------------------------------------------------


def test_vk_source_whose_community_keeps_refusing_is_degraded_after_three_runs(
    vk_token, vk, clock, sessions: sessionmaker[Session]
):
    config = parse_config(f"""
brands:
  - name: Магнит
sources:
  - name: vk-walls
    type: vk
    interval: 1h
    api_base: {vk.api_base}
    groups: [vkusmarket_staff, club218734561]
""")
    crawler = VkCrawler(clock=clock, sleep=clock.sleep)
    pipeline = Pipeline(config, sessions, crawlers={"vk": crawler})
    for run in range(3):
        report = pipeline.crawl(config.sources[0])
        assert report.error is None and len(report.warnings) == 1
        with sessions() as session:
            [health] = source_health(session, config.sources)
        assert health.degraded == (run == 2) and not health.failing
    assert health.consecutive_warning_runs == 3
    assert "community vkusmarket_staff" in (health.last_warning or "")
    assert "VK error 15" in (health.last_warning or "")
