"""ARK's security rules agree with bandit's on the rules they share, but for a documented list.

Both tools run as a user runs them, over the same folder of example files
(`tests/bandit_examples/`, copied into a scratch project so no workspace
setting of this repository applies):

    bandit -f json -q -t B102,B307,B602,B604,B605 -r DIR
    ark check DIR --format json --exit-zero --database TMP/i.db

Their findings are mapped to `(file, line, ARK rule)` through the shared
rules below, and the symmetric difference of the two sets must be exactly
the table `DIFFERENCES`: every entry is a known disagreement with its
reason. A change of behaviour in either tool that is not yet documented
(a new finding, a lost one, a moved line) fails the test and prints the
source line, so the table is the place where a difference is decided.

The shared rules (severity is not compared: ARK's `shell=` warning for a
non-literal value counts as an ARK005 finding, as bandit's low-severity
B602 counts as one):

| bandit | what | ARK |
| --- | --- | --- |
| B102 | `exec` | ARK002 |
| B307 | `eval` | ARK001 |
| B602 | a `subprocess` call with `shell=True` | ARK005 |
| B604 | *any* call with `shell=True` (ARK only flags `subprocess.*`) | ARK005 |
| B605 | `os.system`, `os.popen` and the shell family (Python 2's too) | ARK004 |
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).with_name("bandit_examples")
ARK = Path(sys.executable).with_name("ark")

SHARED_RULES = {
    "B102": "ARK002",
    "B307": "ARK001",
    "B602": "ARK005",
    "B604": "ARK005",
    "B605": "ARK004",
}

BANDIT_ONLY, ARK_ONLY = "bandit only", "ARK only"
"""Which tool alone reports a finding."""


@dataclass(frozen=True)
class Difference:
    """One finding only one tool reports, on the one line of `file` whose text is `line`."""

    file: str
    line: str
    """The line's text, stripped: it names the line (and must occur once in the file)."""
    rule: str
    only: str
    reason: str
    ark_bug: bool = False
    """The difference is a defect of ARK's (none is left: a test says so)."""


D = Difference
# fmt: off
DIFFERENCES: tuple[Difference, ...] = (
    # -- ARK resolves names; bandit matches the text of the callee -------------
    D("shadowing.py", "eval(\"not the builtin: the module's own eval\")", "ARK001", BANDIT_ONLY,
      "a module-level `def eval` shadows the builtin; bandit matches the bare name"),
    D("shadowing.py", 'exec("a parameter, not the builtin")', "ARK002", BANDIT_ONLY,
      "a parameter named exec is not the builtin; bandit matches the bare name"),
    D("shadowing.py", "exec(code)  # an assignment shadows it", "ARK002", BANDIT_ONLY,
      "a local assignment `exec = print` shadows the builtin"),
    D("shadowing.py", "exec(codes)  # a loop target shadows it", "ARK002", BANDIT_ONLY,
      "a for-loop target named exec shadows the builtin"),
    D("shadowing.py", "return exec(code)  # an except-as name shadows it", "ARK002", BANDIT_ONLY,
      "an `except ... as exec` name shadows the builtin"),
    D("shadowing.py", "return [exec(code) for exec, code in codes]", "ARK002", BANDIT_ONLY,
      "a comprehension variable named exec shadows the builtin"),
    D("indirect.py", "builtins.eval(code)", "ARK001", ARK_ONLY,
      "bandit's B307 matches only the name `eval`, not the qualified `builtins.eval`"),
    D("indirect.py", "builtins.exec(code)", "ARK002", ARK_ONLY,
      "bandit's B102 matches only the name `exec`, not the qualified `builtins.exec`"),
    # -- B604: bandit flags shell=True on any callee, ARK only on subprocess.* --
    D("shadowing.py", 'run("ls", shell=True)  # a parameter named run', "ARK005", BANDIT_ONLY,
      "B604 flags any callee given shell=True; this `run` is a parameter, not subprocess.run"),
    D("shell_kwargs.py", "deploy(command, shell=True)", "ARK005", BANDIT_ONLY,
      "B604 flags any callee given shell=True; ARK005 is about subprocess.* only"),
    D("star_import.py", "run(command, shell=True)", "ARK005", BANDIT_ONLY,
      "B604 on a name from `from subprocess import *`; ARK cannot resolve wildcard-imported "
      "names (it reports the wildcard import itself, ARK022)"),
    # -- where the finding is placed, and which literals are literals ----------
    D("shell_kwargs.py", "subprocess.run(  # a call over several lines", "ARK005", ARK_ONLY,
      "ARK reports a multi-line call at its first line (where a suppression comment goes)"),
    D("shell_kwargs.py", "shell=True,", "ARK005", BANDIT_ONLY,
      "bandit reports B602 at the line of the shell= keyword, not of the call"),
    # -- the shell family --------------------------------------------------------
    D("os_family.py", 'os.spawnl(os.P_WAIT, "/bin/sh", "sh", "-c", command)', "ARK004", ARK_ONLY,
      "ARK004 covers os.spawn* of a shell program; bandit files os.spawn* under B606 "
      "(no shell), outside the shared rules"),
    D("os_family.py", 'os.execl("/bin/bash", "bash", "-c", command)', "ARK004", ARK_ONLY,
      "ARK004 covers os.exec* of a shell program; bandit files os.exec* under B606 "
      "(no shell), outside the shared rules"),
    D("shell_kwargs.py", "asyncio.create_subprocess_shell(command)", "ARK004", ARK_ONLY,
      "asyncio's shell variant always runs a shell; bandit has no check for it"),
    # -- each tool's own suppression comments ------------------------------------
    D("suppressions.py", "eval(code)  # nosec", "ARK001", ARK_ONLY,
      "bandit honours `# nosec`; ARK has its own comments (`# ark: ignore`, `# noqa`)"),
    D("suppressions.py", "eval(code)  # nosec B307", "ARK001", ARK_ONLY,
      "bandit honours `# nosec B307`; ARK does not read bandit's comments"),
    D("suppressions.py", "exec(code)  # ark: ignore[ARK002]", "ARK002", BANDIT_ONLY,
      "ARK honours `# ark: ignore[ARK002]`; bandit does not read ARK's comments"),
    D("suppressions.py", "os.system(code)  # ark: ignore", "ARK004", BANDIT_ONLY,
      "ARK honours a bare `# ark: ignore`; bandit does not read ARK's comments"),
)
# fmt: on

PLAIN_FILES = ("direct.py", "aliases.py", "unicode.py")
"""Ordinary code (plain calls, import aliases, non-ASCII text): no difference allowed."""

Finding = tuple[str, int, str]
"""(file name, line, ARK rule id)."""


@dataclass(frozen=True)
class Runs:
    bandit: frozenset[Finding]
    ark: frozenset[Finding]


def source_lines(file: str) -> list[str]:
    return (EXAMPLES / file).read_text(encoding="utf-8").splitlines()


def line_number(file: str, text: str) -> int:
    """The 1-based number of the one line of `file` whose stripped text is `text`."""
    numbers = [n for n, line in enumerate(source_lines(file), 1) if line.strip() == text]
    assert len(numbers) == 1, f"{file}: {len(numbers)} lines read {text!r}, expected one"
    return numbers[0]


def finding(difference: Difference) -> Finding:
    return (difference.file, line_number(difference.file, difference.line), difference.rule)


def describe(findings: Iterable[Finding], side: str) -> list[str]:
    return [
        f"{side}: {file}:{line} {rule}: {source_lines(file)[line - 1].strip()}"
        for file, line, rule in sorted(findings)
    ]


def run_bandit(folder: Path) -> frozenset[Finding]:
    command = [sys.executable, "-m", "bandit", "-f", "json", "-q"]
    command += ["-t", ",".join(SHARED_RULES), "-r", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode in (0, 1), result.stderr  # 1: findings
    report = json.loads(result.stdout)
    assert report["errors"] == []
    scanned = {Path(name).name for name in report["metrics"] if name != "_totals"}
    assert scanned == {p.name for p in EXAMPLES.glob("*.py")}
    return frozenset(
        (Path(r["filename"]).name, r["line_number"], SHARED_RULES[r["test_id"]])
        for r in report["results"]
    )


def run_ark(folder: Path, database: Path) -> frozenset[Finding]:
    command = [str(ARK), "check", str(folder), "--format", "json", "--exit-zero"]
    command += ["--database", str(database)]
    result = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(list(EXAMPLES.glob("*.py")))
    shared = set(SHARED_RULES.values())
    return frozenset(
        (Path(r["path"]).name, r["line"], r["rule"])
        for r in report["results"]
        if r["rule"] in shared
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    scratch = tmp_path_factory.mktemp("bandit-agreement")
    project = scratch / "project"
    folder = project / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "pyproject.toml").write_text('[project]\nname = "examples"\n')
    return Runs(bandit=run_bandit(folder), ark=run_ark(folder, scratch / "i.db"))


def test_the_documented_differences_name_distinct_lines() -> None:
    keys = [finding(d) for d in DIFFERENCES]
    assert len(set(keys)) == len(keys)
    assert {d.only for d in DIFFERENCES} <= {BANDIT_ONLY, ARK_ONLY}
    assert not {d.file for d in DIFFERENCES} & set(PLAIN_FILES)


def test_ark_and_bandit_differ_only_as_documented(runs: Runs) -> None:
    expected_bandit_only = {finding(d) for d in DIFFERENCES if d.only == BANDIT_ONLY}
    expected_ark_only = {finding(d) for d in DIFFERENCES if d.only == ARK_ONLY}
    bandit_only, ark_only = runs.bandit - runs.ark, runs.ark - runs.bandit
    problems = [
        *describe(bandit_only - expected_bandit_only, "new, bandit only"),
        *describe(ark_only - expected_ark_only, "new, ARK only"),
        *describe(expected_bandit_only - bandit_only, "documented as bandit only, no longer"),
        *describe(expected_ark_only - ark_only, "documented as ARK only, no longer"),
    ]
    assert problems == [], "undocumented differences:\n" + "\n".join(problems)


def test_agreement_figure(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    agreed, total = len(runs.bandit & runs.ark), len(runs.bandit | runs.ark)
    plain = {f for f in runs.bandit | runs.ark if f[0] in PLAIN_FILES}
    plain_agreed = {f for f in plain if f in runs.bandit and f in runs.ark}
    with capsys.disabled():
        print(
            f"\nbandit agreement: agree on {agreed} of {total} findings"
            f" ({len(runs.bandit - runs.ark)} bandit only, {len(runs.ark - runs.bandit)} ARK only);"
            f" on plain code {len(plain_agreed)} of {len(plain)}"
        )
    assert total - agreed == len(DIFFERENCES)
    assert agreed >= 30
    assert plain and plain_agreed == plain


def test_ark_flags_subprocess_getoutput(runs: Runs) -> None:
    for text in ("subprocess.getoutput(command)", "subprocess.getstatusoutput(command)"):
        line = line_number("shell_kwargs.py", text)
        flagged = {rule for file, at, rule in runs.ark if (file, at) == ("shell_kwargs.py", line)}
        assert flagged & {"ARK004", "ARK005"}, f"shell_kwargs.py:{line} {text}"


def test_no_ark_defect_is_left_in_the_table() -> None:
    bugs = {(d.file, d.line) for d in DIFFERENCES if d.ark_bug}
    assert bugs == set()
