"""The dashboard's words in Russian (the default) and English; every string on a page comes from here.

`t("inbox.take")` answers in the language picked in the sidebar; `translate(key, lang)` works outside
Streamlit. A key missing from a language shows as the key itself, and a test checks both languages
have the same keys.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "ru"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
# Where the sidebar switch keeps the choice (also the URL parameter: ?lang=en).
STATE_KEY = "lang"

MESSAGES: dict[Language, dict[str, str]] = {
    "ru": {
        "app.language": "Язык / Language",
        "app.database_error": "База данных недоступна: {error}",
        "app.config_error": "Ошибка в настройках: {error}",
        "app.page": "Раздел",
        "page.inbox": "Входящие",
        "page.summary": "Сводка",
        "page.health": "Состояние",
        "page.trends": "Тренды",
        "page.response": "Время ответа",
        "role.staff": "сотрудник",
        "role.viewer": "только просмотр",
        "auth.title": "Вход для сотрудников",
        "auth.name": "Имя пользователя",
        "auth.password": "Пароль",
        "auth.submit": "Войти",
        "auth.wrong": "Неверное имя или пароль.",
        "auth.locked": "Слишком много неудачных попыток. Повторите через {seconds} с.",
        "auth.logout": "Выйти",
        "auth.signed_in": "Вы вошли как **{name}** ({role})",
        "auth.demo_mode": (
            "Локальный демо-режим: пользователи не настроены, вход отключён, все действия от имени «demo». "
            "Дашборд доступен только с этого компьютера. Добавьте пользователей командой "
            "`brandpulse user add`."
        ),
        "auth.no_users": (
            "Вход не настроен: пользователи не заданы, а дашборд открыт не только на 127.0.0.1. "
            "Добавьте пользователей (`brandpulse user add`) или запустите на 127.0.0.1."
        ),
        "filter.brands": "Бренды",
        "filter.any": "Все",
        "filter.sentiment": "Тональность",
        "filter.status": "Статус",
        "filter.sources": "Источники",
        "filter.mine": "Только мои",
        "filter.search": "Поиск по тексту",
        "filter.dates": "Опубликовано",
        "filter.date_from": "С",
        "filter.date_to": "По",
        "filter.dates_reversed": "Дата «по» раньше даты «с»: показан период между ними.",
        "period.all": "За всё время",
        "period.today": "Сегодня",
        "period.yesterday": "Вчера",
        "period.last_7_days": "7 дней",
        "period.last_30_days": "30 дней",
        "period.this_week": "Эта неделя",
        "period.last_week": "Прошлая неделя",
        "period.custom": "Свои даты…",
        "sentiment.negative": "🔴 негатив",
        "sentiment.neutral": "⚪ нейтрально",
        "sentiment.positive": "🟢 позитив",
        "sentiment.none": "— не оценено",
        "status.new": "новое",
        "status.in_progress": "в работе",
        "status.resolved": "решено",
        "status.ignored": "не релевантно",
        "inbox.shown": "Показано {count}, новые сверху · страница {page}",
        "noun.mention.one": "{n} упоминание",
        "noun.mention.few": "{n} упоминания",
        "noun.mention.many": "{n} упоминаний",
        "inbox.matching": "под фильтры подходит {total}",
        "inbox.newer": "← Новее",
        "inbox.older": "Старше →",
        "inbox.empty": "Нет упоминаний под эти фильтры.",
        "inbox.pick": "Выбрать",
        "inbox.no_author": "автор неизвестен",
        "inbox.reach": "охват {reach}",
        "inbox.copies": "копий: {count}",
        "inbox.corrected": "исправлено, модель: {model}",
        "inbox.by_rating": "по оценке автора; текст модель прочла как: {model}",
        "inbox.own_post": "🏷 пост бренда",
        "inbox.by_place": "📍 на площадке бренда, без названия",
        "inbox.open_original": "Открыть оригинал",
        "inbox.status": "Статус",
        "inbox.sentiment": "Тональность",
        "inbox.sentiment_help": "Исправление сохраняется отдельно от оценки модели и идёт в дообучение.",
        "inbox.take": "Взять себе",
        "inbox.replied": "Ответили",
        "inbox.replied_help": "Отметить, что автору ответили: фиксирует время первого ответа.",
        "inbox.note": "Заметка",
        "inbox.save_note": "Сохранить",
        "inbox.note_shown": "📝 {note}",
        "inbox.assignee": "👤 {name}",
        "inbox.unassigned": "не назначено",
        "inbox.responded": "✉️ первый ответ через {duration}",
        "inbox.done": "Готово: изменено упоминаний: {count}.",
        "bulk.picked": "**Выбрано упоминаний: {count}.** Действие для всех выбранных:",
        "bulk.apply": "Применить",
        "unit.days": "{n} д",
        "unit.hours": "{n} ч",
        "unit.minutes": "{n} мин",
        "summary.title": "Упоминания по брендам",
        "summary.brand": "бренд",
        "summary.side": "сторона",
        "summary.us": "мы",
        "summary.competitor": "конкурент",
        "summary.total": "всего",
        "health.sources": "Источники",
        "health.no_config": "Файл настроек не найден: показаны только источники из базы.",
        "health.no_sources": "Ни в базе, ни в настройках нет источников.",
        "health.troubled": "Требуют внимания: {names}",
        "health.state": "состояние",
        "health.source": "источник",
        "health.type": "тип",
        "health.last_success": "последний успех",
        "health.last_items": "элементов за запуск",
        "health.unmatched": "без бренда за {days} дн.",
        "health.unmatched_items": "Собранное, где не нашлось ни одного бренда (за {days} дн.)",
        "health.published": "опубликовано",
        "health.author": "автор",
        "health.text": "текст",
        "health.link": "ссылка",
        "health.failures": "ошибок подряд",
        "health.last_error_at": "последняя ошибка",
        "health.last_error": "текст ошибки",
        "health.ok": "🟢 работает",
        "health.silent": "🟡 молчит",
        "health.failing": "🔴 ошибки",
        "health.blocked": "⛔ заблокирован анти-бот проверкой сайта",
        "health.degraded": "🟠 с предупреждениями",
        "health.last_warning": "последнее предупреждение",
        "health.off": "⚪ выключен",
        "health.never_ran": "⚪ ещё не запускался",
        "health.in_config": "в настройках",
        "health.config_on": "включён",
        "health.config_off": "выключен",
        "health.not_in_config": "нет",
        "health.outbox": "Очередь оповещений",
        "health.outbox_empty": "Все оповещения доставлены.",
        "health.chat": "чат",
        "health.pending": "ждут отправки",
        "health.failed": "не доставлены",
        "health.oldest": "самое старое",
        "health.model": "Модель тональности",
        "health.configured_model": "В настройках: движок `{engine}`, модель {model}.",
        "health.shipped_model": "встроенная",
        "health.nothing_scored": "Ещё ничего не оценено.",
        "health.model_name": "модель",
        "health.scored": "оценено упоминаний",
        "health.last_scored": "последняя оценка",
        "trends.week": "Неделя",
        "trends.week_label": "{first}–{last} (неделя {number})",
        "trends.volume": "Упоминания по неделям",
        "trends.no_mentions": "За эти недели упоминаний нет.",
        "trends.sentiment_chart": "Тональность упоминаний наших брендов",
        "trends.share_axis": "доля упоминаний за неделю",
        "trends.share": "доля",
        "trends.topics": "О чём негатив: эта неделя и прошлая",
        "trends.topics_caption": (
            "Негативных упоминаний наших брендов: {this_week} на этой неделе, {last_week} на прошлой. "
            "Слова приведены к начальной форме; названия брендов и служебные слова не считаются; "
            "показаны встреченные хотя бы в двух упоминаниях."
        ),
        "trends.all_weeks": "Все недели по брендам",
        "response.weeks": "Период, недель",
        "response.unanswered": "Негатив без ответа дольше часа",
        "response.all_answered": (
            "Негатива без ответа дольше часа нет (негативных упоминаний за {days} дней: {count})."
        ),
        "response.no_negative": "Негативных упоминаний за {days} дней нет.",
        "response.waiting": "Ждут ответа: {count}. Самые давние сверху.",
        "response.waited": "ждёт {duration}",
        "response.more": "…и ещё {count}; полный список — в выгрузке XLSX.",
        "response.week": "Неделя {week}",
        "response.median": "Медиана до ответа",
        "response.median_help": "От публикации до первого ответа",
        "response.p90": "p90 до ответа",
        "response.p90_help": "9 из 10 ответов были быстрее",
        "response.within_hour": "Ответ ≤ 1 ч",
        "response.within_day": "Ответ ≤ 24 ч",
        "response.points": "{delta} п.п.",
        "response.measure": "показатель",
        "response.hours": "часы",
        "response.hours_axis": "часы от публикации",
        "response.median_response": "медиана до ответа",
        "response.p90_response": "p90 до ответа",
        "response.median_resolution": "медиана до решения",
        "response.no_answers": "За выбранный период ответов нет.",
        "response.caption": (
            "Один пост и его копии считаются одним упоминанием; ответ на любую копию — ответ на всё. "
            "Доля ответов в срок считается от публикации, среди упоминаний, срок ответа на которые "
            "уже прошёл или которые уже получили ответ. Не релевантные и упоминания конкурентов "
            "не учитываются."
        ),
        "download.xlsx_all": "⬇ XLSX (все таблицы)",
        "download.no_data": "Нет данных за выбранный период.",
        "download.inbox": "Выгрузить отфильтрованные упоминания",
        "table.inbox": "Входящие",
        "table.by_week": "По неделям",
        "table.by_source": "По источникам",
        "table.by_manager": "По менеджерам",
        "table.waiting": "Ждут ответа",
        "table.volume": "Упоминания по неделям",
        "table.voice": "Доля голоса",
        "table.change": "Неделя к неделе",
        "table.sources": "Источники",
        "table.authors": "Авторы",
        "table.words": "Слова негатива",
        "table.phrases": "Фразы негатива",
        "table.us": "мы",
        "table.competitor": "конкурент",
        "table.brand": "бренд",
        "table.side": "сторона",
        "table.source": "источник",
        "table.author": "автор",
        "table.published": "опубликовано",
        "table.sentiment": "тональность",
        "table.score": "оценка",
        "table.status": "статус",
        "table.assignee": "ответственный",
        "table.copies": "копий",
        "table.reach": "охват",
        "table.url": "ссылка",
        "table.text": "текст",
        "table.week": "неделя",
        "table.mentions": "упоминаний",
        "table.answered": "с ответом",
        "table.resolved": "решено",
        "table.response_publication_median": "до ответа от публикации, медиана, ч",
        "table.response_publication_p90": "до ответа от публикации, p90, ч",
        "table.response_collection_median": "до ответа от сбора, медиана, ч",
        "table.response_collection_p90": "до ответа от сбора, p90, ч",
        "table.resolution_publication_median": "до решения от публикации, медиана, ч",
        "table.resolution_publication_p90": "до решения от публикации, p90, ч",
        "table.resolution_collection_median": "до решения от сбора, медиана, ч",
        "table.resolution_collection_p90": "до решения от сбора, p90, ч",
        "table.within_hour": "ответ ≤ 1 ч, %",
        "table.within_day": "ответ ≤ 24 ч, %",
        "table.waiting_hours": "ждёт, ч",
        "table.negative": "негатив",
        "table.neutral": "нейтрально",
        "table.positive": "позитив",
        "table.unscored": "не оценено",
        "table.total": "всего",
        "table.share": "доля, %",
        "table.this_week": "эта неделя",
        "table.last_week": "прошлая неделя",
        "table.change_percent": "изменение, %",
        "table.negative_now": "негатив сейчас",
        "table.negative_before": "негатив раньше",
        "table.negative_of_them": "из них негатив",
        "table.word": "слово",
        "table.phrase": "фраза",
    },
    "en": {
        "app.language": "Язык / Language",
        "app.database_error": "The database is unavailable: {error}",
        "app.config_error": "Configuration error: {error}",
        "app.page": "Page",
        "page.inbox": "Inbox",
        "page.summary": "Summary",
        "page.health": "Health",
        "page.trends": "Trends",
        "page.response": "Response time",
        "role.staff": "staff",
        "role.viewer": "read-only",
        "auth.title": "Staff login",
        "auth.name": "User name",
        "auth.password": "Password",
        "auth.submit": "Log in",
        "auth.wrong": "Wrong user name or password.",
        "auth.locked": "Too many failed attempts. Try again in {seconds} s.",
        "auth.logout": "Log out",
        "auth.signed_in": "Logged in as **{name}** ({role})",
        "auth.demo_mode": (
            "Local demo mode: no users are configured, so there is no login and every action is "
            "made as “demo”. The dashboard is reachable from this computer only. Add users with "
            "`brandpulse user add`."
        ),
        "auth.no_users": (
            "No login configured: there are no users, and the dashboard listens beyond 127.0.0.1. "
            "Add users (`brandpulse user add`) or run it on 127.0.0.1."
        ),
        "filter.brands": "Brands",
        "filter.any": "Any",
        "filter.sentiment": "Sentiment",
        "filter.status": "Status",
        "filter.sources": "Sources",
        "filter.mine": "Mine only",
        "filter.search": "Search the text",
        "filter.dates": "Published",
        "filter.date_from": "From",
        "filter.date_to": "To",
        "filter.dates_reversed": 'The "to" day is before the "from" day: showing the days between them.',
        "period.all": "Any time",
        "period.today": "Today",
        "period.yesterday": "Yesterday",
        "period.last_7_days": "Last 7 days",
        "period.last_30_days": "Last 30 days",
        "period.this_week": "This week",
        "period.last_week": "Last week",
        "period.custom": "Custom dates…",
        "sentiment.negative": "🔴 negative",
        "sentiment.neutral": "⚪ neutral",
        "sentiment.positive": "🟢 positive",
        "sentiment.none": "— not scored",
        "status.new": "new",
        "status.in_progress": "in progress",
        "status.resolved": "resolved",
        "status.ignored": "not relevant",
        "inbox.shown": "Showing {count}, newest first · page {page}",
        "noun.mention.one": "{n} mention",
        "noun.mention.few": "{n} mentions",
        "noun.mention.many": "{n} mentions",
        "inbox.matching": "{total} match the filters",
        "inbox.newer": "← Newer",
        "inbox.older": "Older →",
        "inbox.empty": "No mentions match these filters.",
        "inbox.pick": "Select",
        "inbox.no_author": "unknown author",
        "inbox.reach": "reach {reach}",
        "inbox.copies": "copies: {count}",
        "inbox.corrected": "corrected, model said {model}",
        "inbox.by_rating": "by the author's rating; the model read the text as {model}",
        "inbox.own_post": "🏷 the brand's own post",
        "inbox.by_place": "📍 in the brand's place, name not written",
        "inbox.open_original": "Open the original",
        "inbox.status": "Status",
        "inbox.sentiment": "Sentiment",
        "inbox.sentiment_help": "Stored apart from the model's label and used for retraining.",
        "inbox.take": "Take",
        "inbox.replied": "Replied",
        "inbox.replied_help": "Mark that the author got an answer: records the time to first response.",
        "inbox.note": "Note",
        "inbox.save_note": "Save",
        "inbox.note_shown": "📝 {note}",
        "inbox.assignee": "👤 {name}",
        "inbox.unassigned": "unassigned",
        "inbox.responded": "✉️ first response after {duration}",
        "inbox.done": "Done: {count} mentions changed.",
        "bulk.picked": "**{count} mentions selected.** Apply to all of them:",
        "bulk.apply": "Apply",
        "unit.days": "{n} d",
        "unit.hours": "{n} h",
        "unit.minutes": "{n} min",
        "summary.title": "Mentions per brand",
        "summary.brand": "brand",
        "summary.side": "side",
        "summary.us": "us",
        "summary.competitor": "competitor",
        "summary.total": "total",
        "health.sources": "Sources",
        "health.no_config": "No configuration file found: only the database's sources are shown.",
        "health.no_sources": "Neither the database nor the configuration has any source.",
        "health.troubled": "Need attention: {names}",
        "health.state": "state",
        "health.source": "source",
        "health.type": "type",
        "health.last_success": "last success",
        "health.last_items": "items last run",
        "health.unmatched": "no brand, {days} days",
        "health.unmatched_items": "Collected items in which no brand was found (last {days} days)",
        "health.published": "published",
        "health.author": "author",
        "health.text": "text",
        "health.link": "link",
        "health.failures": "failures in a row",
        "health.last_error_at": "last error at",
        "health.last_error": "last error",
        "health.ok": "🟢 working",
        "health.silent": "🟡 silent",
        "health.failing": "🔴 failing",
        "health.blocked": "⛔ blocked by the site's anti-bot check",
        "health.degraded": "🟠 warnings",
        "health.last_warning": "last warning",
        "health.off": "⚪ disabled",
        "health.never_ran": "⚪ never ran",
        "health.in_config": "in the configuration",
        "health.config_on": "enabled",
        "health.config_off": "disabled",
        "health.not_in_config": "no",
        "health.outbox": "Alert outbox",
        "health.outbox_empty": "Every alert has been delivered.",
        "health.chat": "chat",
        "health.pending": "waiting",
        "health.failed": "failed",
        "health.oldest": "oldest waiting",
        "health.model": "Sentiment model",
        "health.configured_model": "Configured: engine `{engine}`, model {model}.",
        "health.shipped_model": "the shipped one",
        "health.nothing_scored": "Nothing scored yet.",
        "health.model_name": "model",
        "health.scored": "mentions scored",
        "health.last_scored": "last scored",
        "trends.week": "Week",
        "trends.week_label": "{first}–{last} (week {number})",
        "trends.volume": "Mentions per week",
        "trends.no_mentions": "No mentions in these weeks.",
        "trends.sentiment_chart": "Sentiment of our brands' mentions",
        "trends.share_axis": "share of the week's mentions",
        "trends.share": "share",
        "trends.topics": "What the negative mentions say: this week and last",
        "trends.topics_caption": (
            "Negative mentions of our brands: {this_week} this week, {last_week} last week. Words are "
            "reduced to their dictionary form; brand names and function words are left out; only those "
            "found in at least two mentions are shown."
        ),
        "trends.all_weeks": "All weeks per brand",
        "response.weeks": "Period, weeks",
        "response.unanswered": "Negative mentions unanswered for over an hour",
        "response.all_answered": (
            "No negative mention has waited over an hour for an answer "
            "(negative mentions in {days} days: {count})."
        ),
        "response.no_negative": "No negative mentions in the last {days} days.",
        "response.waiting": "Waiting for an answer: {count}. Oldest first.",
        "response.waited": "waiting {duration}",
        "response.more": "…and {count} more; the XLSX download has the full list.",
        "response.week": "Week {week}",
        "response.median": "Median to response",
        "response.median_help": "From publication to the first response",
        "response.p90": "p90 to response",
        "response.p90_help": "9 responses out of 10 were faster",
        "response.within_hour": "Answered ≤ 1 h",
        "response.within_day": "Answered ≤ 24 h",
        "response.points": "{delta} pp",
        "response.measure": "measure",
        "response.hours": "hours",
        "response.hours_axis": "hours from publication",
        "response.median_response": "median to response",
        "response.p90_response": "p90 to response",
        "response.median_resolution": "median to resolution",
        "response.no_answers": "No responses in the chosen period.",
        "response.caption": (
            "A post and its copies count as one mention; an answer to any copy answers them all. The "
            "share answered in time counts from publication, among the mentions whose deadline has passed "
            "or that have been answered. Mentions marked not relevant and competitors' mentions are left out."
        ),
        "download.xlsx_all": "⬇ XLSX (all tables)",
        "download.no_data": "No data for the chosen period.",
        "download.inbox": "Download the filtered mentions",
        "table.inbox": "Inbox",
        "table.by_week": "By week",
        "table.by_source": "By source",
        "table.by_manager": "By manager",
        "table.waiting": "Waiting for an answer",
        "table.volume": "Mentions per week",
        "table.voice": "Share of voice",
        "table.change": "Week over week",
        "table.sources": "Sources",
        "table.authors": "Authors",
        "table.words": "Negative words",
        "table.phrases": "Negative phrases",
        "table.us": "us",
        "table.competitor": "competitor",
        "table.brand": "brand",
        "table.side": "side",
        "table.source": "source",
        "table.author": "author",
        "table.published": "published",
        "table.sentiment": "sentiment",
        "table.score": "score",
        "table.status": "status",
        "table.assignee": "assignee",
        "table.copies": "copies",
        "table.reach": "reach",
        "table.url": "link",
        "table.text": "text",
        "table.week": "week",
        "table.mentions": "mentions",
        "table.answered": "answered",
        "table.resolved": "resolved",
        "table.response_publication_median": "to response from publication, median, h",
        "table.response_publication_p90": "to response from publication, p90, h",
        "table.response_collection_median": "to response from collection, median, h",
        "table.response_collection_p90": "to response from collection, p90, h",
        "table.resolution_publication_median": "to resolution from publication, median, h",
        "table.resolution_publication_p90": "to resolution from publication, p90, h",
        "table.resolution_collection_median": "to resolution from collection, median, h",
        "table.resolution_collection_p90": "to resolution from collection, p90, h",
        "table.within_hour": "answered ≤ 1 h, %",
        "table.within_day": "answered ≤ 24 h, %",
        "table.waiting_hours": "waiting, h",
        "table.negative": "negative",
        "table.neutral": "neutral",
        "table.positive": "positive",
        "table.unscored": "not scored",
        "table.total": "total",
        "table.share": "share, %",
        "table.this_week": "this week",
        "table.last_week": "last week",
        "table.change_percent": "change, %",
        "table.negative_now": "negative now",
        "table.negative_before": "negative before",
        "table.negative_of_them": "of them negative",
        "table.word": "word",
        "table.phrase": "phrase",
    },
}


def translate(key: str, language: str, **values: Any) -> str:
    """The text for `key` in `language` with {placeholders} filled; the key itself when unknown."""
    messages: dict[str, str] = MESSAGES.get(language, MESSAGES[DEFAULT_LANGUAGE])  # type: ignore[call-overload]
    text = messages.get(key, key)
    return text.format(**values) if values else text


def current_language() -> str:
    import streamlit as st

    language = st.session_state.get(STATE_KEY)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **values: Any) -> str:
    """`translate` in the language this browser session picked."""
    return translate(key, current_language(), **values)


def counted(n: int, noun: str, language: str) -> str:
    """«1 упоминание», «3 упоминания», «11 упоминаний»: the noun in the form its number takes."""
    return translate(f"noun.{noun}.{plural_form(n, language)}", language, n=number_text(n, language))


def plural_form(n: int, language: str) -> str:
    """one, few or many: Russian agrees a noun with the number's last digits (1, 2-4, the rest)."""
    if language != "ru":
        return "one" if n == 1 else "many"
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    return "few" if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else "many"


def number_text(n: int, language: str) -> str:
    """27 400 in Russian, 27,400 in English."""
    return f"{n:,}".replace(",", " ") if language == "ru" else f"{n:,}"


def decimal_text(value: float, digits: int, language: str) -> str:
    """683,8 in Russian, 683.8 in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "ru" else text


def duration_text(days: int, hours: int, minutes: int, language: str) -> str:
    """'1 д 2 ч' / '5 min': the two largest non-zero units (minutes when all are zero)."""
    parts = [
        translate(f"unit.{unit}", language, n=n)
        for unit, n in (("days", days), ("hours", hours), ("minutes", minutes))
        if n
    ]
    return " ".join(parts[:2]) or translate("unit.minutes", language, n=0)


def language_switch(default: str = DEFAULT_LANGUAGE) -> str:
    """The sidebar's language choice, kept in the URL (?lang=en) so a reload keeps it."""
    import streamlit as st

    if STATE_KEY not in st.session_state and default in LANGUAGES:
        st.session_state[STATE_KEY] = default
    st.sidebar.selectbox(
        translate("app.language", DEFAULT_LANGUAGE),
        LANGUAGES,
        format_func=LANGUAGE_NAMES.__getitem__,
        key=STATE_KEY,
    )
    return current_language()
