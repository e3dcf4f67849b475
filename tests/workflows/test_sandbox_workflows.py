"""The run and test workflows: the runner asked for, options over settings, every run recorded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ark_lsp.project import Project
from ark_lsp.sandbox import Outcome, PytestRun, RunResult
from ark_lsp.workflows.run import SandboxOptions, run_code
from ark_lsp.workflows.tests import run_tests


class FakeRunner:
    """Says what it was asked to run; runs nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.closed = False

    def run_file(self, relative: str, arguments: Sequence[str] = (), cancel: Any = None) -> Any:
        self.calls.append(("file", relative, tuple(arguments), cancel))
        return RunResult(Outcome.PASSED, "fake")

    def run_function(
        self, relative: str, qualname: str, arguments: Sequence[object] = (), cancel: Any = None
    ) -> Any:
        self.calls.append(("function", relative, qualname, tuple(arguments), cancel))
        return RunResult(Outcome.PASSED, "fake")

    def run_tests(self, targets: Sequence[str] = (), cancel: Any = None) -> Any:
        self.calls.append(("tests", tuple(targets), cancel))
        return PytestRun(RunResult(Outcome.PASSED, "fake"))

    def close(self) -> None:
        self.closed = True


def test_a_file_or_a_function_is_run_on_the_runner_given(project: Project) -> None:
    runner = FakeRunner()

    def stop() -> bool:
        return False

    run_code(project, "shop/pricing.py", arguments=["1"], runner=runner, cancel=stop)
    run_code(project, "shop/pricing.py", function="total", arguments=["2"], runner=runner)
    run_tests(project, ["tests"], runner=runner, cancel=stop)

    assert runner.calls == [
        ("file", "shop/pricing.py", ("1",), stop),
        ("function", "shop/pricing.py", "total", ("2",), None),
        ("tests", ("tests",), stop),
    ]
    assert not runner.closed  # the caller's runner stays the caller's (warm containers)


def test_without_a_runner_one_is_made_from_the_options_and_closed(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[FakeRunner, dict[str, Any]]] = []

    def sandbox_runner(self: Project, **options: Any) -> FakeRunner:
        made.append((FakeRunner(), options))
        return made[-1][0]

    monkeypatch.setattr(Project, "sandbox_runner", sandbox_runner)
    options = SandboxOptions(backend="local", timeout=2.5, memory=64 << 20, weak_isolation=True)

    run_code(project, "shop/pricing.py", options=options)
    run_tests(project, options=options)

    assert [runner.closed for runner, _ in made] == [True, True]
    _, asked = made[0]
    assert (asked["backend"], asked["weak_isolation"]) == ("local", True)
    limits = asked["limits"]
    assert (limits.timeout, limits.memory) == (2.5, 64 << 20)
    assert (limits.cpus, limits.network) == (
        project.settings.sandbox.cpus,
        project.settings.sandbox.network,
    )


@pytest.mark.slow
def test_a_real_local_run_and_test_run_are_recorded(project: Project, shop: Path) -> None:
    (shop / "tests").mkdir()
    (shop / "tests" / "test_pricing.py").write_text(
        "from shop.pricing import total\n\n\ndef test_total():\n    assert total([1.0]) == 1.0\n"
    )
    options = SandboxOptions(backend="local")

    called = run_code(project, "shop/checkout.py", function="pay", options=options)
    tested = run_tests(project, ["tests"], options=options)

    assert (called.outcome, called.backend, called.stdout) == (Outcome.PASSED, "local", "3.0\n")
    assert called.execution_id is not None
    assert tested.counts["passed"] == 1, tested.result
    with project.open_store() as store:
        kinds = [record.kind for record in store.runs.history()]
    assert sorted(kinds) == ["function", "test"]
