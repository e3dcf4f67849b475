"""Generated code (``store.generations``): each text kept with what was said of it."""

from __future__ import annotations

import json

from store_samples import rows

from ark_lsp.store import Store


def test_a_generation_is_recorded_with_its_validation_and_test_outcome(store: Store) -> None:
    first = store.generations.record(
        kind="function",
        target="app.py:3",
        template="function.py.j2",
        text="def f():\n    pass\n",
        validation={"ok": True, "violations": []},
    )
    second = store.generations.record(
        kind="tests",
        target="app.py",
        template="test.py.j2",
        text="def test_f():\n    assert f() is None\n",
        validation={"ok": True},
        test_outcome={"passed": 1, "failed": 0},
    )
    assert (first, second) == (1, 2)
    recorded = rows(
        store.path,
        "SELECT kind, target, template, validation, test_outcome, created_at "
        "FROM generated_code ORDER BY id",
    )
    assert [row[:3] for row in recorded] == [
        ("function", "app.py:3", "function.py.j2"),
        ("tests", "app.py", "test.py.j2"),
    ]
    assert json.loads(str(recorded[0][3])) == {"ok": True, "violations": []}
    assert recorded[0][4] is None
    assert json.loads(str(recorded[1][4])) == {"passed": 1, "failed": 0}
    assert str(recorded[0][5]).endswith("Z")
