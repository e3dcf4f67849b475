"""The test-generation workflow: call sites from the index, the runner, the record, the write.

``LocalRunner``, a plain subprocess, stands in for the sandbox.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.local_runner import LocalRunner

from ark_lsp.generate.characterize import NothingToTest
from ark_lsp.project import Project
from ark_lsp.workflows.characterize import characterize
from ark_lsp.workflows.index import refresh_index


def generated_code(project: Project) -> list[tuple[str, str, dict[str, object] | None]]:
    with sqlite3.connect(project.database) as connection:
        rows = connection.execute(
            "SELECT kind, target, test_outcome FROM generated_code ORDER BY id"
        ).fetchall()
    return [
        (kind, target, json.loads(outcome) if outcome else None) for kind, target, outcome in rows
    ]


def test_tests_are_generated_from_observed_calls_recorded_and_written(project: Project) -> None:
    refresh_index(project)  # checkout.py's call of total() gives it a sample input
    runner = LocalRunner(project.root)
    said: list[str] = []

    result = characterize(
        project,
        "shop/pricing.py",
        name="total",
        runner=runner,
        write=True,
        run_tests=False,
        progress=said.append,
    )

    assert result.written and result.generation.offered
    written = project.root / result.outcome.path
    assert written == project.root / "tests" / "test_pricing.py"
    text = written.read_text()
    assert "def test_total" in text and "[1.5, 2.5]" in text
    assert runner.requests and said
    ((kind, target, outcome),) = generated_code(project)
    assert kind == "tests" and "total" in target
    assert outcome is not None and outcome["targets"] == ["total"]


def test_without_write_the_change_is_only_returned(project: Project) -> None:
    result = characterize(
        project, "shop/pricing.py", name="total", runner=LocalRunner(project.root), run_tests=False
    )
    assert not result.written and result.generation.change.creates
    assert not (project.root / "tests").exists()
    assert len(generated_code(project)) == 1


def test_nothing_to_test_is_said_and_nothing_recorded(project: Project) -> None:
    with pytest.raises(NothingToTest, match="no function or method missing"):
        characterize(project, "shop/pricing.py", name="missing", runner=LocalRunner(project.root))
    assert generated_code(project) == []


def test_a_database_that_cannot_be_opened_costs_the_call_sites_not_the_tests(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    project.database.write_bytes(b"not a database any more" * 100)
    result = characterize(
        project, "shop/pricing.py", name="total", runner=LocalRunner(project.root), run_tests=False
    )
    assert result.generation.offered
    assert "no call sites for test inputs" in caplog.text
    assert "generation not recorded" in caplog.text


def test_the_project_runner_is_used_and_closed_when_none_is_given(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[LocalRunner] = []
    closed: list[bool] = []

    class ClosingRunner(LocalRunner):
        def close(self) -> None:
            closed.append(True)

    def sandbox_runner(self: Project, **options: object) -> ClosingRunner:
        made.append(ClosingRunner(self.root))
        return made[-1]

    monkeypatch.setattr(Project, "sandbox_runner", sandbox_runner)
    characterize(project, "shop/pricing.py", name="total", run_tests=False)
    assert len(made) == 1 and made[0].requests and closed == [True]


def test_files_are_read_through_the_callers_reader(project: Project, shop: Path) -> None:
    buffer = 'def shout(text: str) -> str:\n    """Louder."""\n    return text.upper()\n'
    result = characterize(
        project,
        "shop/pricing.py",
        name="shout",
        runner=LocalRunner(project.root),
        read_text=lambda path: buffer if path.name == "pricing.py" else None,
        run_tests=False,
    )
    assert "shout" in result.generation.text
