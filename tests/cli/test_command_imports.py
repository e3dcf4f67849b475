"""The commands a hook or a script runs often import only what they use.

``ark`` is mostly start-up on a few files (a pre-commit hook's ``ark check``):
the change sets' machinery (git, worktrees), the gate's, the sandbox's and the
generator's stay unimported unless a command asks for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UNUSED_BY_CHECKS = (
    "ark_lsp.workflows.changes",
    "ark_lsp.changes",
    "ark_lsp.git",
    "ark_lsp.gate",
    "ark_lsp.sandbox",
    "ark_lsp.generate",
    "jinja2",
    "docker",
    "jedi",
)

RUN_AND_LIST_MODULES = """
import json, sys
from ark_lsp.cli import main
sys.argv = ["ark", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)
"""


def modules_after(project: Path, *arguments: str) -> tuple[object, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return code, set(modules)


@pytest.mark.parametrize(
    "arguments",
    [("check", "app.py"), ("check", "--format", "json", "."), ("index", "."), ("symbols", ".")],
    ids=" ".join,
)
def test_a_command_leaves_other_engines_unimported(
    tmp_path: Path, arguments: tuple[str, ...]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "app.py").write_text("import os\n\n\ndef run(c):\n    os.system(c)\n")

    code, modules = modules_after(tmp_path, *arguments)

    assert code in (0, 1, None)  # check exits 1: os.system is an error
    imported = {
        name
        for name in modules
        if any(name.partition(".")[0] == p or name.startswith(f"{p}.") for p in UNUSED_BY_CHECKS)
    }
    assert imported == set()


def test_fixes_asked_as_a_change_import_the_change_sets(tmp_path: Path) -> None:
    # The other side: the lazy imports are still made when they are needed.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "app.py").write_text("x = 1\n")

    code, modules = modules_after(tmp_path, "check", "--fix", "--as-change", "app.py")

    assert code == 0  # nothing to fix: "ark: no safe fixes to propose"
    assert "ark_lsp.workflows.changes" in modules
