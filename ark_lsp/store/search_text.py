"""How names and search queries are cut into the words the full-text index holds.

SQLite's tokenizer already cuts ``parse_basic_str`` at its underscores, but
keeps ``TOMLDecodeError`` whole. So each symbol also carries the words of a
CamelCase name, lowercase (``toml decode error``; ``HTTPServer``: ``http
server``), in a column of the full-text index of their own, and a query word
written in CamelCase asks for those words in a row.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
"""Letters and digits: everything else (punctuation, ``_``, operators) only separates words."""
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
"""Where a CamelCase word starts a new one: ``decodeError``, ``TOMLDecode``, ``Base64Encoder``."""


_DOTTED = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)+")
"""A dotted name: ``fields.Nested``, ``marshmallow.utils``, ``Store.open``."""


def dotted_name(query: str) -> str | None:
    """The dotted name ``query`` is (spaces around it aside); None for any other query.

    Only letters, digits, ``_`` and the dots between them: safe in a LIKE
    pattern once ``_`` is escaped, and in a GLOB pattern as it is.
    """
    query = query.strip()
    return query if _DOTTED.fullmatch(query) else None


def query_words(query: str) -> list[str]:
    """The words of ``query`` that a search looks for, in order; none for blank or punctuation."""
    return _WORD.findall(query)


def name_words(name: str) -> str | None:
    """The words of a CamelCase name, lowercase and space-separated; None for any other name.

    ``TOMLDecodeError`` gives ``toml decode error``, ``parse_HTTPHeader``
    ``parse http header``; ``parse_basic_str`` gives None, as the index
    already holds its words.
    """
    if name.islower() or _CAMEL_BOUNDARY.search(name) is None:  # most names are snake_case
        return None
    return " ".join(_WORD.findall(_CAMEL_BOUNDARY.sub(" ", name))).lower()


def match_expression(words: list[str]) -> str:
    """An FTS5 query asking for every word, each as the start of a word of the index.

    A word in CamelCase also matches its own words in a row (``DecodeError``
    finds ``TOMLDecodeError``), the last of them as a prefix. Words are
    letters and digits only (:func:`query_words`), so quoting them is enough
    to make any input a valid query.
    """
    terms = []
    for word in words:
        parts = _WORD.findall(_CAMEL_BOUNDARY.sub(" ", word))
        if len(parts) > 1:
            terms.append(f'("{word}"* OR "{" ".join(parts)}"*)')
        else:
            terms.append(f'"{word}"*')
    return " AND ".join(terms)
