"""Telling a site's anti-bot answer (a captcha, a JS challenge) from its content.

Sites rarely say "blocked" with a status: Yandex SmartCaptcha, DDoS-Guard, Qrator and Cloudflare
answer 200 (or 403 / 503) with a page of their own, which a crawler would otherwise read as an
empty listing. `anti_bot_check` names the check an answer is; callers ask only about answers that
gave them nothing (no items matched, not JSON, an error status), so a review that merely mentions
a captcha is never taken for a block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from monitor.errors import SourceBlocked

BLOCKED = "blocked by the site's anti-bot check"
# Interstitials are small and put their markers up front; a long page is read this far.
_READ_CHARS = 200_000
# Statuses a protection service answers with while it checks the visitor.
_CHALLENGE_STATUSES = frozenset({401, 403, 429, 503})

# (header, lower-case substring of its value, the check's name). The server header alone proves
# nothing (a protected site's every page carries it), so those count only with a challenge status.
_HEADER_SIGNS = (
    ("cf-mitigated", "challenge", "Cloudflare challenge"),
    ("x-yandex-captcha", "", "Yandex SmartCaptcha"),
)
_SERVER_SIGNS = (("ddos-guard", "DDoS-Guard"), ("qrator", "Qrator"), ("cloudflare", "Cloudflare challenge"))

# Markers in the page itself, most specific first.
_BODY_SIGNS = tuple(
    (re.compile(pattern, re.IGNORECASE), name)
    for pattern, name in (
        (
            r"smartcaptcha|captcha-api\.yandex|/showcaptcha|/checkcaptcha|CheckboxCaptcha",
            "Yandex SmartCaptcha",
        ),
        (r"ddos-guard\.net|<title>\s*ddos-guard", "DDoS-Guard"),
        (r"/__qrator/|qrator\.net|<title>\s*qrator", "Qrator"),
        (
            r"/cdn-cgi/challenge-platform/|challenges\.cloudflare\.com|cf-browser-verification|"
            r"<title>\s*just a moment|attention required! \| cloudflare",
            "Cloudflare challenge",
        ),
        (r"class=[\"'][^\"']*g-recaptcha|google\.com/recaptcha/", "reCAPTCHA"),
        (r"class=[\"'][^\"']*h-captcha|hcaptcha\.com/", "hCaptcha"),
        (r"<form[^>]+action=[\"'][^\"']*captcha", "captcha form"),
        (
            r"вы\s+(?:не\s+)?робот\s*\?|подтвердите,?\s+что\s+вы\s+(?:не\s+робот|человек)|я\s+не\s+робот|"
            r"проверка,?\s+что\s+вы\s+не\s+робот|проверяем\s+(?:ваш\s+)?браузер|проверка\s+браузера|"
            r"введите\s+(?:символы|код)\s+с\s+картинки",
            "captcha",
        ),
        (
            r"are\s+you\s+a\s+robot|verify\s+you\s+are\s+(?:a\s+)?human|checking\s+your\s+browser|"
            r"enable\s+javascript\s+and\s+cookies\s+to\s+continue",
            "captcha",
        ),
    )
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def anti_bot_check(text: str, headers: Mapping[str, str] | None = None, status: int = 200) -> str | None:
    """The name of the anti-bot check this answer is ("Yandex SmartCaptcha", "captcha"...), or None.

    `headers`: names in lower case. `text`: the decoded body.
    """
    headers = headers or {}
    for header, sign, name in _HEADER_SIGNS:
        if header in headers and sign in headers[header].lower():
            return name
    if status in _CHALLENGE_STATUSES:
        server = headers.get("server", "").lower()
        for sign, name in _SERVER_SIGNS:
            if sign in server:
                return name
    head = text[:_READ_CHARS]
    for pattern, name in _BODY_SIGNS:
        if pattern.search(head):
            return name
    return None


def blocked_reason(check: str, text: str, status: int = 200) -> str:
    """One line for the log and the health page: what blocked us and what the page said."""
    title = _TITLE.search(text[:_READ_CHARS])
    said = " ".join(title.group(1).split())[:80] if title else ""
    details = [check, f"HTTP {status}"] + ([f"«{said}»"] if said else [])
    return f"{BLOCKED} ({', '.join(details)})"


def raise_if_blocked(
    text: str, headers: Mapping[str, str] | None, status: int, source: str | None, url: str
) -> None:
    """SourceBlocked when an answer that gave the caller nothing is an anti-bot check."""
    check = anti_bot_check(text, headers, status)
    if check is not None:
        reason = blocked_reason(check, text, status)
        raise SourceBlocked(source, f"{url}: {reason}") if source else SourceBlocked(url, reason)
