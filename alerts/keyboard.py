"""The buttons under a negative alert and what their callback data means. Pure: no I/O.

callback_data is "st:<mention id>:<status>", well under Telegram's 64-byte limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Button label -> the Workflow status it sets (monitor/queries.py STATUSES).
BUTTONS = (("Беру в работу", "in_progress"), ("Не релевантно", "ignored"))
_PREFIX = "st"
CALLBACK_LIMIT = 64


@dataclass(frozen=True)
class StatusChange:
    mention_id: int
    status: str


def alert_keyboard(mention_id: int, chosen: str | None = None) -> dict[str, Any]:
    """Inline keyboard for an alert; the button matching `chosen` (the current status) is ticked."""
    row = [
        {
            "text": f"✅ {label}" if status == chosen else label,
            "callback_data": f"{_PREFIX}:{mention_id}:{status}",
        }
        for label, status in BUTTONS
    ]
    return {"inline_keyboard": [row]}


_MENTION_ID = re.compile(r"[0-9]{1,10}")
_MAX_MENTION_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


def parse_callback(data: str | None) -> StatusChange | None:
    """The status change a button asks for, or None for data that is not ours (or malformed)."""
    parts = (data or "").split(":")
    # ASCII digits only, small enough for a 32-bit id: "²".isdigit() is true but int() refuses it.
    if len(parts) != 3 or parts[0] != _PREFIX or not _MENTION_ID.fullmatch(parts[1]):
        return None
    if parts[2] not in {status for _, status in BUTTONS}:
        return None
    mention_id = int(parts[1])
    return StatusChange(mention_id, parts[2]) if mention_id <= _MAX_MENTION_ID else None
