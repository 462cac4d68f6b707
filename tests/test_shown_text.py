"""A direction override or a control character in a post never reaches a screen, a chat or a file
as written: it could reverse what a support lead reads. The stored text keeps it."""

from __future__ import annotations

import csv
import io

import pytest

from alerts.messages import escape, highlighted_snippet
from monitor.export import Table, to_csv, to_xlsx
from monitor.invisible import shown
from monitor.ui.render import highlighted, safe_text

RLO = "\u202e"
TRICK = f"Оплатил 100 рублей {RLO}001 ыбур{chr(0x202C)} и жду \u2066возврата\u2069\x07"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TRICK, "Оплатил 100 рублей 001 ыбур и жду возврата"),
        ("строка 1\nстрока\t2", "строка 1\nстрока\t2"),
        ("семья 👨\u200d👩\u200d👧 довольна", "семья 👨\u200d👩\u200d👧 довольна"),  # emoji joiners stay
        ("\x1b[31mкрасный\x9b", "[31mкрасный"),  # the escape byte goes, the letters stay
        ("обычный текст", "обычный текст"),
    ],
)
def test_shown_drops_direction_overrides_and_control_characters_only(text, expected):
    assert shown(text) == expected


def test_telegram_alert_text_has_no_override(tmp_path):
    assert RLO not in escape(TRICK) and "\x07" not in escape(TRICK)
    snippet = highlighted_snippet(f"ВкусМаркет {RLO}ьчолг", 0, 10)
    assert RLO not in snippet and "<b>ВкусМаркет</b>" in snippet


def test_dashboard_text_has_no_override():
    assert RLO not in safe_text(TRICK)
    assert RLO not in highlighted(f"{RLO}ВкусМаркет", 1, 11)


def test_downloads_have_no_override():
    table = Table("Входящие", ("text",), [(TRICK,)])
    written = to_csv(table).decode("utf-8-sig")
    [[_], [cell]] = list(csv.reader(io.StringIO(written), delimiter=";")) or [[None], [None]]
    assert RLO not in cell and "\x07" not in cell
    assert RLO.encode("utf-8") not in to_xlsx([table])
