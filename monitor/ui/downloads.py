"""Download buttons for what a page shows: CSV of one table, XLSX of all of a page's tables.

The files are built only when a button is clicked (Streamlit calls `data` then), so a page with
many tables costs nothing extra to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from monitor.export import Table, to_csv, to_xlsx
from monitor.queries import InboxFilter, inbox_page
from monitor.ui.i18n import current_language, t
from monitor.ui.tables import NO_NAMES, SourceNames, inbox_table

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_button(table: Table, file_stem: str, key: str, tz: tzinfo | None = None) -> None:
    st.download_button(
        "⬇ CSV",
        data=lambda: to_csv(table, tz),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key}-csv",
        on_click="ignore",
    )


def xlsx_button(tables: Sequence[Table], file_stem: str, key: str, tz: tzinfo | None = None) -> None:
    st.download_button(
        t("download.xlsx_all") if len(tables) > 1 else "⬇ XLSX",
        data=lambda: to_xlsx(tables, tz),
        file_name=f"{file_stem}.xlsx",
        mime=XLSX_MIME,
        key=f"{key}-xlsx",
        on_click="ignore",
    )


def table_with_csv(table: Table, file_stem: str, key: str, tz: tzinfo | None = None) -> None:
    """The table as st.dataframe with its own CSV button under it."""
    if not table.rows:
        st.caption(t("download.no_data"))
        return
    st.dataframe([dict(zip(table.columns, row, strict=True)) for row in table.rows], hide_index=True)
    csv_button(table, file_stem, key, tz)


INBOX_EXPORT_LIMIT = 10_000


def inbox_buttons(
    sessions: sessionmaker[Session],
    filters: InboxFilter,
    tz: tzinfo | None = None,
    source_names: SourceNames = NO_NAMES,
) -> None:
    """Sidebar buttons: CSV and XLSX of every mention the inbox filters match (not just the page on
    screen), newest first, at most INBOX_EXPORT_LIMIT; read from the database only when clicked.
    Headers are in the language on screen now, taken here because the file is built later, on the click."""
    language = current_language()

    def table() -> Table:
        with sessions() as session:
            return inbox_table(inbox_page(session, filters, limit=INBOX_EXPORT_LIMIT), language, source_names)

    st.sidebar.caption(t("download.inbox"))
    left, right = st.sidebar.columns(2)
    left.download_button(
        "⬇ CSV", data=lambda: to_csv(table(), tz), file_name="inbox.csv", mime="text/csv",
        key="inbox-csv", on_click="ignore",
    )  # fmt: skip
    right.download_button(
        "⬇ XLSX", data=lambda: to_xlsx([table()], tz), file_name="inbox.xlsx", mime=XLSX_MIME,
        key="inbox-xlsx", on_click="ignore",
    )  # fmt: skip
