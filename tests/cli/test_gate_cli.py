"""``ark gate`` as users and CI run it: text, JSON, SARIF, the history, and the exit codes."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import jsonschema
import pytest
from support.cli import ark
from support.git_repos import commit, make_repo, worktrees, write

SCHEMA = Path(__file__).with_name("data") / "sarif-2.1.0.schema.json"  # from @microsoft/jest-sarif

PRICING = '''\
"""Prices."""


def total(prices, discount=0.0):
    return sum(prices) - discount
'''

ONLY_ARK_CHECKS = '[tool.ark.gate]\nchecks = ["findings", "complexity"]\n'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of the commands: the user's cache is the test's own."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\n',
            "shop/__init__.py": "",
            "shop/pricing.py": PRICING,
        },
    )


def gate(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return ark("gate", *args, cwd=repo, env=env, check=False)


def add_eval(repo: Path) -> int:
    """Add a function calling eval(input()); return the line of the call."""
    text = PRICING + "\n\ndef ask():\n    return eval(input())\n"
    write(repo, {"shop/pricing.py": text})
    return text.splitlines().index("    return eval(input())") + 1


def test_a_change_adding_eval_fails_with_a_line_per_check_and_the_finding(
    repo: Path, env: dict[str, str]
) -> None:
    line = add_eval(repo)

    result = gate(repo, env)

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"findings +failed +1 new finding on changed lines \(\d+ ms\)", lines[0])
    assert re.fullmatch(r"types +passed +no new type errors \([\d.]+ m?s\)", lines[1]), lines
    # The project has no tests: what needs them cannot judge, and says why.
    assert re.fullmatch(r"tests +not run +pytest collected no tests.*", lines[6]), lines
    assert re.fullmatch(r"complexity +passed +1 touched function \(all new\), none .*", lines[5])
    assert f"shop/pricing.py:{line}:12: ARK001 eval() evaluates arbitrary code" in lines
    # pylint's eval-used is new too.
    assert any(
        text.startswith(f"shop/pricing.py:{line}:") and "eval-used" in text for text in lines
    ), lines
    assert lines[-1].startswith(
        "Gate failed: findings, lint failed; coverage, mutation, tests not run"
    )
    assert "(the working tree against " in lines[-1]
    assert worktrees(repo) == [str(repo)]


def test_a_clean_change_passes_with_exit_0(repo: Path, env: dict[str, str]) -> None:
    write(repo, {"pyproject.toml": '[project]\nname = "shop"\n\n' + ONLY_ARK_CHECKS})
    commit(repo, "the gate runs ARK's own checks")
    write(repo, {"shop/tax.py": "def tax(amount):\n    return amount * 0.2\n"})

    result = gate(repo, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"lint +not run +switched off", result.stdout.splitlines()[2])
    assert result.stdout.splitlines()[-1].startswith("Gate passed: 2 of 2 checks passed (")


def test_json_has_the_documented_shape(repo: Path, env: dict[str, str]) -> None:
    line = add_eval(repo)
    commit(repo, "eval")

    result = gate(repo, env, "HEAD~1..HEAD", "--format", "json")

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {
        "run_id", "verdict", "summary", "subject", "change_id", "base", "head", "working_tree",
        "started_at", "duration_ms", "checks", "findings", "files", "settings", "problems",
        "integrity", "test_selection",
    }  # fmt: skip
    assert (report["verdict"], report["subject"], report["working_tree"]) == (
        "fail",
        "HEAD~1..HEAD",
        False,
    )
    assert [c["name"] for c in report["checks"]] == [
        "findings", "types", "lint", "coverage", "mutation", "complexity", "tests",
    ]  # fmt: skip
    findings = report["checks"][0]
    assert set(findings) == {
        "name", "enabled", "status", "summary", "reason", "duration_ms", "measures", "files",
        "functions", "findings",
    }  # fmt: skip
    assert (findings["status"], findings["enabled"]) == ("failed", True)
    # pylint's eval-used on the same line is the lint check's.
    (finding,) = [f for f in report["findings"] if f["check"] == "findings"]
    assert finding == {
        "check": "findings",
        "path": "shop/pricing.py",
        "line": line,
        "column": 12,
        "end_line": line,
        "end_column": 25,
        "code": "ARK001",
        "severity": "error",
        "message": "eval() evaluates arbitrary code",
        "symbol": "ask",
        "fingerprint": finding["fingerprint"],
    }
    assert report["files"] == [
        {
            "path": "shop/pricing.py",
            "status": "modified",
            "old_path": None,
            "binary": False,
            "changed_lines": 4,
        }
    ]
    assert report["settings"]["complexity_slack"] == 0
    (complexity,) = [c for c in report["checks"] if c["name"] == "complexity"]
    assert complexity["functions"][0]["qualname"] == "ask"


def test_sarif_is_valid_2_1_0_with_the_findings_and_the_verdict(
    repo: Path, env: dict[str, str]
) -> None:
    line = add_eval(repo)

    result = gate(repo, env, "--format", "sarif")

    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (run,) = log["runs"]
    (found,) = [r for r in run["results"] if r["ruleId"] == "ARK001"]
    assert found["ruleId"] == "ARK001" and found["level"] == "error"
    region = found["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (line, 12)
    (invocation,) = run["invocations"]
    assert invocation["exitCode"] == 1
    assert invocation["executionSuccessful"] is False  # checks that did not run
    assert invocation["properties"]["verdict"] == "fail"
    statuses = {c["name"]: c["status"] for c in invocation["properties"]["checks"]}
    assert statuses["findings"] == "failed" and statuses["tests"] == "not run"
    notes = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any(note.startswith("tests: not run (pytest collected no tests") for note in notes)


def test_the_history_lists_the_runs_kept(repo: Path, env: dict[str, str]) -> None:
    add_eval(repo)
    commit(repo, "eval")
    gate(repo, env, "HEAD~1..HEAD")
    gate(repo, env)  # the working tree: clean since the commit, nothing to judge

    listed = gate(repo, env, "--history")
    assert listed.returncode == 0, listed.stderr
    newest, oldest = listed.stdout.splitlines()
    assert re.match(r"[0-9a-f]{12}  \S+Z  pass  the working tree  \(.*nothing to judge", newest)
    assert re.match(r"[0-9a-f]{12}  \S+Z  fail  HEAD~1\.\.HEAD  \(", oldest), oldest
    (only,) = json.loads(gate(repo, env, "--history", "HEAD~1..HEAD", "--format", "json").stdout)
    assert (only["verdict"], only["subject"]) == ("fail", "HEAD~1..HEAD")
    assert {c["name"]: c["status"] for c in only["checks"]}["findings"] == "failed"
    with sqlite3.connect(repo / ".ark" / "index.db") as db:
        runs = db.execute("SELECT count(*) FROM code_quality_reports WHERE scope = 'run'")
        assert runs.fetchone() == (2,)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["3f2a9c"], 2, "no change set '3f2a9c' (see `ark change list`)"),
        (["--format", "xml"], 2, "Invalid value for '--format'"),
        (["--history", "--format", "sarif"], 2, "--history lists runs as text or json"),
        (["nothere..HEAD"], 4, "unknown commit 'nothere'"),
        # The repository's first commit: bidict's user read "unknown" as a typo of theirs.
        (["HEAD~1..HEAD"], 4, "unknown commit 'HEAD~1': HEAD has no parent that far back"),
    ],
)
def test_what_cannot_be_judged_exits_with_its_code_and_one_line(
    repo: Path, env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = gate(repo, env, *args)
    assert result.returncode == code, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ark: error: {message}"), line


def test_outside_a_repository_and_with_a_database_it_cannot_use(
    tmp_path: Path, repo: Path, env: dict[str, str]
) -> None:
    plain = tmp_path / "plain"
    write(plain, {"pyproject.toml": '[project]\nname = "plain"\n'})
    result = gate(plain, env)
    assert result.returncode == 4
    assert result.stderr == f"ark: error: {plain} is not in a git repository\n"

    ark("index", cwd=repo, env=env)
    with sqlite3.connect(repo / ".ark" / "index.db") as db:
        db.execute("PRAGMA user_version = 99")
    result = gate(repo, env)
    assert result.returncode == 3, result.stderr
    assert "written by a newer ARK" in result.stderr


def test_a_change_set_is_judged_by_its_id_and_the_report_keeps_its_full_id(
    repo: Path, env: dict[str, str]
) -> None:
    line = add_eval(repo)
    proposed = ark(
        "change", "propose", "--from-worktree", "--reason", "Ask for a price",
        "--format", "json", cwd=repo, env=env,
    )  # fmt: skip
    change = json.loads(proposed.stdout)["change"]

    result = gate(repo, env, change["short_id"], "--format", "json")

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["subject"], report["change_id"]) == (change["short_id"], change["id"])
    assert (report["base"], report["working_tree"]) == (change["base"], False)
    assert [(f["code"], f["path"], f["line"]) for f in report["findings"]] == [
        ("ARK001", "shop/pricing.py", line),
        ("eval-used", "shop/pricing.py", line),
    ]
    # Judging the change left the user's uncommitted edit where it was.
    assert "eval(input())" in (repo / "shop" / "pricing.py").read_text()
    with sqlite3.connect(repo / ".ark" / "index.db") as db:
        kept = db.execute("SELECT DISTINCT change_id FROM code_quality_reports").fetchall()
    assert kept == [(change["id"],)]

    # Named by a prefix or by its branch, it is one subject, and its history is found so.
    by_branch = json.loads(gate(repo, env, change["branch"], "--format", "json").stdout)
    by_prefix = json.loads(gate(repo, env, change["id"][:6], "--format", "json").stdout)
    assert by_branch["subject"] == by_prefix["subject"] == change["short_id"]
    listed = json.loads(gate(repo, env, "--history", change["id"][:5], "--format", "json").stdout)
    assert [run["run_id"] for run in listed] == [
        by_prefix["run_id"], by_branch["run_id"], report["run_id"]
    ]  # fmt: skip


def test_a_change_that_lowers_its_own_bar_is_flagged_in_every_output(
    repo: Path, env: dict[str, str]
) -> None:
    write(
        repo,
        {
            "pyproject.toml": '[project]\nname = "shop"\n' + ONLY_ARK_CHECKS,
            "tests/test_pricing.py": (
                "from shop.pricing import total\n\n\n"
                "def test_total():\n    assert total([1, 2]) == 3\n\n\n"
                "def test_discount():\n    assert total([1, 2], 1) == 2\n"
            ),
        },
    )
    commit(repo, "tests and gate settings")
    write(
        repo,
        {
            "pyproject.toml": '[project]\nname = "shop"\n[tool.ark.gate]\nchecks = ["findings"]\n',
            "tests/test_pricing.py": (
                "from shop.pricing import total\n\n\ndef test_total():\n    assert total([1, 2])\n"
            ),
        },
    )

    text = gate(repo, env)
    report = json.loads(gate(repo, env, "--format", "json").stdout)

    flags = {(f["kind"], f["path"], f["symbol"]) for f in report["integrity"]}
    assert ("test deleted", "tests/test_pricing.py", "test_discount") in flags
    assert ("configuration edited", "pyproject.toml", "") in flags
    assert "tests/test_pricing.py::test_discount: integrity: test deleted: " in text.stdout
    sarif = json.loads(gate(repo, env, "--format", "sarif").stdout)
    kinds = {f["kind"] for f in sarif["runs"][0]["invocations"][0]["properties"]["integrity"]}
    assert {"test deleted", "configuration edited"} <= kinds
