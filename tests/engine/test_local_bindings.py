"""Whether a function binds a name: the textual shortcut agrees with the walk of its tree."""

from __future__ import annotations

import ast
import sysconfig
import textwrap
from pathlib import Path

from ark_lsp.analysis.local_types import NOT_LOCAL, _binding_in, _never_bound_in

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = (
    "argparse.py",
    "inspect.py",
    "typing.py",
    "dataclasses.py",
    "email/_header_value_parser.py",
)


def functions(path: Path) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Each function of a module with its own text, from its ``def`` line, dedented."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            text = textwrap.dedent("\n".join(lines[node.lineno - 1 : node.end_lineno]))
            if text.startswith(("def ", "async def ")):  # decorators sit above the def line
                found.append((text, node))
    return found


def test_a_name_the_text_never_binds_is_not_bound_by_the_walk_either() -> None:
    # sympy's 900-line solve(): walking its 2,600 nodes for each call a hover resolved took
    # 10 to 20 ms; a name it mentions once, called, is skipped without the walk.
    skipped = compared = 0
    for module in MODULES:
        for text, _ in functions(STDLIB / module):
            tree = ast.parse(text).body[0]
            assert isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef)
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
            for name in names:
                compared += 1
                if _never_bound_in(text, name):
                    skipped += 1
                    assert _binding_in(tree, name) == NOT_LOCAL, (module, name, text[:200])
    assert compared > 4000 and skipped > 500, (compared, skipped)


def test_what_the_shortcut_reads_as_a_binding_or_as_none() -> None:
    body = "def f():\n    {}\n"
    assert _never_bound_in(body.format("return helper(1)"), "helper")
    assert _never_bound_in(body.format("return other.helper(1)"), "helper")
    assert _never_bound_in(body.format("return my_helper(1)"), "helper")
    for binds in (
        "helper = make()\n    helper(1)",
        "def helper(x):\n        pass",
        "class helper(Base):\n        pass",
        "import helper",
        "for helper in items:\n        pass",
        "with open(p) as helper:\n        pass",
        "print(helper)",  # one mention, not a call: the walk decides
    ):
        assert not _never_bound_in(body.format(binds), "helper"), binds
