"""The boolean query language of BrandConfig.query: parse a query into a tree, evaluate the tree.

    сбер (кредит OR ипотека) NOT "кричать в мегафон"

Operators are the uppercase words AND, OR, NOT; lowercase "and", "и", "или" are ordinary words,
because Russian posts are full of them. Adjacent terms are joined by AND. A "quoted phrase"
(also «ёлочки» or “curly quotes”) matches as consecutive words. NOT binds tightest, then AND, then OR.

Which words a text contains is the caller's business (monitor/matching.py matches them in any
inflected form), so this module stays free of morphology and cheap to import from config.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# Letters and digits; combining marks keep a decomposed "й" (и + U+0306) in one word.
WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")

_OPERATORS = ("AND", "OR", "NOT")
# Opening quote -> the characters that may close it („…“ and „…” are both in use).
_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“”"}
_TERM_STOP = set("()") | set(_QUOTES)
_MAX_DEPTH = 50


@dataclass(frozen=True)
class Term:
    """A word or a quoted phrase; a bare hyphenated word (wi-fi) is a phrase of its parts."""

    words: tuple[str, ...]
    # 1-based column in the query; not part of equality, so equal terms share one lookup.
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Term | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "TERM", "END"
    position: int  # 1-based
    term: Term | None = None

    def describe(self) -> str:
        if self.kind == "END":
            return "end of query"
        if self.kind == "TERM" and self.term is not None:
            return repr(" ".join(self.term.words))
        return self.kind if self.kind in _OPERATORS else f"'{self.kind}'"


def parse_query(query: str) -> Node:
    """Parse a query; a bad one raises ValueError naming the position and what was expected."""
    tokens = list(_tokenize(query))
    if tokens[0].kind == "END":
        raise ValueError("query is empty: write at least one word, or remove the query")
    parser = _Parser(tokens)
    node = parser.parse_or(depth=0)
    last = parser.peek()
    if last.kind == ")":
        raise ValueError(f"position {last.position}: unexpected ')' with no matching '('")
    if last.kind != "END":  # pragma: no cover - every other token continues an expression
        raise ValueError(f"position {last.position}: unexpected {last.describe()}")
    return node


def evaluate(node: Node, contains: Callable[[Term], bool]) -> bool:
    """True when the text described by `contains` satisfies the query tree."""
    if isinstance(node, Term):
        return contains(node)
    if isinstance(node, Not):
        return not evaluate(node.operand, contains)
    if isinstance(node, And):
        return all(evaluate(operand, contains) for operand in node.operands)
    return any(evaluate(operand, contains) for operand in node.operands)


def terms(node: Node) -> list[Term]:
    """Every word and phrase of the query, each once, in query order."""
    seen: dict[Term, None] = {}
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Term):
            seen.setdefault(current)
        elif isinstance(current, Not):
            stack.append(current.operand)
        else:
            stack.extend(reversed(current.operands))
    return list(seen)


def _tokenize(query: str) -> Iterator[_Token]:
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            yield _Token(char, i + 1)
            i += 1
        elif char in _QUOTES:
            closers = _QUOTES[char]
            close = next((j for j in range(i + 1, n) if query[j] in closers), -1)
            if close < 0:
                raise ValueError(f"position {i + 1}: quote {char} is never closed, expected {closers[0]}")
            words = tuple(WORD.findall(query[i + 1 : close]))
            if not words:
                raise ValueError(f"position {i + 1}: quoted phrase has no words")
            yield _Token("TERM", i + 1, Term(words, i + 1))
            i = close + 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _TERM_STOP:
                j += 1
            raw = query[i:j]
            if raw in _OPERATORS:
                yield _Token(raw, i + 1)
            else:
                words = tuple(WORD.findall(raw))
                if not words:
                    raise ValueError(f"position {i + 1}: {raw!r} has no letters or digits")
                yield _Token("TERM", i + 1, Term(words, i + 1))
            i = j
    yield _Token("END", n + 1)


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := not (AND? not)* ; not := NOT* atom."""

    def __init__(self, tokens: list[_Token]):
        self._tokens = tokens
        self._index = 0

    def peek(self) -> _Token:
        return self._tokens[self._index]

    def _take(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "END":
            self._index += 1
        return token

    def parse_or(self, depth: int, after: _Token | None = None) -> Node:
        operands = [self._parse_and(depth, after)]
        while self.peek().kind == "OR":
            operator = self._take()
            operands.append(self._parse_and(depth, after=operator))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _parse_and(self, depth: int, after: _Token | None = None) -> Node:
        operands = [self._parse_not(depth, after)]
        while True:
            token = self.peek()
            if token.kind == "AND":
                self._take()
                operands.append(self._parse_not(depth, after=token))
            elif token.kind in ("TERM", "(", "NOT"):  # implicit AND between adjacent terms
                operands.append(self._parse_not(depth, after=None))
            else:
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _parse_not(self, depth: int, after: _Token | None) -> Node:
        negations = 0
        while self.peek().kind == "NOT":
            after = self._take()
            negations += 1
        node = self._parse_atom(depth, after)
        for _ in range(negations):
            node = Not(node)
        return node

    def _parse_atom(self, depth: int, after: _Token | None) -> Node:
        token = self._take()
        if token.kind == "TERM" and token.term is not None:
            return token.term
        if token.kind == "(":
            if depth >= _MAX_DEPTH:
                raise ValueError(f"position {token.position}: parentheses nested deeper than {_MAX_DEPTH}")
            node = self.parse_or(depth + 1, after=token)
            close = self._take()
            if close.kind != ")":
                raise ValueError(
                    f"position {close.position}: expected ')' to close the '(' at position "
                    f"{token.position}, found {close.describe()}"
                )
            return node
        where = f"after {after.describe()}" if after is not None else "at the start"
        raise ValueError(
            f"position {token.position}: expected a word, a \"phrase\" or '(' {where}, "
            f"found {token.describe()}"
        )
