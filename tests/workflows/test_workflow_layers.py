"""The application layer imports the engines and the project, never a front end or its libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import ark_lsp

PACKAGE = Path(ark_lsp.__file__).parent
FRONT_ENDS = ("ark_lsp.server", "ark_lsp.cli", "pygls", "lsprotocol", "click")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_workflows_and_the_project_import_no_front_end() -> None:
    files = [PACKAGE / "project.py", *sorted((PACKAGE / "workflows").glob("*.py"))]
    offending = {
        f"{path.relative_to(PACKAGE.parent)}: {module}"
        for path in files
        for module in imported_modules(path)
        if any(module == bad or module.startswith(f"{bad}.") for bad in FRONT_ENDS)
    }
    assert len(files) > 5 and not offending
