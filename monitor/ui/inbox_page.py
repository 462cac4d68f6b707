"""The inbox: our brands' mentions newest first, filtered and paged (keyset) in the database, with the
staff actions (take, status, note, sentiment correction, replied) on one row or on the ticked rows.
A viewer sees the same rows without any action."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker
from streamlit.delta_generator import DeltaGenerator

from monitor import actions
from monitor.auth import Actor
from monitor.clock import display_timezone
from monitor.errors import BrandpulseError
from monitor.queries import (
    INBOX_COUNT_CAP,
    LABELS,
    STATUSES,
    InboxChoices,
    InboxCursor,
    InboxFilter,
    InboxRow,
    InboxView,
    inbox_choices,
    inbox_count,
    inbox_view,
)
from monitor.ui import date_filter, downloads
from monitor.ui.i18n import counted, current_language, duration_text, number_text, t
from monitor.ui.render import duration, highlighted, local_time, safe_link, safe_text
from monitor.ui.tables import NO_NAMES, SourceNames, source_name

Sessions = sessionmaker[Session]


def render(
    sessions: Sessions, actor: Actor, page_size: int = 25, source_names: SourceNames = NO_NAMES
) -> None:
    filters = _filters(sessions, actor, source_names)
    downloads.inbox_buttons(sessions, filters, display_timezone(), source_names)
    position = _position(filters)
    with sessions() as session:
        view = inbox_view(session, filters, page_size, after=position.after, before=position.before)
    total = _count(str(sessions.kw["bind"].url), sessions, filters)
    page = 1 if view.newer is None else position.page
    _flash()
    if actor.can_act:
        _bulk_bar(sessions, actor, view.rows)
    matching = f"{INBOX_COUNT_CAP:,}+" if total is None else f"{total:,}"
    st.caption(
        t("inbox.shown", count=counted(len(view.rows), "mention", current_language()), page=page)
        + " · "
        + t("inbox.matching", total=matching.replace(",", " "))
    )
    if not view.rows:
        st.info(t("inbox.empty"))
    for row in view.rows:
        with st.container(border=True):
            _card(sessions, actor, row, source_name(row.source, source_names))
    _pager(filters, view, page)


@dataclass(frozen=True)
class _Position:
    """Which page the inbox shows: the cursor it was reached from, for the filters it was reached with."""

    filters: InboxFilter
    after: InboxCursor | None = None
    before: InboxCursor | None = None
    page: int = 1


def _position(filters: InboxFilter) -> _Position:
    position = st.session_state.get("inbox_position")
    # Other filters, other pages: back to the newest.
    if not isinstance(position, _Position) or position.filters != filters:
        return _Position(filters)
    return position


def _pager(filters: InboxFilter, view: InboxView, page: int) -> None:
    """Newer / older instead of page numbers: each page seeks from the row next to it (keyset
    paging), so deep pages stay fast and new mentions never shift what the older pages hold."""
    newer, older = st.columns(2)
    newer.button(
        t("inbox.newer"),
        key="inbox-newer",
        disabled=view.newer is None,
        on_click=_go,
        args=(_Position(filters, before=view.newer, page=max(page - 1, 1)),),
    )
    older.button(
        t("inbox.older"),
        key="inbox-older",
        disabled=view.older is None,
        on_click=_go,
        args=(_Position(filters, after=view.older, page=page + 1),),
    )


def _go(position: _Position) -> None:
    st.session_state["inbox_position"] = position


def _filters(sessions: Sessions, actor: Actor, source_names: SourceNames) -> InboxFilter:
    choices = _choices(str(sessions.kw["bind"].url), sessions)
    own = [brand for brand, competitor in choices.brands if not competitor]
    with st.sidebar:
        brands = st.multiselect(
            t("filter.brands"),
            [b for b, _ in choices.brands],
            default=own,
            key="f_brands",
            placeholder=t("filter.any"),
            select_all=False,  # Streamlit's "Select all" is English whatever the page's language
        )
        sentiments = st.multiselect(
            t("filter.sentiment"),
            list(LABELS),
            format_func=lambda s: t(f"sentiment.{s}"),
            key="f_sentiments",
            placeholder=t("filter.any"),
            select_all=False,
        )
        statuses = st.multiselect(
            t("filter.status"),
            list(STATUSES),
            default=["new", "in_progress"],
            format_func=lambda s: t(f"status.{s}"),
            key="f_statuses",
            placeholder=t("filter.any"),
            select_all=False,
        )
        sources = st.multiselect(
            t("filter.sources"),
            choices.sources,
            format_func=lambda key: source_name(key, source_names),
            key="f_sources",
            placeholder=t("filter.any"),
            select_all=False,
        )
        mine = st.toggle(t("filter.mine"), key="f_mine") if actor.can_act else False
        search = st.text_input(t("filter.search"), key="f_search")
        since, until = date_filter.render()
    return InboxFilter(
        tuple(brands),
        tuple(sentiments),
        tuple(statuses),
        tuple(sources),
        search=search,
        assignee=actor.name if mine else None,
        since=since,
        until=until,
    )


@st.cache_data(ttl=60, show_spinner=False)
def _count(database: str, _sessions: Sessions, filters: InboxFilter) -> int | None:
    # Paging reruns the page; the count (up to a full scan for a rare search word) is taken once
    # per filters and minute, and again after a staff action (_apply clears it).
    with _sessions() as session:
        return inbox_count(session, filters)


@st.cache_data(ttl=60, show_spinner=False)
def _choices(database: str, _sessions: Sessions) -> InboxChoices:
    # Brands and sources change rarely; a minute-old list spares a scan of mentions per click.
    with _sessions() as session:
        return inbox_choices(session)


def _card(sessions: Sessions, actor: Actor, row: InboxRow, source: str) -> None:
    meta = _meta_line(row, source)
    if actor.can_act:
        pick, text = st.columns([0.04, 0.96], vertical_alignment="center")
        pick.checkbox(t("inbox.pick"), key=f"pick-{row.mention_id}", label_visibility="collapsed")
        text.markdown(meta)
    else:
        st.markdown(meta)
    st.markdown(highlighted(row.text, row.span_start, row.span_end), unsafe_allow_html=True)
    state = _state_line(row)
    if not actor.can_act:
        st.caption(state)
        link = safe_link(row.url, t("inbox.open_original"))
        if link:
            st.markdown(link)
        return
    link_col, status_col, sentiment_col, take_col, reply_col, note_col = st.columns(
        [2, 2, 2, 1.3, 1.3, 1.3], vertical_alignment="center"
    )
    link_col.markdown(safe_link(row.url, t("inbox.open_original")) or "—")
    link_col.caption(state)
    ids = [row.mention_id]
    _stored_choice(
        status_col, sessions, actor, row.mention_id, "status", STATUSES, row.status, actions.set_status
    )
    if row.sentiment is not None:
        _stored_choice(
            sentiment_col,
            sessions,
            actor,
            row.mention_id,
            "sentiment",
            LABELS,
            row.sentiment,
            actions.correct_sentiment,
            help_text=t("inbox.sentiment_help"),
        )
    if row.assignee != actor.name:
        take_col.button(
            t("inbox.take"),
            key=f"take-{row.mention_id}",
            on_click=_apply,
            args=(sessions, actor, ids, actions.take),
        )
    if row.first_response_at is None:
        reply_col.button(
            t("inbox.replied"),
            key=f"replied-{row.mention_id}",
            help=t("inbox.replied_help"),
            on_click=_apply,
            args=(sessions, actor, ids, actions.mark_replied),
        )
    with note_col.popover(t("inbox.note")):
        note_key = f"note-{row.mention_id}-{zlib.crc32((row.note or '').encode())}"
        # Saved on change too: the box's own Ctrl+Enter, or leaving it (closing the popover), must
        # not lose what was typed.
        st.text_area(
            t("inbox.note"),
            value=row.note or "",
            key=note_key,
            max_chars=actions.MAX_NOTE_CHARS,
            on_change=_note_from_widget,
            args=(sessions, actor, ids, note_key),
        )
        st.button(
            t("inbox.save_note"),
            key=f"save-note-{row.mention_id}",
            on_click=_note_from_widget,
            args=(sessions, actor, ids, note_key),
        )


def _meta_line(row: InboxRow, source: str) -> str:
    """Brand, source (its display name), author, reach, time and sentiment: one Markdown line."""
    score = f" {row.score:.2f}" if row.score is not None else ""
    copies = f" · {t('inbox.copies', count=row.copies)}" if row.copies > 1 else ""
    author = safe_text(row.author or t("inbox.no_author"))
    sentiment = t(f"sentiment.{row.sentiment}" if row.sentiment else "sentiment.none")
    if row.model_label:
        corrected = f" ({t('inbox.corrected', model=t(f'sentiment.{row.model_label}'))})"
    elif row.decided_by == "rating":
        # The review's stars decided; say so, and what the text alone read as.
        model = t(f"sentiment.{row.rating_model_label}") if row.rating_model_label else "—"
        corrected, score = f" ({t('inbox.by_rating', model=model)})", ""
    else:
        corrected = ""
    own = f" · {t('inbox.own_post')}" if row.own_post else ""
    own += f" · {t('inbox.by_place')}" if row.by_place else ""
    # 0 is what a source without the number gives: say nothing rather than "reach 0".
    reach = f" · {t('inbox.reach', reach=number_text(row.reach, current_language()))}" if row.reach else ""
    return (
        f"**{safe_text(row.brand)}** · {safe_text(source)} · {author}{own}"
        f"{reach} · {local_time(row.published_at)}"
        f" · {sentiment}{score}{corrected}{copies}"
    )


def _state_line(row: InboxRow) -> str:
    """Status, who has it, when staff responded, the note: plain text for a caption."""
    parts = [t(f"status.{row.status}")]
    parts.append(t("inbox.assignee", name=safe_text(row.assignee)) if row.assignee else t("inbox.unassigned"))
    if row.first_response_at and row.published_at:
        waited = duration_text(*duration(row.first_response_at - row.published_at), current_language())
        parts.append(t("inbox.responded", duration=waited))
    if row.note:
        parts.append(t("inbox.note_shown", note=safe_text(row.note)))
    return " · ".join(parts)


def _bulk_bar(sessions: Sessions, actor: Actor, rows: Sequence[InboxRow]) -> None:
    picked = [row.mention_id for row in rows if st.session_state.get(f"pick-{row.mention_id}")]
    if not picked:
        return
    with st.container(border=True):
        st.markdown(t("bulk.picked", count=len(picked)))
        take, replied, status, apply_status, sentiment, apply_sentiment = st.columns(
            [1.2, 1.2, 1.6, 1, 1.6, 1], vertical_alignment="bottom"
        )
        take.button(
            t("inbox.take"), key="bulk-take", on_click=_apply, args=(sessions, actor, picked, actions.take)
        )
        replied.button(
            t("inbox.replied"),
            key="bulk-replied",
            on_click=_apply,
            args=(sessions, actor, picked, actions.mark_replied),
        )
        status.selectbox(
            t("inbox.status"), list(STATUSES), format_func=lambda s: t(f"status.{s}"), key="bulk-status"
        )
        apply_status.button(
            t("bulk.apply"),
            key="bulk-apply-status",
            on_click=_from_widget,
            args=(sessions, actor, picked, actions.set_status, "bulk-status"),
        )
        sentiment.selectbox(
            t("inbox.sentiment"),
            list(LABELS),
            format_func=lambda s: t(f"sentiment.{s}"),
            key="bulk-sentiment",
        )
        apply_sentiment.button(
            t("bulk.apply"),
            key="bulk-apply-sentiment",
            on_click=_from_widget,
            args=(sessions, actor, picked, actions.correct_sentiment, "bulk-sentiment"),
        )


# Callbacks run before the script, so the rerun that follows shows the stored result.
Action = Callable[..., int]


def _apply(sessions: Sessions, actor: Actor, ids: list[int], action: Action, *args: Any) -> None:
    try:
        with sessions.begin() as session:
            changed = action(session, actor, ids, *args)
    except (BrandpulseError, ValueError) as exc:
        st.session_state["flash"] = ("error", str(exc))
        return
    st.session_state["flash"] = ("success", t("inbox.done", count=changed))
    _count.clear()  # a status or an assignee may have moved mentions in or out of the filters
    for mention_id in ids:
        st.session_state.pop(f"pick-{mention_id}", None)


def _stored_choice(
    column: DeltaGenerator,
    sessions: Sessions,
    actor: Actor,
    mention_id: int,
    field: str,
    choices: Sequence[str],
    stored: str,
    action: Action,
    help_text: str | None = None,
) -> None:
    """A select box for one stored field of a mention (its status, its sentiment) that applies
    `action` on change; labelled by the i18n keys `inbox.<field>` and `<field>.<choice>`."""
    # The key carries the stored value: after any change the widget starts again from the database.
    key = f"{field}-{mention_id}-{stored}"
    column.selectbox(
        t(f"inbox.{field}"),
        list(choices),
        index=choices.index(stored),
        format_func=lambda choice: t(f"{field}.{choice}"),
        key=key,
        label_visibility="collapsed",
        help=help_text,
        on_change=_from_widget,
        args=(sessions, actor, [mention_id], action, key),
    )


def _from_widget(sessions: Sessions, actor: Actor, ids: list[int], action: Action, key: str) -> None:
    _apply(sessions, actor, ids, action, st.session_state[key])


def _note_from_widget(sessions: Sessions, actor: Actor, ids: list[int], key: str) -> None:
    _apply(sessions, actor, ids, actions.set_note, st.session_state.get(key, ""))


def _flash() -> None:
    flash = st.session_state.pop("flash", None)
    if flash is None:
        return
    kind, message = flash
    (st.error if kind == "error" else st.success)(message)
