"""The lint check: real pylint on real base and head checkouts of a real repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.gate_trees import ChangeRepository

from ark_lsp.config import GateSettings
from ark_lsp.gate.checks.lint import check_lint
from ark_lsp.gate.model import CheckStatus, GateInput

CLEAN = '''\
"""Orders."""


def order_total(prices: list[int]) -> int:
    """Sum the prices."""
    return sum(prices)
'''

WITH_UNUSED = '''\
"""Orders."""


def order_total(prices: list[int]) -> int:
    """Sum the prices."""
    count = len(prices)
    return sum(prices)
'''

NOISY = """\
import os
def f(x):
    y = 1
    return x
"""
"""An untouched file with conventions broken and warnings: none of the change's business."""


REFUND = (
    '\n\ndef refund(amount: int) -> int:\n    """Refund."""\n    unused = 1\n    return amount\n'
)


@pytest.fixture
def repo(tmp_path: Path) -> ChangeRepository:
    return ChangeRepository(tmp_path)


def test_a_new_warning_fails_at_severity_warning(repo: ChangeRepository) -> None:
    change = repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {"shop/orders.py": WITH_UNUSED},
    )

    result = check_lint(change)

    assert result.status is CheckStatus.FAILED
    assert result.summary == "lint: 1 new pylint message at warning or above"
    [message] = result.findings
    assert (message.path, message.line, message.code, message.severity, message.symbol) == (
        "shop/orders.py",
        6,
        "unused-variable",
        "warning",
        "order_total",
    )
    assert message.message == "Unused variable 'count' (W0612)"


def test_the_same_warning_passes_at_severity_error(repo: ChangeRepository) -> None:
    change = repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {"shop/orders.py": WITH_UNUSED},
        GateSettings(lint_severity="error"),
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED
    assert result.summary == "lint: no new pylint messages at error or above"
    assert dict(result.measures) == {"messages_before": 0.0, "messages_after": 0.0, "new": 0.0}


def test_a_new_error_fails_at_severity_error(repo: ChangeRepository) -> None:
    broken = CLEAN + '\n\ndef refund() -> int:\n    """Refund."""\n    return undefined_amount\n'
    change = repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {"shop/orders.py": broken},
        GateSettings(lint_severity="error"),
    )

    result = check_lint(change)

    assert result.status is CheckStatus.FAILED
    assert [(f.code, f.severity, f.symbol) for f in result.findings] == [
        ("undefined-variable", "error", "refund")
    ]


def test_an_import_the_gates_pylint_cannot_resolve_is_no_new_error(
    repo: ChangeRepository,
) -> None:
    # pylint runs in ARK's environment, not the project's, with the tree out of the import
    # system: whether an import resolves says nothing of the change.
    enabled = '[tool.pylint."messages control"]\nenable = ["E0401"]\n'  # turned on, even
    importing = (
        '"""Orders."""\n\nimport not_installed_anywhere\n'
        "from json import not_a_name_of_json\n\nfrom shop.orders import order_total\n"
    )
    change = repo.change(
        {"pyproject.toml": enabled, "shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {"tests/test_orders.py": importing},
        GateSettings(lint_severity="error"),
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED, [f.code for f in result.findings]


@pytest.mark.parametrize("package_root", ["", "src/"], ids=["flat", "src-layout"])
def test_the_projects_own_package_is_read_from_the_tree_not_a_copy_installed_beside_ark(
    repo: ChangeRepository, package_root: str
) -> None:
    # ARK depends on click: a test of click's own 8.1 calling HelpFormatter methods got
    # "no value for argument 'ctx'" from the signatures of the click ARK has installed.
    own_click = '"""A click of the project\'s own."""\n\n\ndef echo(*parts):\n    return parts\n'
    calling = (
        '"""Tests."""\n\nimport click\n\n\ndef test_echo():\n    click.echo(1, 2, 3, 4, 5, 6)\n'
    )
    change = repo.change(
        {f"{package_root}click/__init__.py": own_click},
        {"tests/test_echo.py": calling},
        GateSettings(lint_severity="error"),
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED, [f.message for f in result.findings]


def test_only_the_changed_files_are_linted(repo: ChangeRepository) -> None:
    change = repo.change(
        {
            "shop/__init__.py": '"""Shop."""\n',
            "shop/orders.py": CLEAN,
            "shop/noisy.py": NOISY,
            "scripts/old.py": NOISY,
        },
        {"shop/orders.py": CLEAN + "\nLIMIT = 10\n"},
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED
    assert set(result.files) == {"shop/orders.py"}
    assert dict(result.files["shop/orders.py"]) == {"messages": 0.0, "new": 0.0}


def test_a_moved_function_keeps_its_old_warning_old(repo: ChangeRepository) -> None:
    moved = CLEAN.replace('"""Orders."""\n', '"""Orders."""\n\nTAX = 0.2\nFEES = 3\n\n') + REFUND
    base = CLEAN + REFUND
    change = repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": base},
        {"shop/orders.py": moved},
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED, result.findings
    assert dict(result.measures) == {"messages_before": 1.0, "messages_after": 1.0, "new": 0.0}


def test_the_base_commits_disabled_messages_stay_disabled(repo: ChangeRepository) -> None:
    rcfile = "[MESSAGES CONTROL]\ndisable = unused-variable, missing-module-docstring\n"
    change = repo.change(
        {".pylintrc": rcfile, "shop/__init__.py": "", "shop/orders.py": CLEAN},
        {"shop/orders.py": WITH_UNUSED},
    )

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED, result.findings


def test_a_change_cannot_disable_its_own_messages(repo: ChangeRepository) -> None:
    change = repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {
            "pyproject.toml": '[tool.pylint."messages control"]\ndisable = ["unused-variable"]\n',
            "shop/orders.py": WITH_UNUSED,
        },
    )

    result = check_lint(change)

    assert result.status is CheckStatus.FAILED
    assert [f.code for f in result.findings] == ["unused-variable"]


# --- when pylint cannot judge -------------------------------------------------------------------


@pytest.fixture
def change(repo: ChangeRepository) -> GateInput:
    return repo.change(
        {"shop/__init__.py": '"""Shop."""\n', "shop/orders.py": CLEAN},
        {"shop/orders.py": WITH_UNUSED},
    )


def test_pylint_not_installed_is_not_run(change: GateInput, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)

    result = check_lint(change, python=str(bare / "bin" / "python"))

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == f"pylint is not installed for {bare / 'bin' / 'python'}"


def test_a_fatal_pylint_message_is_not_run_with_its_reason(
    change: GateInput, tmp_path: Path
) -> None:
    fatal = (
        '{"messages": [{"type": "fatal", "symbol": "astroid-error", "messageId": "F0002",'
        ' "path": "shop/orders.py", "line": 1, "message": "Fatal error while checking"}]}'
    )
    crashing = tmp_path / "python"
    crashing.write_text(f"#!/bin/sh\necho '{fatal}'\nexit 1\n")
    crashing.chmod(0o755)

    result = check_lint(change, python=str(crashing))

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == ("pylint: astroid-error in shop/orders.py: Fatal error while checking")


def test_a_pylint_that_prints_no_report_is_not_run(change: GateInput, tmp_path: Path) -> None:
    crashing = tmp_path / "python"
    crashing.write_text(
        "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n"
        "echo 'RecursionError: maximum recursion depth exceeded' >&2\nexit 1\n"
    )
    crashing.chmod(0o755)

    result = check_lint(change, python=str(crashing))

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == (
        "pylint failed (exit status 1): RecursionError: maximum recursion depth exceeded"
    )


def test_a_pylint_that_does_not_finish_is_stopped_and_not_run(change: GateInput) -> None:
    result = check_lint(change, timeout=0.2)

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == "pylint took longer than 0.2 s"
