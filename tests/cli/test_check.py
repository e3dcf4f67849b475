"""`ark check`: the output formats and exit codes other tools rely on."""

from __future__ import annotations

import json
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
