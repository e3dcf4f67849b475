"""The gate as a whole: what it judges, by whose settings, where, and what it keeps."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.git_repos import commit, head, make_repo, status, worktrees, write
from support.sandboxes import lean_interpreter

from ark_lsp.gate import checks as registry
from ark_lsp.gate.checkouts import OWNER_FILE
from ark_lsp.gate.model import CheckStatus, GateInput
from ark_lsp.git import git
from ark_lsp.sandbox.requests import workspace_files
from ark_lsp.workflows.gate import (
    WORKING_TREE,
    GateCancelled,
    GateError,
    GateUsageError,
    run_gate,
)
from ark_lsp.workflows.trust import trust_workspace

ALL_CHECKS = ["findings", "types", "lint", "coverage", "mutation", "complexity", "tests"]
ONLY_ARK_CHECKS = '\n[tool.ark.gate]\nchecks = ["findings", "complexity"]\n'
EVAL = "\n\ndef ask():\n    return eval(input())\n"


def add_eval(repo: Path) -> None:
    pricing = repo / "shop/pricing.py"
    write(repo, {"shop/pricing.py": pricing.read_text() + EVAL})


def only_ark_checks(repo: Path) -> None:
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {"pyproject.toml": pyproject + ONLY_ARK_CHECKS})
    commit(repo, "the gate runs ARK's own checks")


def by_name(report_checks: tuple) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in report_checks}


def test_a_clean_change_passes_and_switched_off_checks_are_listed_not_failed(
    repo: Path, load
) -> None:
    only_ark_checks(repo)
    write(repo, {"shop/tax.py": "def tax(amount):\n    return amount * 0.2\n"})

    report = run_gate(load(repo))

    assert report.passed, report.summary()
    checks = by_name(report.checks)
    assert list(checks) == [
        "findings",
        "types",
        "lint",
        "coverage",
        "mutation",
        "complexity",
        "tests",
    ]
    for name in ("types", "lint", "coverage", "mutation", "tests"):
        assert (checks[name].status, checks[name].reason) == (CheckStatus.NOT_RUN, "switched off")
    assert report.summary() == "gate passed: 2 of 2 checks passed"
    assert report.subject == WORKING_TREE and report.working_tree
    assert [f.path for f in report.files] == ["shop/tax.py"]


def test_local_runs_of_a_checkout_have_the_workspaces_own_virtual_environment(
    repo: Path, load
) -> None:
    # The gate checks commits out in the user's cache, where the workspace's .venv
    # (ignored by git) is not: its local runs must still get it, not ARK's own Python.
    lean_interpreter(repo / ".venv")
    (site,) = (repo / ".venv").glob("lib/python3*/site-packages")
    (site / "only_in_the_venv.py").write_text("RATE = 0.2\n")
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {
        ".gitignore": ".venv/\n",
        "pyproject.toml": pyproject + '\n[tool.ark.sandbox]\nbackend = "local"\n'
        '\n[tool.ark.gate]\nchecks = ["tests"]\n',
        "tests/test_pricing.py": "from shop.pricing import total\n\n\n"
        "def test_total():\n    assert total([1, 2]) == 3\n",
    })  # fmt: skip
    commit(repo, "tests, run locally")
    trust_workspace(repo.resolve(), load.trust_store)  # the .venv is used once trusted
    write(repo, {
        "tests/test_rate.py": "from only_in_the_venv import RATE\n\n\n"
        "def test_rate():\n    assert RATE == 0.2\n",
    })  # fmt: skip

    report = run_gate(load(repo))

    tests = by_name(report.checks)["tests"]
    assert tests.status is CheckStatus.PASSED, tests.reason
    assert tests.summary.startswith("tests: 1 test passes on the change"), tests.summary


def test_the_version_module_a_build_wrote_is_in_the_checkouts_and_the_sandbox_copy(
    repo: Path, load
) -> None:
    # humanize's hatch-vcs writes src/humanize/_version.py, which git ignores: no commit,
    # checkout or copy of the tree held it, and no test could import the package.
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {
        ".gitignore": "shop/_version.py\n",
        "pyproject.toml": pyproject
        + '\n[tool.hatch.build.hooks.vcs]\nversion-file = "shop/_version.py"\n'
        + '\n[tool.ark.sandbox]\nbackend = "local"\n\n[tool.ark.gate]\nchecks = ["tests"]\n',
        "shop/__init__.py": "from shop._version import version\n",
        "shop/_version.py": "version = '1.2.3'\n",
        "tests/test_version.py": "import shop\n\n\n"
        "def test_version():\n    assert shop.version == '1.2.3'\n",
    })  # fmt: skip
    commit(repo, "a version the build writes")
    assert "shop/_version.py" not in git(repo, "ls-files")
    write(repo, {"tests/test_version.py": "import shop\n\n\n"
                 "def test_version():\n    assert shop.version.startswith('1.')\n"})  # fmt: skip

    report = run_gate(load(repo))

    tests = by_name(report.checks)["tests"]
    assert tests.status is CheckStatus.PASSED, tests.reason
    assert tests.summary.startswith("tests: 1 test passes on the change"), tests.summary
    copied = workspace_files(repo, load(repo).settings)
    assert copied["shop/_version.py"] == b"version = '1.2.3'\n"


def test_an_enabled_check_that_cannot_judge_fails_the_gate_and_says_why(repo: Path, load) -> None:
    # A project without tests: nothing can say whether the change is tested.
    write(repo, {"shop/tax.py": "def tax(amount):\n    return amount * 0.2\n"})

    report = run_gate(load(repo))

    checks = by_name(report.checks)
    assert (checks["findings"].status, checks["complexity"].status) == (
        CheckStatus.PASSED,
        CheckStatus.PASSED,
    )
    for name in ("tests", "coverage", "mutation"):
        assert checks[name].status is CheckStatus.NOT_RUN
        assert "pytest collected no tests" in (checks[name].reason or ""), checks[name]
    not_run = [name for name, c in checks.items() if c.status is CheckStatus.NOT_RUN]
    for name in not_run:
        if not registry.available(name):
            assert checks[name].reason == "not available in this ARK"
    assert not report.passed
    assert report.summary() == f"gate failed: {', '.join(not_run)} not run"


def test_the_base_commits_gate_settings_apply_not_the_changes_own(repo: Path, load) -> None:
    only_ark_checks(repo)
    # The change switches the findings check off and allows any complexity: both ignored.
    pyproject = (repo / "pyproject.toml").read_text()
    loosened = pyproject.replace(ONLY_ARK_CHECKS, "") + (
        '\n[tool.ark.gate]\nchecks = ["complexity"]\ncomplexity-slack = 50\n'
    )
    write(repo, {"pyproject.toml": loosened})
    add_eval(repo)
    pricing = repo / "shop/pricing.py"
    grown = pricing.read_text().replace("    if price > 100:", "    if price > 100 and price:")
    write(repo, {"shop/pricing.py": grown})
    commit(repo, "a change that loosens its own judge")

    report = run_gate(load(repo), "HEAD~1..HEAD")

    assert report.settings.checks == ("findings", "complexity")
    assert report.settings.complexity_slack == 0
    checks = by_name(report.checks)
    assert checks["findings"].status is CheckStatus.FAILED
    assert checks["complexity"].status is CheckStatus.FAILED
    assert not report.passed


def test_the_base_commits_rules_judge_the_findings_not_the_changes(repo: Path, load) -> None:
    only_ark_checks(repo)
    pyproject = (repo / "pyproject.toml").read_text()
    ignoring = pyproject + '\n[tool.ark]\nignore = ["ARK002"]\n'
    write(repo, {"pyproject.toml": ignoring})
    commit(repo, "exec is accepted here")
    # The change ignores eval for itself: not its say.
    write(repo, {"pyproject.toml": ignoring.replace('"ARK002"', '"ARK001", "ARK002"')})
    add_eval(repo)
    write(repo, {"shop/run.py": "def run(code):\n    exec(code)\n"})

    report = run_gate(load(repo))

    assert [(f.path, f.code) for f in report.findings] == [("shop/pricing.py", "ARK001")]


def test_ranges_name_commits_and_the_working_tree_is_left_alone(repo: Path, load) -> None:
    only_ark_checks(repo)
    base = head(repo)
    add_eval(repo)
    changed = commit(repo, "eval")
    write(repo, {"shop/tax.py": "def tax(amount):\n    return amount\n", "notes.txt": "wip\n"})
    git(repo, "add", "shop/tax.py")
    before = (status(repo), git(repo, "stash", "list"), git(repo, "branch", "--list"))

    for target in ("HEAD~1..HEAD", f"{base}..{changed}", "HEAD~1..", "main~1...main"):
        report = run_gate(load(repo), target)
        assert (report.base, report.head, report.subject) == (base, changed, target)
        assert [f.code for f in report.findings] == ["ARK001"], target

    assert (status(repo), git(repo, "stash", "list"), git(repo, "branch", "--list")) == before


def test_the_working_tree_is_judged_with_untracked_files_and_without_ignored_ones(
    repo: Path, load
) -> None:
    only_ark_checks(repo)
    write(repo, {".gitignore": "scratch/\n"})
    commit(repo, "ignore scratch")
    write(repo, {"shop/new.py": "value = eval('1')\n", "scratch/tool.py": "exec('x')\n"})
    before = status(repo)

    report = run_gate(load(repo))

    assert [(f.path, f.code) for f in report.findings] == [("shop/new.py", "ARK001")]
    assert status(repo) == before
    assert git(repo, "rev-parse", "HEAD").strip() == report.base
    assert report.head != report.base


def test_an_untracked_virtual_environment_is_no_part_of_the_working_trees_change(
    repo: Path, load
) -> None:
    # packaging's sdist has no .gitignore: the gate judged its new .venv, 2,457 files.
    only_ark_checks(repo)
    write(repo, {"tools/build/make.py": "STEPS = 1\n"})
    commit(repo, "a tracked folder named build")
    write(
        repo,
        {
            "shop/new.py": "value = eval('1')\n",
            ".venv/lib/site.py": "exec('x')\n",
            "pkg/build/out.py": "exec('x')\n",
            "shop.egg-info/top.py": "exec('x')\n",
            "tools/build/make.py": "STEPS = eval('2')\n",
        },
    )

    report = run_gate(load(repo))

    assert sorted(f.path for f in report.files) == ["shop/new.py", "tools/build/make.py"]
    assert sorted((f.path, f.code) for f in report.findings) == [
        ("shop/new.py", "ARK001"),
        ("tools/build/make.py", "ARK001"),
    ]


def test_a_project_in_a_folder_of_the_repository_is_judged_by_its_own_paths(
    tmp_path: Path, load
) -> None:
    repo = make_repo(tmp_path / "mono", {"README.md": "many projects\n"})
    write(repo, {"app/pyproject.toml": '[project]\nname = "app"\n' + ONLY_ARK_CHECKS})
    write(repo, {"app/app.py": "def run():\n    return 1\n", "other/x.py": "exec('1')\n"})
    commit(repo, "two projects")
    write(repo, {"app/app.py": "def run():\n    return eval('1')\n", "other/x.py": "exec('2')\n"})

    report = run_gate(load(repo / "app"))

    assert [f.path for f in report.files] == ["app.py"]
    assert [(f.path, f.code) for f in report.findings] == [("app.py", "ARK001")]
    assert report.settings.checks == ("findings", "complexity")


def test_every_run_is_kept_as_rows_of_code_quality_reports(repo: Path, load) -> None:
    add_eval(repo)
    changed = commit(repo, "eval")
    project = load(repo)

    report = run_gate(project, "HEAD~1..HEAD")

    with sqlite3.connect(project.database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT * FROM code_quality_reports WHERE gate_run = ? ORDER BY id", (report.run_id,)
        ).fetchall()
    assert {(r["subject"], r["base_commit"], r["head_commit"]) for r in rows} == {
        ("HEAD~1..HEAD", report.base, changed)
    }
    assert all(r["change_id"] is None for r in rows)
    (run,) = [r for r in rows if r["scope"] == "run"]
    assert (run["status"], run["findings"]) == ("fail", 2)  # ARK001, and pylint's eval-used
    checks = {r["check_name"]: r for r in rows if r["scope"] == "check"}
    assert list(checks) == [
        "findings",
        "types",
        "lint",
        "coverage",
        "mutation",
        "complexity",
        "tests",
    ]
    assert (checks["findings"]["status"], checks["findings"]["findings"]) == ("failed", 1)
    assert checks["tests"]["status"] == "not run"
    assert "pytest collected no tests" in checks["tests"]["reason"]
    assert checks["findings"]["duration_ms"] > 0
    new = json.loads(checks["findings"]["details"])["new_findings"]
    assert [(f["code"], f["symbol"]) for f in new] == [("ARK001", "ask")]
    (file,) = [r for r in rows if r["scope"] == "file"]
    assert (file["path"], file["status"], file["findings"]) == ("shop/pricing.py", "modified", 1)
    (function,) = [r for r in rows if r["scope"] == "function"]
    assert (function["path"], function["qualname"]) == ("shop/pricing.py", "ask")
    assert (function["complexity_before"], function["complexity_after"]) == (None, 1)
    assert function["findings"] == 2  # ARK001 and pylint's eval-used

    with project.open_store() as store:
        (listed,) = store.quality.runs(subject="HEAD~1..HEAD")
        assert (listed.run.gate_run, listed.run.status) == (report.run_id, "fail")
        assert [c.check_name for c in listed.checks] == list(checks)
        kept = store.quality.latest_function("shop/pricing.py", "ask")
        assert kept is not None and kept.complexity_after == 1


def test_worktrees_are_gone_after_the_run_after_a_failing_check_and_a_cancel(
    repo: Path, load, user_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_eval(repo)
    project = load(repo)
    seen: list[GateInput] = []

    def broken(gate_input: GateInput, context: object) -> None:
        seen.append(gate_input)
        assert len(worktrees(repo)) == 3  # the user's, the base's and the head's
        raise RuntimeError("the check broke")

    monkeypatch.setattr(registry, "CHECKS", {**registry.CHECKS, "complexity": broken})

    report = run_gate(project)

    checks = by_name(report.checks)
    assert checks["complexity"].status is CheckStatus.NOT_RUN
    assert checks["complexity"].reason == "it failed: RuntimeError: the check broke"
    assert checks["findings"].status is CheckStatus.FAILED
    (gate_input,) = seen
    assert gate_input.base_dir.is_relative_to(user_cache / "gate")
    assert not gate_input.base_dir.exists() and not gate_input.head_dir.exists()

    with pytest.raises(GateCancelled):
        run_gate(project, cancel=lambda: True)
    # What is left is mypy's cache, kept for the next run's recheck.
    assert [p.name for p in (user_cache / "gate").iterdir()] == ["mypy"]


def test_what_a_killed_run_left_behind_is_removed_by_the_next(
    repo: Path, load, user_cache: Path
) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    left = user_cache / "gate" / "killed-run"
    git(repo, "worktree", "add", "--detach", "--quiet", str(left / "base"), "HEAD")
    (left / OWNER_FILE).write_text(json.dumps({"pid": int(dead.stdout), "repo": str(repo)}))
    assert len(worktrees(repo)) == 2

    run_gate(load(repo))

    assert not left.exists()


def test_what_cannot_be_judged_is_said_in_one_line(tmp_path: Path, repo: Path, load) -> None:
    with pytest.raises(GateUsageError, match=r"^no change set '3f2a9c' \(see `ark change list`\)$"):
        run_gate(load(repo), "3f2a9c")
    with pytest.raises(GateError, match=r"^unknown commit 'nothere'$"):
        run_gate(load(repo), "nothere..HEAD")
    with pytest.raises(GateError, match=r"^unknown commit '--output=x'$"):
        run_gate(load(repo), "--output=x..HEAD")
    plain = tmp_path / "plain"
    write(plain, {"pyproject.toml": "[project]\nname = 'plain'\n"})
    with pytest.raises(GateError, match=f"^{plain} is not in a git repository$"):
        run_gate(load(plain))
    empty = make_repo(tmp_path / "empty")
    write(empty, {"pyproject.toml": "[project]\nname = 'empty'\n"})
    with pytest.raises(GateError, match="has no commits yet"):
        run_gate(load(empty))


def test_the_repositorys_own_filters_and_signing_program_never_run(
    tmp_path: Path, repo: Path, load
) -> None:
    ran = tmp_path / "ran"
    write(repo, {".gitattributes": "*.py filter=evil\n"})
    commit(repo, "attributes")
    # What a repository that came with a .git/config of its own could ask for.
    for key, value in (
        ("filter.evil.smudge", f"touch {ran}-smudge; cat"),
        ("filter.evil.clean", f"touch {ran}-clean; cat"),
        ("filter.evil.required", "true"),
        ("commit.gpgSign", "true"),
        ("gpg.program", f"{tmp_path}/gpg"),
    ):
        git(repo, "config", key, value)
    (tmp_path / "gpg").write_text(f"#!/bin/sh\ntouch {ran}-gpg\nexit 1\n")
    (tmp_path / "gpg").chmod(0o755)
    add_eval(repo)

    report = run_gate(load(repo))

    assert [f.code for f in report.findings] == ["ARK001", "eval-used"]
    assert sorted(p.name for p in tmp_path.glob("ran-*")) == []


def test_a_change_that_holds_no_file_passes_without_running_anything(repo: Path, load) -> None:
    # Every check enabled, the suite included: with both sides the same files,
    # nothing can be new, and a pre-commit hook should not wait for the suite.
    report = run_gate(load(repo))

    assert report.passed
    assert report.summary() == "gate passed: nothing changed, nothing to judge"
    assert [(c.name, c.status, c.summary) for c in report.checks] == [
        (name, CheckStatus.PASSED, f"{name}: nothing changed") for name in ALL_CHECKS
    ]
    assert report.files == () and report.test_selection is None
