"""`brandpulse bot`: alert buttons pressed in Telegram move the mention along the workflow, once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from alerts.bot import BotApi, BotApiError, poll_once
from monitor.db.models import BotOffset, Workflow
from tests.support.fake_telegram import FakeBotApi
from tests.support.seed import Post, seed

CHAT = "-100500"


@pytest.fixture
def mention_id(sessions) -> int:
    with sessions.begin() as session:
        [mention] = seed(session, [Post("В ВкусМаркете обсчитали на кассе", "ВкусМаркет")])
    return mention


def api_for(bot: FakeBotApi) -> BotApi:
    return BotApi(SecretStr(bot.token), bot.base_url)


def workflow(sessions, mention_id: int) -> tuple[str, str | None]:
    with sessions() as session:
        row = session.get(Workflow, mention_id)
        return row.status, row.assignee


def test_take_button_puts_the_mention_in_progress_and_confirms(sessions, bot, mention_id):
    bot.press(int(CHAT), 7, f"st:{mention_id}:in_progress")
    assert poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0) == 1
    assert workflow(sessions, mention_id) == ("in_progress", "telegram:ivan")
    assert bot.answered[0]["text"] == "Готово: «Беру в работу»"
    [edit] = bot.edited
    assert (edit["chat_id"], edit["message_id"]) == (CHAT, 7)
    assert edit["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ Беру в работу"


def test_presser_name_is_stored_as_plain_text(sessions, bot, mention_id):
    # The assignee is shown on the dashboard: no Markdown link or image may come through it.
    bot.press(int(CHAT), 7, f"st:{mention_id}:in_progress", username="![x](https://evil/x.png)")
    poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0)
    assert workflow(sessions, mention_id)[1] == "telegram:xhttpsevilx.png"


def test_not_relevant_button_ignores_the_mention(sessions, bot, mention_id):
    bot.press(int(CHAT), 7, f"st:{mention_id}:ignored")
    poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0)
    assert workflow(sessions, mention_id)[0] == "ignored"


def test_each_update_is_handled_once_across_restarts(sessions, bot, mention_id):
    first = bot.press(int(CHAT), 7, f"st:{mention_id}:in_progress")
    poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0)
    # Someone sets it back in the dashboard; a restarted bot must not replay the old press.
    with sessions.begin() as session:
        session.get(Workflow, mention_id).status = "new"
    assert poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0) == 0
    assert bot.offsets == [None, first + 1]
    assert workflow(sessions, mention_id)[0] == "new"
    with sessions() as session:
        assert session.get(BotOffset, bot.token.split(":")[0]).next_update_id == first + 1


def test_press_from_a_chat_not_in_the_config_changes_nothing(sessions, bot, mention_id):
    bot.press(-999, 7, f"st:{mention_id}:ignored")
    poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0)
    assert workflow(sessions, mention_id)[0] == "new"
    assert bot.answered[0]["text"] == "Этот чат не подключён к brandpulse" and bot.edited == []


def test_press_for_a_deleted_mention_is_answered(sessions, bot):
    bot.press(int(CHAT), 7, "st:424242:in_progress")
    poll_once(sessions, api_for(bot), {CHAT}, poll_timeout=0)
    assert "не найдено" in bot.answered[0]["text"]


def test_wrong_token_is_a_clear_error_without_the_token(sessions, bot):
    with pytest.raises(BotApiError) as error:
        poll_once(sessions, BotApi(SecretStr("999:secret-part"), bot.base_url), {CHAT}, poll_timeout=0)
    assert "getUpdates: Telegram 401" in str(error.value) and "secret-part" not in str(error.value)


def brandpulse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bot_command_handles_waiting_presses(tmp_path, bot, monkeypatch):
    database = tmp_path / "bp.db"
    config = tmp_path / "spiders.yaml"
    config.write_text(
        f'brands: [{{name: ВкусМаркет}}]\nalerts: {{telegram: {{chat_ids: [{CHAT}]}}}}\nstorage: {{url: "sqlite:///{database}"}}\n',
        encoding="utf-8",
    )
    from monitor.db.session import open_database, session_factory

    engine = open_database(f"sqlite:///{database}")
    sessions = session_factory(engine)
    with sessions.begin() as session:
        [mention] = seed(session, [Post("ВкусМаркет хамит", "ВкусМаркет")])
    bot.press(int(CHAT), 3, f"st:{mention}:in_progress")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot.token)
    monkeypatch.setenv("TELEGRAM_API_BASE", bot.base_url)
    result = brandpulse("bot", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 updates handled"
    assert workflow(sessions, mention)[0] == "in_progress"
    engine.dispose()


def test_bot_command_without_a_token_is_one_line_error(tmp_path):
    config = tmp_path / "spiders.yaml"
    config.write_text("brands: [{name: ВкусМаркет}]\n", encoding="utf-8")
    result = brandpulse("bot", "--config", str(config), "--once")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "Error: TELEGRAM_BOT_TOKEN is not set: the bot needs the alert bot's token"
    )
