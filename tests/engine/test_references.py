"""How a name under the cursor is reached: plain, through a module, self, cls or super()."""

from __future__ import annotations

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.analysis.references import Reference, reference_at

SOURCE = """\
import os.path


class Outer:
    def method(self):
        self.helper()
        return super().method()

    @classmethod
    def build(cls):
        return cls.create(os.path.join("a", "b"))


def plain():
    return make().value.run() if items[0].ok() else print(x)
"""

REPORT = analyze(SOURCE, "module.py")
LINES = SOURCE.splitlines()


def at(line: int, word: str, occurrence: int = 0) -> Reference | None:
    text = LINES[line - 1]
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(word, start + 1)
    return reference_at(REPORT, text, line, start)


@pytest.mark.parametrize(
    ("line", "word", "receiver", "enclosing"),
    [
        (6, "helper", "self", "Outer"),
        (7, "method", "super()", "Outer"),
        (11, "create", "cls", "Outer"),
        (11, "join", "os.path", "Outer"),
        (15, "make", None, None),
        (15, "run", "?", None),  # an attribute of a call's result
        (15, "ok", "?", None),  # an attribute of a subscript
        (15, "print", None, None),
    ],
)
def test_the_receiver_and_the_enclosing_class_of_a_name(
    line: int, word: str, receiver: str | None, enclosing: str | None
) -> None:
    reference = at(line, word)
    assert reference == Reference(word, receiver, enclosing)


def test_keywords_and_numbers_are_no_reference() -> None:
    assert at(7, "return") is None
    assert reference_at(REPORT, "x = 12", 1, 4) is None


def test_what_a_reference_says_of_itself() -> None:
    assert at(7, "method").is_super and not at(7, "method").through_self
    assert at(6, "helper").through_self and at(11, "create").through_self
    assert at(11, "join").dotted == "os.path.join"
