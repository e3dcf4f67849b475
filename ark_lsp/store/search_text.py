"""How a search query is cut into the words the full-text index is asked for."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
"""Letters and digits: everything else (punctuation, ``_``, operators) only separates words."""


def query_words(query: str) -> list[str]:
    """The words of ``query`` that a search looks for, in order; none for blank or punctuation."""
    return _WORD.findall(query)
