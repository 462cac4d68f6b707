"""What part of a post the model reads for one brand.

A model reads ~96 tokens (~500 characters of Russian). A long post or forum thread page about
many things is scored on the sentences around the brand, not on its opening lines. A review is
scored whole from its start, as one review: an empty «Недостатки: нет» section is dropped, so the
word «Недостатки» alone does not make a happy review read as a complaint.
"""

from __future__ import annotations

import re

PASSAGE_CHARS = 600

# A sentence ends at . ! ? … (possibly repeated, possibly closed by a quote or bracket) or a line break.
_SENTENCE_END = re.compile(r"(?P<mark>[.!?…]+[»\")]*)\s+|\n+")

# «Недостатки: нет», «Минусы: не обнаружила», «Недостатки: -» — a section that says there are none.
_EMPTY_CONS = re.compile(
    r"(?:^|(?<=[\s.;]))(?:недостатки|минусы|минус|cons)\s*:\s*"
    r"(?:нет(?:у)?(?:\s+(?:никаких|недостатков))?|отсутствуют|не\s+(?:обнаружен[оаы]?|обнаружил[аи]?|"
    r"нашл[аи]|нашел|нашёл|выявлен[оы]?|заметил[аи]?)|[-–—]+|н/?д)\s*(?:[.!;]+|(?=\n)|$)",
    re.IGNORECASE | re.MULTILINE,
)


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence, covering the text without gaps except the separators."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end("mark") if match.group("mark") else match.start()
        if end > start:
            spans.append((start, end))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def around_mention(text: str, start: int, end: int, budget: int = PASSAGE_CHARS) -> str:
    """The sentence that names the brand, widened by neighbouring sentences up to `budget` characters."""
    if len(text) <= budget:
        return text
    spans = sentences(text) or [(0, len(text))]
    hit = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
    if hit is None:  # the span fell on a separator: the nearest sentence after it
        hit = next((i for i, (s, _) in enumerate(spans) if s >= start), len(spans) - 1)
    first = last = hit
    if spans[hit][1] - spans[hit][0] > budget:
        return _window(text, start, end, budget)
    # Widen one sentence at a time, the next one first (what follows a name is usually about it).
    while True:
        grown = False
        for candidate in (last + 1, first - 1):
            if 0 <= candidate < len(spans):
                lo, hi = min(first, candidate), max(last, candidate)
                if spans[hi][1] - spans[lo][0] <= budget:
                    first, last, grown = lo, hi, True
        if not grown:
            break
    return text[spans[first][0] : spans[last][1]]


def _window(text: str, start: int, end: int, budget: int) -> str:
    """`budget` characters centred on the brand, cut at spaces."""
    half = max(0, (budget - (end - start)) // 2)
    lo, hi = max(0, start - half), min(len(text), end + half)
    if lo > 0 and " " in text[lo:start]:
        lo = text.index(" ", lo) + 1
    if hi < len(text) and " " in text[end:hi]:
        hi = text.rindex(" ", end, hi)
    return text[lo:hi]


def review_passage(text: str, budget: int = PASSAGE_CHARS * 2) -> str:
    """A review as one text from its start, with sections that list no drawbacks left out."""
    cleaned = _EMPTY_CONS.sub(" ", text)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    return cleaned[:budget]


def passage(text: str, kind: str, span_start: int, span_end: int) -> str:
    """What the model reads of an item (`kind` as crawlers set it: post, comment, review...)."""
    if kind == "review":
        return review_passage(text)
    return around_mention(text, span_start, span_end)
