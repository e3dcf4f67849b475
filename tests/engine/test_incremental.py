"""Analysing an edit block by block must give exactly what a full analysis gives."""

from __future__ import annotations

import ast
import gc
import random
import sysconfig
import textwrap
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest

from ark_lsp.analysis import analyze, analyze_edit
from ark_lsp.analysis.blocks import first_line, group_statements
from ark_lsp.analysis.collector import Collector
from ark_lsp.analysis.incremental import UNCHANGED, reparse
from ark_lsp.analysis.source import count_lines, line_counts
from ark_lsp.config import Settings, settings_from_mapping
from ark_lsp.models import ModuleReport, Tier

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = ["textwrap.py", "dataclasses.py", "json/decoder.py"]

# Lines a user might type, including ones that open or close a block or a string.
TYPED = [
    b"x = 1\n",
    b"    return value\n",
    b"def typed(a, b):\n",
    b"\n",
    b"# a comment\n",
    b'"""\n',
    b"eval(data)\n",
    b"class Fresh:\n",
    b"        nested = True\n",
    b"else:\n",
    b"a = 1; b = 2\n",
    b"@decorator\n",
    b"x = (\n",
    b")\n",
]

# Lines that change what calls elsewhere resolve to, or what rules and fixes see.
BINDING = [
    b"from safe import eval\n",
    b"from os import system as run\n",
    b"import subprocess as sp\n",
    b"import subprocess\n",
    b"import os\n",
    b"import ast\n",
    b"from os import *\n",
    b"def eval(text):\n",
    b"eval = None\n",
    b"    global eval\n",
    b"    eval = safe\n",
    b"__all__ = ['eval']\n",
    b"from __future__ import annotations\n",
    b"exec(code)  # noqa\n",
    b'eval("1")  # ark: ignore[ARK002]\n',
    b'os.system("ls")\n',
    b'    sp.run("ls", shell=True)\n',
    b"run(cmd); eval(x)\n",
    b"    compile(a, b, c)\n",
    b'"""A docstring."""\n',
    b"import os as eval\n",
    b"    def eval(self):\n",
    b"x = eval(y) \\\n",
    # Paths module-level code takes: alternative and conditional bindings.
    b"try:\n",
    b"except ImportError:\n",
    b"finally:\n",
    b"if flag:\n",
    b"for eval in fs:\n",
    b"while flag:\n",
    b"with ctx() as sp:\n",
    b"    import subprocess as sp\n",
    b"    from os import system as run\n",
    b"    from safe import eval\n",
    b"    break\n",
    b"    continue\n",
    b"    raise\n",
    b"del eval\n",
    b"del run\n",
    b"(eval := safe)\n",
]

RISKY = textwrap.dedent(
    '''\
    """A module with something for every rule."""

    from __future__ import annotations

    import os
    import subprocess as sp
    from json import loads


    def parse(text):
        """Evaluate, then run."""
        value = eval(text)  # a comment, not a suppression
        os.system("ls -l")
        sp.run("make all", shell=True)
        return loads(value)


    class Runner:
        eval = staticmethod(loads)
        first = eval("1")

        def go(self, code):
            exec(code)  # noqa: ARK002
            return compile(code, "<s>", "exec")


    def later():
        return eval("[1, 2]"); exec("x")


    setattr(obj, name, value)
    __import__(name)
    os.popen("who")
    from os import *
    '''
).encode()


def dumped(statements: list[ast.stmt]) -> list[str]:
    return [ast.dump(statement, include_attributes=True) for statement in statements]


def full(data: bytes) -> list[ast.stmt] | None:
    try:
        return ast.parse(data).body
    except SyntaxError:
        return None


def edit(lines: list[bytes], rng: random.Random, typed: list[bytes]) -> list[bytes]:
    at = rng.randrange(len(lines) + 1)
    kind = rng.choice(["insert", "delete", "replace", "retype"])
    if kind == "insert":
        return [*lines[:at], rng.choice(typed), *lines[at:]]
    if kind == "delete" and lines:
        at = min(at, len(lines) - 1)
        return [*lines[:at], *lines[at + 2 :]]
    if kind == "replace" and lines:
        at = min(at, len(lines) - 1)
        return [*lines[:at], rng.choice(typed), *lines[at + 1 :]]
    if lines:  # retype: change a character inside a line, as typing does
        at = min(at, len(lines) - 1)
        line = lines[at]
        return [*lines[:at], line[:-1] + b"z" + line[-1:], *lines[at + 1 :]]
    return lines


def spans(statements: list[ast.stmt]) -> list[tuple[int, int]]:
    return [
        (first_line(group[0]), max(s.end_lineno or s.lineno for s in group))
        for group in group_statements(statements)
    ]


@pytest.mark.parametrize("sample", SAMPLES)
def test_random_edits_reparse_the_statements_of_a_full_parse(sample: str) -> None:
    rng = random.Random(sample)
    original = (STDLIB / sample).read_bytes().splitlines(keepends=True)
    lines = original
    body = full(b"".join(lines))
    assert body is not None
    blocks = spans(body)
    counts = [len(group) for group in group_statements(body)]
    spliced = 0
    for _ in range(200):
        new = edit(lines, rng, TYPED)
        expected = full(b"".join(new))
        region = reparse(lines, blocks, new)
        if region is None:
            if expected is None:  # the user fixes the typo: start again
                new, expected = original, full(b"".join(original))
            assert expected is not None
            lines, body, blocks = new, expected, spans(expected)
            counts = [len(group) for group in group_statements(expected)]
            continue
        assert expected is not None, "a piece parsed where the whole text does not"
        if region is UNCHANGED:
            assert dumped(expected) == dumped(body)
            continue
        skipped = sum(counts[: region.first])
        assert dumped(region.statements) == dumped(
            expected[skipped : skipped + len(region.statements)]
        )
        kept_below = [(a + region.shift, b + region.shift) for a, b in blocks[region.stop :]]
        assert [*blocks[: region.first], *spans(region.statements), *kept_below] == spans(expected)
        spliced += 1
        lines, body, blocks = new, expected, spans(expected)
        counts = [len(group) for group in group_statements(expected)]
    assert spliced > 50


def moved(lines: list[bytes], rng: random.Random, typed: list[bytes]) -> list[bytes]:
    """A line cut and pasted elsewhere, as a user moves a call above or below an import."""
    if len(lines) < 2:
        return lines
    source, target = rng.randrange(len(lines)), rng.randrange(len(lines))
    rest = [*lines[:source], *lines[source + 1 :]]
    return [*rest[:target], lines[source], *rest[target:]]


def assert_edits_match_full_analysis(
    original: bytes,
    rng: random.Random,
    typed: list[bytes],
    edits: int,
    settings: Settings,
    change: Callable[[list[bytes], random.Random, list[bytes]], list[bytes]] = edit,
) -> int:
    """Edit ``original`` at random; every report must equal a full analysis. Returns reuses."""
    path = "pkg/module.py"
    lines = original.splitlines(keepends=True)
    report, state = analyze_edit(original.decode(), path, settings, None)
    assert report == analyze(original, path, settings)
    reused = 0
    for _ in range(edits):
        lines = change(lines, rng, typed)
        text = b"".join(lines).decode()
        report, after = analyze_edit(text, path, settings, state)
        assert report == analyze(text, path, settings)
        if after is None:  # it does not parse: the user fixes it
            lines = original.splitlines(keepends=True)
            _, state = analyze_edit(original.decode(), path, settings, None)
            continue
        if state is not None:
            reused += len(set(map(id, state.blocks)) & set(map(id, after.blocks)))
        state = after
    return reused


@pytest.mark.parametrize("sample", SAMPLES)
def test_random_edits_give_the_report_of_a_full_analysis(sample: str) -> None:
    rng = random.Random(sample)
    reused = assert_edits_match_full_analysis(
        (STDLIB / sample).read_bytes(), rng, TYPED + BINDING, 200, Settings()
    )
    assert reused > 500


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_of_risky_code_give_the_report_of_a_full_analysis(seed: int) -> None:
    reused = assert_edits_match_full_analysis(
        RISKY, random.Random(seed), TYPED + BINDING * 2, 150, Settings()
    )
    assert reused > 100


FLOW = textwrap.dedent(
    '''\
    """Module-level calls above and below the imports that rebind their names."""

    import os
    import subprocess as sp

    eval(data)
    try:
        import cPickle as pickle
    except ImportError:
        import pickle
    from safe import eval
    sp.run("ls", shell=True)
    if flag:
        from os import system as run
    else:
        from safe import run
    run(cmd)
    pickle.loads(blob)
    exec(code)


    def later():
        return eval(x), run(y), pickle.loads(z), exec(w)


    from safe import exec
    import safe as sp
    exec(code)
    sp.run("ls", shell=True)
    os.system("ls")
    del eval
    eval(data)
    '''
).encode()

UNPICKLING = settings_from_mapping(
    {
        "rules": [
            {"id": "CO101", "kind": "call", "pattern": "pickle.loads"},
            {"id": "CO102", "kind": "call", "pattern": "cPickle.loads"},
        ]
    }
).settings


@pytest.mark.parametrize("seed", range(4))
def test_calls_and_imports_moved_about_give_the_report_of_a_full_analysis(seed: int) -> None:
    rng = random.Random(seed)

    def move_or_type(lines: list[bytes], rng: random.Random, typed: list[bytes]) -> list[bytes]:
        return moved(lines, rng, typed) if rng.random() < 0.7 else edit(lines, rng, typed)

    reused = assert_edits_match_full_analysis(
        FLOW, rng, TYPED + BINDING, 150, UNPICKLING, move_or_type
    )
    assert reused > 100


def edited(before: str, after: str, path: str = "m.py") -> ModuleReport:
    """The report of ``after`` analysed as an edit of ``before``; checked against a full one.

    The edit must re-walk fewer blocks than the text has, or it proves nothing.
    """
    _, state = analyze_edit(before, path, None, None)
    assert state is not None
    with mock.patch.object(
        Collector, "collect", autospec=True, side_effect=Collector.collect
    ) as walk:
        report, after_state = analyze_edit(after, path, None, state)
    assert after_state is not None
    assert walk.call_count < len(after_state.blocks)
    assert report == analyze(after, path)
    return report


def rules_at(report: ModuleReport) -> set[tuple[str, int]]:
    return {(v.rule, v.span.line) for v in report.violations}


FUNCTIONS = textwrap.dedent(
    """\
    '''Doc.'''
    import os

    def first(x):
        return eval(x)

    eval(y)

    def second(x):
        return 1
    """
)


def test_an_import_below_rebinds_a_function_call_above_not_a_module_level_one() -> None:
    after = FUNCTIONS.replace("return 1", "return 1\n\nfrom safe import eval")
    # The function runs once the module has run, and finds the import; the
    # module-level call runs before the import does, and calls the builtin.
    assert rules_at(edited(FUNCTIONS, after)) == {("ARK001", 7)}
    assert rules_at(edited(after, FUNCTIONS)) == {("ARK001", 5), ("ARK001", 7)}


def test_a_definition_anywhere_at_module_level_shadows_for_functions() -> None:
    after = FUNCTIONS.replace("return 1", "return 1\n\ndef eval(text):\n    return text")
    # The function's call runs later and finds the definition; the module-level
    # call above the definition still calls the builtin.
    assert rules_at(edited(FUNCTIONS, after)) == {("ARK001", 7)}
    assert rules_at(edited(after, FUNCTIONS)) == {("ARK001", 5), ("ARK001", 7)}


def test_an_assignment_above_a_call_shadows_it() -> None:
    after = FUNCTIONS.replace("import os", "import os\neval = None")
    assert rules_at(edited(FUNCTIONS, after)) == set()


def test_renaming_a_definition_unshadows_the_name() -> None:
    before = FUNCTIONS.replace("def second", "def eval")
    assert rules_at(edited(FUNCTIONS, before)) == {("ARK001", 7)}
    assert rules_at(edited(before, FUNCTIONS)) == {("ARK001", 5), ("ARK001", 7)}


def test_a_global_statement_in_a_function_binds_nothing_elsewhere() -> None:
    after = FUNCTIONS.replace("return 1", "global eval\n    eval = safe")
    assert rules_at(edited(FUNCTIONS, after)) == {("ARK001", 5), ("ARK001", 7), ("ARK020", 10)}


def test_a_star_import_and_all_change_no_resolution() -> None:
    after = FUNCTIONS.replace("import os", "import os\nfrom safe import *\n__all__ = ['eval']")
    assert rules_at(edited(FUNCTIONS, after)) == {("ARK022", 3), ("ARK001", 7), ("ARK001", 9)}


HEADER = "#!/usr/bin/env python\n# A comment.\n"
FILLER = "".join(f"\n\ndef pad_{n}():\n    return {n}\n" for n in range(4))
"""Blocks that put the code an edit affects out of reach of the edit's own re-parse."""


def test_an_alias_renamed_elsewhere_changes_what_a_call_runs() -> None:
    before = (
        HEADER
        + "import subprocess as sp\n"
        + FILLER
        + "\n\ndef go():\n    sp.run('ls', shell=True)\n"
    )
    after = before.replace("import subprocess as sp", "import safe as sp")
    assert rules_at(edited(before, after)) == set()
    assert rules_at(edited(after, before)) == {("ARK005", 23)}


def test_an_import_typed_above_a_module_level_call_rebinds_it_and_below_does_not() -> None:
    before = HEADER + "import os\n" + FILLER + "\n\neval(data)\n" + FILLER
    above = before.replace("import os", "import os\nfrom safe import eval")
    below = before + "\n\nfrom safe import eval\n"
    assert rules_at(edited(before, above)) == set()
    assert rules_at(edited(above, before)) == {("ARK001", 22)}
    assert rules_at(edited(before, below)) == {("ARK001", 22)}


def test_a_call_moved_below_a_rebinding_import_is_no_longer_the_builtin() -> None:
    call = "\n\neval(data)\n"
    text = HEADER + "import os\n" + FILLER + call + FILLER + "\n\nfrom safe import eval\n" + FILLER
    moved_down = text.replace(call, "\n", 1).replace(
        "from safe import eval\n", "from safe import eval\n" + call
    )
    assert rules_at(edited(text, moved_down)) == set()
    assert rules_at(edited(moved_down, text)) == {("ARK001", 22)}


def test_an_alternative_import_typed_elsewhere_reaches_a_kept_function() -> None:
    before = HEADER + "from safe import run\n" + FILLER + "\n\ndef go():\n    run('ls')\n"
    after = before.replace(
        "from safe import run\n",
        "try:\n    from safe import run\nexcept ImportError:\n    from os import system as run\n",
    )
    assert rules_at(edited(before, after)) == {("ARK004", 26)}
    assert rules_at(edited(after, before)) == set()


def test_a_fix_takes_up_an_import_added_elsewhere() -> None:
    before = HEADER + "'''Doc.'''\nimport os\n" + FILLER + "\n\ndef go():\n    os.system('ls -l')\n"
    after = before.replace("import os", "import os\nimport subprocess as sp")
    fix = edited(before, after).violations[0].fix
    assert fix is not None
    assert [edit.new_text for edit in fix.edits] == ["sp.run(['ls', '-l'], check=False)"]
    again = edited(after, before).violations[0].fix
    assert again is not None
    assert again.edits[0].new_text == "import subprocess\n"


def test_a_fix_adds_its_import_below_a_docstring_grown_above_it() -> None:
    before = HEADER + "'''Doc.'''\nimport os\n" + FILLER + "\n\ndef go():\n    os.system('ls -l')\n"
    after = before.replace("'''Doc.'''", "'''Doc.\n\nMore.\n'''")
    fix = edited(before, after).violations[0].fix
    assert fix is not None
    assert fix.edits[0].span.line == 7


def test_a_fix_adds_its_import_below_a_future_import_typed_above_it() -> None:
    before = HEADER + "\n\nimport os\n" + FILLER + "\n\ndef go():\n    os.system('ls -l')\n"
    after = before.replace("\n\nimport os", "from __future__ import annotations\nimport os")
    fix = edited(before, after).violations[0].fix
    assert fix is not None
    assert fix.edits[0].span.line == 4


def test_blocks_below_an_edit_move_with_their_spans_and_fixes() -> None:
    before = (
        "import os\n\n\nz = 0\n"
        + FILLER
        + "\n\ndef go():\n    os.system('ls')\n    eval('1')  # noqa: E501\n"
    )
    after = before.replace("z = 0", "x = 1\ny = 2")
    report = edited(before, after)
    assert rules_at(report) == {("ARK004", 25), ("ARK001", 26)}
    fixes = [v.fix for v in report.violations]
    # The import a fix adds stays at the top; the call it rewrites moved.
    assert [[e.span.line for e in fix.edits] for fix in fixes if fix] == [[1, 25], [1, 26]]


def test_a_suppression_typed_on_a_line_applies_to_it() -> None:
    after = FUNCTIONS.replace("eval(y)", "eval(y)  # ark: ignore[ARK001]")
    assert rules_at(edited(FUNCTIONS, after)) == {("ARK001", 5)}


def test_statements_sharing_a_line_are_one_block() -> None:
    before = "import os\n\n\na = eval(x); b = 1  # noqa: ARK002\n" + FILLER
    after = before.replace("b = 1", "b = exec(y)")
    assert rules_at(edited(before, after)) == {("ARK001", 4)}


def test_a_class_body_binding_keeps_its_place_when_the_class_moves() -> None:
    before = (
        "import os\n\n\nz = 0\n"
        + FILLER
        + "\n\nclass C:\n    x = eval(1)\n    eval = f\n    y = eval(2)\n"
    )
    after = before.replace("z = 0", "z = 0\n# moved")
    assert rules_at(edited(before, after)) == {("ARK001", 25)}


def test_a_kept_block_that_does_not_parse_alone_is_analysed_with_the_whole_text() -> None:
    # The backslash joins the blank line below to the statement, which then
    # parses only together with it.
    before = HEADER + "import os\n" + FILLER + "\n\nx = eval(y) \\\n\nz = 1\n"
    after = before.replace("import os", "from safe import eval")
    _, state = analyze_edit(before, "m.py", None, None)
    report, _ = analyze_edit(after, "m.py", None, state)
    assert report == analyze(after, "m.py")
    assert rules_at(report) == set()


def test_a_change_of_tier_or_rules_analyses_the_whole_text() -> None:
    text = "import os\n\n\ndef f():\n    return 1\n"
    _, state = analyze_edit(text, "m.py", Settings(), None)
    sandbox = "sandbox/m.py"
    config = Settings(tiers=(("sandbox/*", Tier.SANDBOX),))
    report, _ = analyze_edit(text, sandbox, config, state)
    assert report == analyze(text, sandbox, config)
    assert rules_at(report) == {("ARK010", 1)}


def test_an_edit_that_breaks_the_file_reports_the_same_error_as_a_full_analysis() -> None:
    text = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    _, previous = analyze_edit(text, "m.py", None, None)
    broken = text.replace("return 2", "return (2")
    report, kept = analyze_edit(broken, "m.py", None, previous)
    assert kept is None
    assert report.violations == analyze(broken, "m.py").violations


def test_an_edit_inside_a_function_walks_only_its_block(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (STDLIB / "textwrap.py").read_text()
    _, previous = analyze_edit(text, "textwrap.py", None, None)
    walked: list[int] = []
    collect = Collector.collect

    def counted(self: Collector, statements: list[ast.stmt]) -> Collector:
        walked.append(first_line(statements[0]))
        return collect(self, statements)

    monkeypatch.setattr(Collector, "collect", counted)
    edited_text = text.replace(
        "    def _munge_whitespace", "    eval(x)\n\n    def _munge_whitespace"
    )
    report, _ = analyze_edit(edited_text, "textwrap.py", None, previous)
    assert walked == [17]  # class TextWrapper, and nothing else
    assert [v.rule for v in report.violations] == ["ARK001"]
    assert report == analyze(edited_text, "textwrap.py")


def test_a_file_with_a_coding_line_other_than_utf8_is_parsed_whole() -> None:
    text = "# -*- coding: latin-1 -*-\nimport os\n\n\ns = 'é'\n"
    _, previous = analyze_edit(text, "m.py", None, None)
    changed = text + "t = 'è'\n"
    report, _ = analyze_edit(changed, "m.py", None, previous)
    assert report == analyze(changed, "m.py")


def test_lines_counted_one_at_a_time_agree_with_the_whole_text() -> None:
    rng = random.Random(7)
    bodies = [b"", b"  \t", b"\x0c", b"# c", b"   # c", b"\x0b", b"code", b"x = '#'", b"\t\x0c#"]
    endings = [b"\n", b"\r\n", b"\r"]
    for _ in range(500):
        lines = [rng.choice(bodies) + rng.choice(endings) for _ in range(rng.randrange(1, 8))]
        if rng.random() < 0.5:
            lines.append(rng.choice(bodies[1:]))
        text = b"".join(lines)
        assert line_counts(text.splitlines(keepends=True)) == count_lines(text)


def test_an_edit_of_a_text_with_windows_line_endings_counts_its_lines() -> None:
    text = "import os\r\n\r\n\r\n" + FILLER.replace("\n", "\r\n") + "# end\r\n"
    after = text.replace("    return 2\r\n", "    # two\r\n    return 2\r\n\r\n  \r\n")
    assert edited(text, after).lines == analyze(after, "m.py").lines


@pytest.mark.parametrize(
    "text",
    [
        *((STDLIB / sample).read_text() for sample in SAMPLES),
        RISKY.decode(),
        "def broken(:\n",
        "x = 1\0\n",
    ],
    ids=[*SAMPLES, "risky", "syntax-error", "null-byte"],
)
def test_an_analysis_leaves_no_cyclic_garbage(text: str) -> None:
    # The collector is paused while an analysis runs: what it allocates must be
    # freed by reference counting alone. (ast.literal_eval, which a fix calls,
    # leaves a few closures of its own.)
    edited_text = text.replace("\n\n", "\n\nx = 1\n", 1)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        analyze(text, "m.py")
        _, state = analyze_edit(text, "m.py", None, None)
        analyze_edit(edited_text, "m.py", None, state)
        gc.collect()
        left = [type(o) for o in gc.garbage if type(o).__module__.startswith(("ark_lsp", "ast"))]
        assert left == []
        assert len(gc.garbage) < 50
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_the_collector_runs_again_after_an_analysis() -> None:
    assert gc.isenabled()
    analyze("x = 1\n", "m.py")
    assert gc.isenabled()
    gc.disable()
    try:
        analyze("x = 1\n", "m.py")
        assert not gc.isenabled()
    finally:
        gc.enable()


ANNOTATED = "\n\ndef go():\n    x: (y := int) = 1\n"
POSTPONED_WALRUS = "syntax error: 'named expression' can not be used within an annotation"


def test_a_future_import_typed_above_an_annotation_decides_what_is_refused() -> None:
    without = HEADER + "'''Doc.'''\nimport os\n" + FILLER + ANNOTATED
    with_future = without.replace(
        "'''Doc.'''\n", "'''Doc.'''\nfrom __future__ import annotations\n"
    )
    refused = [(ARK000, _line_of("y := int", with_future), 8, POSTPONED_WALRUS)]
    _, state = analyze_edit(without, "m.py", None, None)
    assert state is not None and _refused(state.report) == []
    # Typed in: the annotation below is refused, as compiling the whole text says.
    report, state = analyze_edit(with_future, "m.py", None, state)
    assert _refused(report) == refused
    assert report == analyze(with_future, "m.py")
    # Deleted again: it is taken.
    report, _ = analyze_edit(without, "m.py", None, state)
    assert _refused(report) == []
    assert report == analyze(without, "m.py")


def test_an_annotation_typed_below_a_future_import_is_compiled_with_it() -> None:
    head = HEADER + "'''Doc.'''\nfrom __future__ import annotations\nimport os\n" + FILLER
    before = head + ANNOTATED.replace("(y := int)", "int")
    # Only the edited function is walked, and compiled under the module's features.
    after = edited(before, head + ANNOTATED)
    assert _refused(after) == [
        (ARK000, _line_of("y := int", head + ANNOTATED), 8, POSTPONED_WALRUS)
    ]
    assert _refused(edited(head + ANNOTATED, before)) == []


ARK000 = "ARK000"


def _line_of(text: str, source: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def _refused(report: ModuleReport) -> list[tuple[str, int, int, str]]:
    return [
        (v.rule, v.span.line, v.span.column, v.message)
        for v in report.violations
        if v.rule == ARK000
    ]
