"""`ark check`: the output formats and exit codes other tools rely on."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import jsonschema
import pytest
from support.cli import ark

SCHEMA = Path(__file__).with_name("data") / "sarif-2.1.0.schema.json"  # from @microsoft/jest-sarif

APP = textwrap.dedent(
    """\
    import subprocess as sp


    def run(cmd, flag):
        x = "ünï"; eval(cmd)
        sp.run(cmd, shell=True)
        sp.run(cmd, shell=flag)
        exec(cmd)  # ark: ignore[ARK002]
        global STATE
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "clean.py").write_text("def ok():\n    return 1\n")
    return tmp_path


def test_text_output_and_exit_code_1_on_errors(project: Path) -> None:
    result = ark("check", ".", cwd=project, check=False)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app.py:5:16: ARK001 [error] eval() evaluates arbitrary code",
        "app.py:6:5: ARK005 [error] subprocess call with shell=True runs its command in a shell",
        "app.py:7:5: ARK005 [warning] shell= is not a literal; "
        "subprocess call with shell=True runs its command in a shell when true",
        "app.py:9:5: ARK020 [warning] global statement rebinds module state",
        "Found 4 results (2 errors, 2 warnings, 0 info) in 1 of 2 files.",
    ]


def test_json_follows_the_contract(project: Path) -> None:
    result = ark("check", "app.py", "--format", "json", cwd=project, check=False)
    payload = json.loads(result.stdout)
    assert payload["results"][0] == {
        "path": "app.py",
        "line": 5,
        "column": 16,
        "end_line": 5,
        "end_column": 25,
        "rule": "ARK001",
        "severity": "error",
        "message": "eval() evaluates arbitrary code",
    }
    assert payload["summary"] == {
        "files": 1,
        "files_with_results": 1,
        "errors": 2,
        "warnings": 2,
        "infos": 0,
        "by_rule": {"ARK001": 1, "ARK005": 2, "ARK020": 1},
    }


def test_select_ignore_and_exit_zero(project: Path) -> None:
    warnings_only = ark("check", "--select", "ARK02", cwd=project, check=False)
    assert warnings_only.returncode == 0
    assert [line.split()[1] for line in warnings_only.stdout.splitlines()[:-1]] == ["ARK020"]
    quiet = ark("check", "--ignore", "ARK001,ARK005", cwd=project, check=False)
    assert quiet.returncode == 0
    assert ark("check", "--exit-zero", cwd=project, check=False).returncode == 0
    clean = ark("check", "clean.py", cwd=project, check=False)
    assert (clean.returncode, clean.stdout.strip()) == (0, "All checks passed (1 file).")


def test_sarif_is_valid_2_1_0_with_rules_and_regions(project: Path) -> None:
    result = ark("check", "--format", "sarif", cwd=project, check=False)
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (run,) = log["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert {"ARK001", "ARK005", "ARK010", "ARK020"} <= set(rules)
    assert rules["ARK001"]["help"]["text"].startswith("Parse literals with ast.literal_eval()")
    first = run["results"][0]
    assert first["ruleId"] == "ARK001"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "ARK001"
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app.py"},
        "region": {"startLine": 5, "startColumn": 16, "endLine": 5, "endColumn": 25},
    }


def test_a_syntax_error_is_reported_and_the_rest_still_checked(project: Path) -> None:
    (project / "broken.py").write_text("def broken(:\n    pass\n")
    result = ark("check", "--format", "json", cwd=project, check=False)
    results = json.loads(result.stdout)["results"]
    assert ("broken.py", 1, 12, "ARK000") in {
        (r["path"], r["line"], r["column"], r["rule"]) for r in results
    }
    assert {r["rule"] for r in results if r["path"] == "app.py"} == {"ARK001", "ARK005", "ARK020"}


def test_a_rule_disabled_in_the_database_stays_off(project: Path) -> None:
    ark("rules", "disable", "ARK001", cwd=project)
    result = ark("check", "--format", "json", cwd=project, check=False)
    assert "ARK001" not in {r["rule"] for r in json.loads(result.stdout)["results"]}


def test_pyproject_rules_apply(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.ark]\nignore = ["ARK020"]\n\n'
        '[[tool.ark.rules]]\nid = "CO001"\nkind = "call"\npattern = "pickle.loads"\n'
        'message = "pickle.loads() runs code from its input"\n'
    )
    (project / "store.py").write_text(
        "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n"
    )
    result = ark("check", "--format", "json", cwd=project, check=False)
    rules = {(r["path"], r["rule"]) for r in json.loads(result.stdout)["results"]}
    assert ("store.py", "CO001") in rules
    assert ("app.py", "ARK020") not in rules


def test_rules_commands_edit_the_pack_that_check_uses(project: Path) -> None:
    listed = json.loads(ark("rules", "list", "--format", "json", cwd=project).stdout)
    assert {r["id"] for r in listed} >= {"ARK001", "ARK005", "ARK010", "ARK022"}
    assert all(r["enabled"] for r in listed)

    shown = ark("rules", "show", "ark005", cwd=project).stdout
    assert "subprocess.*" in shown and "fix: Pass the command as an argument list" in shown
    # What narrows a rule is said: ARK006 only where the module's name is computed.
    narrowed = ark("rules", "show", "ARK006", cwd=project).stdout
    assert "call builtins.__import__ (only: non-literal-module): " in narrowed
    assert {r["id"]: r["condition"] for r in listed}["ARK006"] == "non-literal-module"

    assert ark("rules", "disable", "ARK001", cwd=project).stdout.strip() == "ARK001 disabled"
    text = ark("rules", "list", cwd=project).stdout
    assert any(line.startswith("ARK001  off") for line in text.splitlines())
    rules_found = {
        r["rule"]
        for r in json.loads(ark("check", "--format", "json", cwd=project, check=False).stdout)[
            "results"
        ]
    }
    assert "ARK001" not in rules_found and "ARK005" in rules_found
    ark("rules", "enable", "ARK001", cwd=project)

    added = ark(
        "rules",
        "add",
        "CO002",
        "--kind",
        "call",
        "--pattern",
        "yaml.load",
        "--message",
        "yaml.load() can build arbitrary objects",
        cwd=project,
    )
    assert added.stdout.strip() == "added CO002 (co002)"
    (project / "config.py").write_text("import yaml\n\n\ndef read(f):\n    return yaml.load(f)\n")
    results = json.loads(
        ark("check", "config.py", "--format", "json", cwd=project, check=False).stdout
    )["results"]
    assert [(r["rule"], r["line"], r["message"]) for r in results] == [
        ("CO002", 5, "yaml.load() can build arbitrary objects")
    ]

    missing = ark("rules", "disable", "ARK999", cwd=project, check=False)
    assert missing.returncode == 2 and "no rule ARK999" in missing.stderr


def test_an_unreadable_file_is_reported_and_fails_the_check(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root here, where no permission makes a file unreadable, so the
    # failure of the read itself is injected; the rest runs as it does for users.
    import builtins

    from click.testing import CliRunner

    from ark_lsp.cli import main

    real_open = builtins.open

    def failing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("clean.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", failing_open)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["check", "clean.py", "--jobs", "1"])
    assert result.exit_code == 1
    assert "ark: error: clean.py: cannot read (Permission denied)" in result.stderr


def test_a_file_too_large_to_read_is_a_finding_that_fails_the_check(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.ark]\nmax-file-size = 2000\n'
    )
    (project / "app.py").unlink()
    (project / "padded.py").write_text("eval(input())  # padding\n" * 200)  # 5,000 bytes
    result = ark("check", "--format", "json", cwd=project, check=False)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert [(r["path"], r["rule"], r["severity"], r["message"]) for r in payload["results"]] == [
        (
            "padded.py",
            "ARK090",
            "warning",
            "not checked: 5,000 bytes, 3,000 over max-file-size (2,000)",
        )
    ]
    assert payload["skipped"] == [
        {
            "path": "padded.py",
            "reason": "5,000 bytes, 3,000 over max-file-size: not read, not checked (ARK090)",
        }
    ]
    # Selecting other rules does not make it checked; ignoring the rule accepts it, said once.
    selected = ark("check", "--select", "ARK001", cwd=project, check=False)
    assert selected.returncode == 1 and "padded.py:1:1: ARK090" in selected.stdout
    accepted = ark("check", "--ignore", "ARK090", cwd=project, check=False)
    assert accepted.returncode == 0 and accepted.stdout.startswith("All checks passed")
    assert "ark: note: skipped padded.py: 5,000 bytes" in accepted.stderr
    # Within the limit again, the file is read and checked.
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    result = ark("check", "--format", "json", cwd=project, check=False)
    assert {r["rule"] for r in json.loads(result.stdout)["results"]} == {"ARK001"}


def test_sarif_names_each_skipped_file(project: Path) -> None:
    os.mkfifo(project / "pipe.py")
    result = ark("check", "--format", "sarif", cwd=project, check=False)
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (invocation,) = log["runs"][0]["invocations"]
    assert [
        (n["message"]["text"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for n in invocation["toolExecutionNotifications"]
    ] == [("skipped: not a regular file (a FIFO)", "pipe.py")]
    assert "ark: note: skipped pipe.py: not a regular file (a FIFO)" in result.stderr


def test_what_the_compiler_refuses_is_reported_with_the_file_s_other_findings(
    project: Path,
) -> None:
    (project / "script.py").write_text("import os\n\nos.system('ls')\nreturn 0\n")
    result = ark("check", "script.py", "--format", "json", cwd=project, check=False)
    assert result.returncode == 1
    assert [
        (r["line"], r["column"], r["rule"], r["message"])
        for r in json.loads(result.stdout)["results"]
    ] == [
        (3, 1, "ARK004", "os.system() runs its argument in a shell"),
        (4, 1, "ARK000", "syntax error: 'return' outside function"),
    ]


def test_an_unknown_rule_id_to_select_or_ignore_is_a_usage_error(project: Path) -> None:
    typo = ark("check", "--select", "ARK999", cwd=project, check=False)
    assert (typo.returncode, typo.stdout) == (2, "")
    assert typo.stderr == "ark: error: --select: no rule ARK999 (did you mean ARK090?)\n"
    lower = ark("check", "--ignore", "ARK020,ark001", cwd=project, check=False)
    assert lower.returncode == 2
    assert lower.stderr == "ark: error: --ignore: no rule ark001 (did you mean ARK001?)\n"
    # Prefixes and the workspace's own rules are known.
    ark(
        "rules", "add", "CO001", "--kind", "call", "--pattern", "x.y", "--message", "m", cwd=project
    )
    assert ark("check", "--select", "ARK0,CO", cwd=project, check=False).returncode == 1


def test_a_usage_error_is_one_line(project: Path) -> None:
    result = ark("check", "--format", "xml", cwd=project, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "ark: error: Invalid value for '--format': 'xml' is not one of 'text', 'json', 'sarif' "
        "(see ark check --help)\n"
    )
    for args in (["--bogus"], ["rules", "show"], ["check", "--select"]):
        result = ark(*args, cwd=project, check=False)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("ark: error: ")
