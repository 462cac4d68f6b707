"""Case- and ё-insensitive substring search that works for Cyrillic on SQLite and PostgreSQL.

SQLite's own lower()/LIKE fold only ASCII letters, so «Хлеб» would never find «хлеб»: on SQLite
the fold is a Python function registered on every connection (see session.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Text

SQLITE_FOLD_FUNCTION = "bp_fold"


def fold(text: str | None) -> str | None:
    """The form both sides of a search are compared in: lowercase, ё as е."""
    if text is None:
        return None
    return text.lower().replace("ё", "е")


class folded(FunctionElement[str]):
    """fold(column) in SQL."""

    type = Text()
    inherit_cache = True
    name = "folded"


@compiles(folded)
def _folded_default(element: folded, compiler: Any, **kw: Any) -> str:
    # PostgreSQL's lower() follows the database's Unicode collation, Cyrillic included.
    return f"replace(lower({compiler.process(element.clauses, **kw)}), 'ё', 'е')"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD_FUNCTION}({compiler.process(element.clauses, **kw)})"


def contains_text(column: Any, term: str) -> ColumnElement[bool]:
    """column contains term as a substring, ignoring case and ё/е; % and _ in term are literal."""
    return folded(column).contains(fold(term), autoescape=True)
