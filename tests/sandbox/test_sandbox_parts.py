"""The sandbox's pure parts: the agent's trailer, pytest's report, images, requests, records."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from ark_lsp.config import SandboxSettings, Settings, settings_from_mapping
from ark_lsp.sandbox import (
    KilledBy,
    Limits,
    Outcome,
    RunResult,
    SandboxRunner,
    how_to_raise,
    record_run,
    scratch,
)
from ark_lsp.sandbox.bubblewrap import work_folder
from ark_lsp.sandbox.channel import MARKER, OutputCollector
from ark_lsp.sandbox.image import candidates
from ark_lsp.sandbox.limit_settings import LIMIT_SETTINGS, editor_setting
from ark_lsp.sandbox.pytest_results import CaseOutcome, parse_junit
from ark_lsp.sandbox.requests import WorkspaceTooLarge, file_request, workspace_files
from ark_lsp.store import Store


def trailer(nonce: str, report: dict[str, object]) -> bytes:
    return b"\n" + MARKER + nonce.encode() + b" " + json.dumps(report).encode() + b"\n"


@pytest.mark.parametrize("split", range(0, 60, 3))
def test_the_trailer_is_found_wherever_the_stream_splits_it(split: int) -> None:
    stream = b"partial line without newline" + trailer("abc123", {"exit_code": 3})
    collector = OutputCollector("abc123")
    collector.feed_stdout(stream[:split])
    assert not collector.reported
    collector.feed_stdout(stream[split:])
    assert collector.reported and collector.report == {"exit_code": 3}
    assert collector.stdout.text() == "partial line without newline"


def stderr_end(nonce: str) -> bytes:
    return b"\n" + MARKER + nonce.encode() + b"\n"


@pytest.mark.parametrize("split", range(0, 30, 3))
def test_the_run_is_over_when_stderr_ends_too_which_may_come_after_the_trailer(
    split: int,
) -> None:
    # The engine carries the two streams apart: stderr's tail can follow stdout's trailer.
    collector = OutputCollector("abc123")
    collector.feed_stdout(trailer("abc123", {"exit_code": 1}))
    assert collector.reported and not collector.done
    tail = b"ConnectionRefusedError: [Errno 111]" + stderr_end("abc123")
    collector.feed_stderr(tail[:split])
    collector.feed_stderr(tail[split:])
    assert collector.done
    assert collector.stderr.text() == "ConnectionRefusedError: [Errno 111]"


def test_a_trailer_without_the_end_of_stderr_ends_the_run_after_a_short_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ark_lsp.sandbox.channel.STDERR_END_GRACE_SECONDS", 0.0)
    collector = OutputCollector("abc123")
    collector.feed_stdout(trailer("abc123", {"exit_code": 0}))
    assert collector.done


def test_a_forged_trailer_without_the_nonce_is_plain_output() -> None:
    collector = OutputCollector("secret")
    forged = trailer("guess", {"exit_code": 0})
    collector.feed_stdout(forged)
    assert not collector.done
    collector.finish()
    assert collector.stdout.kept == forged


def test_output_past_the_cap_is_counted_and_dropped() -> None:
    collector = OutputCollector("n", cap=10)
    collector.feed_stderr(b"0123456789abcdef")
    assert (collector.stderr.text(), collector.stderr.total) == ("0123456789", 16)
    assert collector.stderr.truncated(10)


JUNIT = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3">
<testcase classname="tests.test_calc" name="test_ok" file="tests/test_calc.py" line="3"
  time="0.001"/>
<testcase classname="tests.test_calc.TestSums" name="test_bad" file="tests/test_calc.py" line="10"
  time="0.002"><failure message="assert 2 == 3">def test_bad(self):
&gt;       assert add(1, 1) == 3
E       assert 2 == 3

tests/test_calc.py:12: AssertionError</failure></testcase>
<testcase classname="tests.test_calc" name="test_later" file="tests/test_calc.py" line="20"
  time="0">
<skipped type="pytest.skip" message="not yet">tests/test_calc.py:21: not yet</skipped></testcase>
</testsuite></testsuites>"""


def test_junit_cases_carry_node_ids_lines_and_the_failing_line() -> None:
    ok, bad, later = parse_junit(JUNIT)
    assert (ok.nodeid, ok.line, ok.outcome) == (
        "tests/test_calc.py::test_ok",
        4,
        CaseOutcome.PASSED,
    )
    assert bad.nodeid == "tests/test_calc.py::TestSums::test_bad"
    assert (bad.outcome, bad.line, bad.failure_line) == (CaseOutcome.FAILED, 11, 12)
    assert bad.message == "assert 2 == 3"
    assert (later.outcome, later.message) == (CaseOutcome.SKIPPED, "not yet")
    assert parse_junit(b"not xml") == []


def test_a_test_function_imported_into_a_test_module_is_named_by_the_module_collecting_it() -> None:
    # jinja2's tests.py defines test_boolean; a test module importing it has pytest collect
    # it there. Named by its own file, it was run alone on the base as
    # src/jinja2/tests.py::test_boolean, failed there (fixture 'value' not found), and the
    # gate took the change's new failure for one the base had.
    report = (
        b'<testsuites><testsuite><testcase classname="tests.test_tests" name="test_boolean"'
        b' file="src/jinja2/tests.py" line="3" time="0"><error message="fixture"/></testcase>'
        b'<testcase classname="tests.test_tests.TestIn" name="test_in" file="tests/test_tests.py"'
        b' line="9" time="0"/></testsuite></testsuites>'
    )
    files = {"src/jinja2/tests.py", "tests/test_tests.py"}

    imported, own = parse_junit(report, files)

    assert imported.nodeid == "tests/test_tests.py::test_boolean"
    assert imported.path == "src/jinja2/tests.py"
    assert own.nodeid == "tests/test_tests.py::TestIn::test_in"


SHORTENED = b"""<testsuites><testsuite>
<testcase classname="tests.test_x" name="test_long" file="tests/test_x.py" line="0" time="0">
<failure message="ValueError: first line&#10;[+1 more line; full report in element text]"
>def test_long():
&gt;       raise ValueError("first line\\n" + "x" * 60)
E       ValueError: first line
E       xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx

tests/test_x.py:2: ValueError</failure></testcase>
<testcase classname="tests.test_x" name="test_cut" file="tests/test_x.py" line="3" time="0">
<failure message="AssertionError: a&#10;[+2 more lines; full report in element text]"
>tests/test_x.py:5: AssertionError</failure></testcase>
</testsuite></testsuites>"""


def test_a_message_pytest_shortened_is_whole_again_or_says_how_to_see_the_rest() -> None:
    # pytest 9.1 shortens a failure's message to 500 characters and ends it with
    # "[+1 more line; full report in element text]": a JUnit term no user of ARK sees.
    whole, cut = parse_junit(SHORTENED)

    assert whole.message == "ValueError: first line\n" + "x" * 60
    assert cut.message == (
        "AssertionError: a\n"
        "[+2 more lines: `ark test tests/test_x.py::test_cut` shows the full report]"
    )
    assert "element text" not in whole.message + cut.message


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">'
    + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    + b']><testsuites><testcase name="&l9;" file="a.py"/></testsuites>'
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<testsuites><testcase name="t" file="a.py"><failure message="&e;"/></testcase></testsuites>'
)
WIDE = (
    '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY e "boom">]>'
    '<testsuites><testcase name="&e;" file="a.py"/></testsuites>'
).encode("utf-16")


def test_a_junit_report_with_a_dtd_is_refused_and_expat_stops_entity_bombs_anyway() -> None:
    for report in (LAUGHS, EXTERNAL, WIDE):
        assert parse_junit(report) == []
    # Under the refusal, the standard parser holds on its own (no defusedxml needed):
    # expat >= 2.4 stops a billion laughs, and ElementTree never fetches external entities.
    with pytest.raises(ElementTree.ParseError, match="amplification"):
        ElementTree.fromstring(LAUGHS)
    with pytest.raises(ElementTree.ParseError, match="external entity"):
        ElementTree.fromstring(EXTERNAL)


def test_junit_fields_are_capped_and_paths_kept_only_inside_the_work_folder() -> None:
    cases = [
        f'<testcase classname="c" name="{name}" file="{path}" line="{line}" time="nan">'
        '<failure message="m&#x202e;txt.exe">x</failure></testcase>'
        for name, path, line in (
            ("t1", "/etc/shadow", "1"),
            ("t2", "../../etc/passwd", "2"),
            ("t3", "tests/ok.py", "9" * 40),
            ("x" * 5000, "tests/ok.py", "3"),
        )
    ]
    report = f"<testsuites>{''.join(cases)}</testsuites>".encode()
    shadow, passwd, huge_line, long_name = parse_junit(report)
    assert (shadow.path, shadow.nodeid, passwd.path) == ("", "c::t1", "")
    assert (huge_line.path, huge_line.line, huge_line.duration_s) == ("tests/ok.py", None, 0.0)
    assert len(long_name.name) == 1000 and long_name.message == "mtxt.exe"
    assert [case.path for case in parse_junit(report, files={"other.py"})] == [""] * 4


def test_the_default_image_is_arks_then_the_official_slim_one_of_this_python() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert candidates(None) == (f"ark-sandbox:python{version}", f"python:{version}-slim")
    assert candidates("registry.example/py:1") == ("registry.example/py:1",)


def test_limits_come_from_the_sandbox_settings() -> None:
    settings = settings_from_mapping(
        {"sandbox": {"timeout": 3, "memory": "128m", "pids": 20, "network": True}}
    ).settings
    assert Limits.from_settings(settings.sandbox) == Limits(
        timeout=3.0, memory=128 * 1024 * 1024, cpus=1.0, pids=20, network=True
    )


def test_a_runner_gives_runs_of_a_suite_the_suite_limits(tmp_path: Path) -> None:
    mib = 1024 * 1024
    settings = settings_from_mapping(
        {"sandbox": {"timeout": 3, "suite-timeout": 900, "memory": "128m", "suite-memory": "2g"}}
    ).settings
    runner = SandboxRunner(tmp_path, settings, pool_size=0)
    told = SandboxRunner(tmp_path, settings, pool_size=0, suite_timeout=5, suite_memory=300 * mib)
    default = SandboxRunner(tmp_path, settings_from_mapping({}).settings, pool_size=0)
    assert (runner.limits.timeout, runner.suite_limits.timeout) == (3.0, 900.0)
    assert (runner.limits.memory, runner.suite_limits.memory) == (128 * mib, 2048 * mib)
    assert (told.suite_limits.timeout, told.suite_limits.memory) == (5.0, 300 * mib)
    assert (default.limits.memory, default.suite_limits.memory) == (256 * mib, 1024 * mib)


def test_every_limit_is_raised_by_a_setting_of_the_sandbox_table() -> None:
    keys = {f.name.replace("_", "-") for f in dataclasses.fields(SandboxSettings)}
    for limit in LIMIT_SETTINGS.values():
        assert {limit.setting(suite=False), limit.setting(suite=True)} <= keys
    assert how_to_raise(KilledBy.TIMEOUT, suite=True) == (
        "raise `suite-timeout` in [tool.ark.sandbox]"
    )
    assert how_to_raise(KilledBy.TIMEOUT, suite=False, options=True) == (
        "raise it with --timeout or `timeout` in [tool.ark.sandbox]"
    )
    assert how_to_raise(KilledBy.MEMORY, suite=True, options=True) == (
        "raise it with --memory or `suite-memory` in [tool.ark.sandbox]"
    )
    assert how_to_raise(KilledBy.PIDS, suite=True, options=True) == (
        "raise `pids` in [tool.ark.sandbox]"
    )
    assert how_to_raise(KilledBy.NONE, suite=False) is None
    assert how_to_raise(KilledBy.TIMEOUT, suite=True, editor=True) == (
        "raise `ark.sandbox.suiteTimeout` in the editor's settings"
        " or `suite-timeout` in [tool.ark.sandbox]"
    )


def test_the_editor_setting_named_for_each_limit_is_one_vs_code_offers() -> None:
    manifest = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "package.json"
    offered = json.loads(manifest.read_text())["contributes"]["configuration"]["properties"]
    for limit in LIMIT_SETTINGS.values():
        for suite in (False, True):
            assert editor_setting(limit.setting(suite=suite)) in offered


def test_workspace_files_leave_out_what_indexing_excludes(tmp_path: Path) -> None:
    for relative in ("pkg/mod.py", "data/table.csv", ".git/HEAD", ".ark/index.db", "skip.log"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(relative)
    (tmp_path / ".gitignore").write_text("*.log\n")
    files = workspace_files(tmp_path, Settings())
    assert set(files) == {"pkg/mod.py", "data/table.csv", ".gitignore"}
    with pytest.raises(WorkspaceTooLarge, match=r"largest: data/table.csv \(0.0 MiB\)"):
        workspace_files(tmp_path, Settings(), max_bytes=10)


def test_a_recorded_run_updates_history_and_the_target_aggregates(tmp_path: Path) -> None:
    request = file_request("app/main.py", {}, Limits(timeout=2))
    outcomes = [
        RunResult(Outcome.PASSED, "docker", exit_code=0, duration_ms=100, peak_memory_bytes=10),
        RunResult(
            Outcome.TIMEOUT,
            "local",
            killed_by=KilledBy.PIDS,
            limits_hit=(KilledBy.PIDS, KilledBy.TIMEOUT),
            duration_ms=300,
            peak_memory_bytes=30,
        ),
        RunResult(Outcome.ERROR, "docker", error="no engine", duration_ms=0),
    ]
    with Store.open(tmp_path / "index.db") as store:
        ids = [record_run(store, request, result).execution_id for result in outcomes]
        history = store.runs.history(limit=10)
        performance = store.runs.performance("app/main.py")
    assert [row.id for row in history] == sorted(ids, reverse=True)  # type: ignore[type-var]
    newest = history[0]
    assert (newest.outcome, newest.detail, newest.command) == (
        "error",
        "no engine",
        ["python3", "app/main.py"],
    )
    assert history[1].limits_hit == ["pids", "timeout"]
    assert performance is not None
    assert {
        k: getattr(performance, k) for k in ("runs", "passed", "failed", "timeouts", "errors")
    } == {
        "runs": 3,
        "passed": 1,
        "failed": 0,
        "timeouts": 1,
        "errors": 1,
    }
    assert performance.max_peak_memory_bytes == 30
    assert performance.avg_duration_ms == pytest.approx(400 / 3)


def test_weak_isolation_is_off_unless_asked_for() -> None:
    assert Settings().sandbox.weak_isolation is False
    asked = settings_from_mapping({"sandbox": {"weak-isolation": True}}).settings
    assert asked.sandbox.weak_isolation is True


def test_only_scratch_folders_whose_owner_is_gone_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.Popen(["sleep", "30"])
    dead_tag = scratch.owner_tag(ended.pid)
    ended.kill()
    ended.wait()
    stale = tmp_path / f"{scratch.PREFIX}{dead_tag}-abc"
    (stale / "work" / "locked").mkdir(parents=True)
    (stale / "work" / "locked").chmod(0o500)  # the run took its own write permission away
    mine = scratch.make()
    older_ark = tmp_path / f"{scratch.PREFIX}k2j4h5"  # no owner in the name: not ours to judge
    older_ark.mkdir()
    planted = tmp_path / f"{scratch.PREFIX}{dead_tag}-link"
    planted.symlink_to(mine)

    assert scratch.stale_folders() == [stale]
    removed = scratch.sweep(force=True)
    assert str(stale) in removed and not stale.exists()
    assert mine.is_dir() and older_ark.is_dir() and planted.is_symlink()


@pytest.mark.parametrize(
    ("workspace", "lent", "shown_at"),
    [
        pytest.param("/home/ada/shop", [], "/home/ada/shop", id="its-own-path"),
        pytest.param("/tmp/clone", ["/tmp/clone/.venv"], "/tmp/clone", id="its-venv-inside"),
        pytest.param("/", [], "/work", id="the-root-would-cover-all"),
        pytest.param("/tmp", [], "/work", id="the-runs-own-tmp"),
        pytest.param("/usr/src/shop", [], "/work", id="inside-usr"),
        pytest.param("/opt/py/shop", ["/opt/py"], "/work", id="inside-a-lent-folder"),
        pytest.param("shop", [], "/work", id="not-absolute"),
        pytest.param("/home/ada/../shop", [], "/work", id="not-normal"),
        pytest.param(None, [], "/work", id="no-workspace"),
        pytest.param("/usr/src/shop", ["/work"], "/sandbox/work", id="work-lent"),
    ],
)
def test_a_local_run_sees_its_work_folder_at_the_workspaces_path_where_it_can(
    workspace: str | None, lent: list[str], shown_at: str
) -> None:
    assert work_folder(workspace, lent) == shown_at
