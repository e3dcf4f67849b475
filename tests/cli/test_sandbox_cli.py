"""``ark run``, ``ark test``, ``ark history`` and ``ark sandbox``, through the installed script."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import ark
from support.sandboxes import DockerSetup

pytestmark = pytest.mark.slow

PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\n',
    "shop/__init__.py": "",
    "shop/prices.py": textwrap.dedent(
        """\
        import sys


        def total(*prices):
            return sum(float(p) for p in prices)


        if __name__ == "__main__":
            print("total", total(*sys.argv[1:]))
        """
    ),
    "shop/forever.py": "while True:\n    pass\n",
    "tests/test_prices.py": textwrap.dedent(
        """\
        from shop.prices import total


        def test_sum():
            assert total(1, 2) == 3


        def test_wrong():
            result = total(1, 1)
            assert result == 3
        """
    ),
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    for relative, text in PROJECT.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_ark_run_runs_a_file_with_its_arguments_in_docker(
    shop: Path, docker_setup: DockerSetup
) -> None:
    run = ark("run", "shop/prices.py", "--backend", "docker", "--", "1.5", "2", cwd=shop)
    assert run.stdout == "total 3.5\n"
    (summary,) = run.stderr.splitlines()
    assert summary.startswith("ark: passed in ") and f"(docker, {docker_setup.image})" in summary

    called = ark(
        "run", "shop/prices.py", "--function", "total", "--backend", "docker",
        "--format", "json", "--", "2", "5", cwd=shop,
    )  # fmt: skip
    result = json.loads(called.stdout)
    assert (result["outcome"], result["stdout"], result["target"]) == (
        "passed",
        "7.0\n",
        "shop/prices.py",
    )
    assert result["backend"] == "docker" and result["execution_id"] == 2


def test_ark_test_reports_every_test_with_its_line(shop: Path, docker_setup: DockerSetup) -> None:
    text = ark("test", "--backend", "docker", cwd=shop, check=False)
    assert text.returncode == 1
    assert text.stdout.splitlines() == [
        "FAILED tests/test_prices.py:10 tests/test_prices.py::test_wrong: assert 2.0 == 3",
        "1 passed, 1 failed, 0 errors, 0 skipped",
    ]
    report = json.loads(
        ark(
            "test", "tests", "--backend", "docker", "--format", "json", cwd=shop, check=False
        ).stdout
    )
    assert report["summary"] == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "skipped": 0,
        "xfailed": 0,
        "xpassed": 0,
    }
    assert [(t["nodeid"], t["line"], t["outcome"], t["failure_line"]) for t in report["tests"]] == [
        ("tests/test_prices.py::test_sum", 4, "passed", None),
        ("tests/test_prices.py::test_wrong", 8, "failed", 10),
    ]


def test_a_local_run_is_killed_at_its_timeout_and_says_how_it_was_isolated(shop: Path) -> None:
    run = ark(
        "run", "shop/forever.py", "--backend", "local", "--timeout", "1", cwd=shop, check=False
    )
    assert run.returncode == 1
    assert "ark: note: local bubblewrap sandbox: runs as uid 65534" in run.stderr
    assert "ark: timeout in" in run.stderr
    assert "killed by timeout (raise it with --timeout or `timeout` in [tool.ark.sandbox])" in (
        run.stderr
    )


def test_a_suite_gets_the_suite_timeout_while_a_run_keeps_the_timeout(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.ark.sandbox]\ntimeout = 1\nsuite-timeout = 60\n'
    )
    nap = "import time\n\n\ndef test_a_slow_one():\n    time.sleep(3)\n"
    (shop / "tests" / "test_slow.py").write_text(nap)
    (shop / "shop" / "nap.py").write_text("import time\n\ntime.sleep(3)\n")
    ark("trust", cwd=shop)  # the sandbox table is the user's to grant

    suite = ark("test", "tests/test_slow.py", "--backend", "local", cwd=shop, check=False)
    run = ark("run", "shop/nap.py", "--backend", "local", cwd=shop, check=False)
    cut = ark("test", "tests/test_slow.py", "--backend", "local", "--timeout", "1", cwd=shop,
              check=False)  # fmt: skip

    assert suite.returncode == 0, suite.stderr
    assert "1 passed, 0 failed, 0 errors, 0 skipped" in suite.stdout
    assert run.returncode == 1
    assert "killed by timeout (raise it with --timeout or `timeout` in [tool.ark.sandbox])" in (
        run.stderr
    )
    assert cut.returncode == 1
    assert "ark: timeout in" in cut.stderr
    assert (
        "killed by timeout (raise it with --timeout or `suite-timeout` in [tool.ark.sandbox])"
        in cut.stderr
    )


def test_a_local_run_finds_the_commands_of_its_virtual_environment(shop: Path) -> None:
    # As an activated environment has them on PATH: attrs' mypy-plugin tests run `mypy`.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=shop, check=True)
    command = shop / ".venv" / "bin" / "greet"
    command.write_text("#!/bin/sh\necho hello from the venv\n")
    command.chmod(0o755)
    (shop / "shop" / "call.py").write_text(
        "import subprocess\n\nsubprocess.run(['greet'], check=True)\n"
    )
    ark("trust", cwd=shop)  # the workspace's .venv is used once trusted

    run = ark("run", "shop/call.py", "--backend", "local", cwd=shop, check=False)

    assert run.returncode == 0, run.stderr
    assert run.stdout == "hello from the venv\n"


def test_a_suite_gets_the_suite_memory_while_a_run_keeps_the_memory(shop: Path) -> None:
    # 300 MB, written to: more than a run of code gets (256 MiB), less than a suite (1 GiB).
    hungry = "def test_a_hungry_one():\n    assert len(b'x' * (300 * 1024 * 1024)) > 0\n"
    (shop / "tests" / "test_hungry.py").write_text(hungry)
    (shop / "shop" / "hungry.py").write_text("held = b'x' * (300 * 1024 * 1024)\n")

    suite = ark("test", "tests/test_hungry.py", "--backend", "local", cwd=shop, check=False)
    run = ark("run", "shop/hungry.py", "--backend", "local", cwd=shop, check=False)
    cut = ark("test", "tests/test_hungry.py", "--backend", "local", "--memory", "200m", cwd=shop,
              check=False)  # fmt: skip

    assert suite.returncode == 0, suite.stderr
    assert "1 passed, 0 failed, 0 errors, 0 skipped" in suite.stdout
    assert run.returncode == 1
    assert "killed by memory (raise it with --memory or `memory` in [tool.ark.sandbox])" in (
        run.stderr
    )
    assert cut.returncode == 1
    assert (
        "killed by memory (raise it with --memory or `suite-memory` in [tool.ark.sandbox])"
        in cut.stderr
    )


def test_history_names_the_setting_that_raises_the_limit_a_run_was_killed_at(
    shop: Path,
) -> None:
    nap = "import time\n\n\ndef test_a_slow_one():\n    time.sleep(3)\n"
    (shop / "tests" / "test_slow.py").write_text(nap)
    ark("run", "shop/forever.py", "--backend", "local", "--timeout", "1", cwd=shop, check=False)
    ark("test", "tests/test_slow.py", "--backend", "local", "--timeout", "1", cwd=shop,
        check=False)  # fmt: skip
    ark("run", "shop/prices.py", "--backend", "local", cwd=shop)

    lines = ark("history", cwd=shop).stdout.splitlines()

    # The setting, not ark run's option: a run in the history may have been the editor's.
    passed, suite, run = lines
    assert "killed by" not in passed
    assert "killed by timeout (raise `suite-timeout` in [tool.ark.sandbox])" in suite
    assert "killed by timeout (raise `timeout` in [tool.ark.sandbox])" in run
    assert run.endswith("shop/forever.py  (killed at its timeout limit)")


def test_ark_test_runs_pytest_from_arks_environment_on_the_local_backend(shop: Path) -> None:
    report = json.loads(
        ark("test", "--backend", "local", "--format", "json", cwd=shop, check=False).stdout
    )
    assert report["summary"] == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "skipped": 0,
        "xfailed": 0,
        "xpassed": 0,
    }
    assert report["backend"] == "local" and "bubblewrap" in report["isolation"]


def test_ark_test_counts_xfailed_and_xpassed_as_pytest_does(shop: Path) -> None:
    (shop / "tests" / "test_marked.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.xfail(reason='known bug')\ndef test_known():\n    assert 0\n\n\n"
        "@pytest.mark.xfail\ndef test_other():\n    assert 0\n\n\n"
        "@pytest.mark.xfail\ndef test_fixed():\n    pass\n\n\n"
        "def test_plain():\n    pass\n"
    )
    marked = "tests/test_marked.py"

    text = ark("test", marked, "--backend", "local", cwd=shop, check=False)
    report = json.loads(
        ark("test", marked, "--backend", "local", "--format", "json", cwd=shop, check=False).stdout
    )

    # pytest: "1 passed, 2 xfailed, 1 xpassed"; ARK said "2 passed, ..., 2 skipped".
    assert "1 passed, 0 failed, 0 errors, 0 skipped, 2 xfailed, 1 xpassed" in text.stdout
    assert report["summary"] == {
        "passed": 1, "failed": 0, "error": 0, "skipped": 0, "xfailed": 2, "xpassed": 1
    }  # fmt: skip
    outcomes = {t["name"]: t["outcome"] for t in report["tests"]}
    assert outcomes["test_known"] == outcomes["test_other"] == "xfailed"


def test_history_lists_runs_newest_first_and_performance_is_aggregated(shop: Path) -> None:
    for timeout in ("1", "1"):
        ark(
            "run",
            "shop/forever.py",
            "--backend",
            "local",
            "--timeout",
            timeout,
            cwd=shop,
            check=False,
        )
    ark("run", "shop/prices.py", "--backend", "local", cwd=shop)
    rows = json.loads(ark("history", "--format", "json", cwd=shop).stdout)
    assert [(r["id"], r["target_path"], r["outcome"]) for r in rows] == [
        (3, "shop/prices.py", "passed"),
        (2, "shop/forever.py", "timeout"),
        (1, "shop/forever.py", "timeout"),
    ]
    assert rows[1]["killed_by"] == "timeout" and rows[1]["backend"] == "local"
    text = ark("history", "--limit", "1", cwd=shop).stdout
    assert text.startswith("#3 ") and "passed" in text and "shop/prices.py" in text
    with sqlite3.connect(shop / ".ark" / "index.db") as db:
        runs, timeouts, last = db.execute(
            "SELECT runs, timeouts, last_outcome FROM code_performance WHERE target_path = ?",
            ("shop/forever.py",),
        ).fetchone()
    assert (runs, timeouts, last) == (2, 2, "timeout")


def test_no_engine_at_docker_host_is_exit_4_recorded_or_a_local_fallback(shop: Path) -> None:
    dead = f"unix://{shop / 'no-engine.sock'}"
    env = {**os.environ, "DOCKER_HOST": dead}
    forced = ark("run", "shop/prices.py", "--backend", "docker", cwd=shop, check=False, env=env)
    assert forced.returncode == 4
    assert f"ark: error: no Docker engine answers at {dead}" in forced.stderr
    (row,) = json.loads(ark("history", "--format", "json", cwd=shop).stdout)
    assert (row["outcome"], row["backend"]) == ("error", "docker")
    assert dead in row["detail"]

    fallback = ark("run", "shop/prices.py", "--backend", "auto", "--", "1", cwd=shop, env=env)
    assert fallback.stdout == "total 1.0\n"
    assert "local bubblewrap sandbox" in fallback.stderr

    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=shop, env=env).stdout)
    assert (status["docker_host"], status["docker_host_from"]) == (dead, "DOCKER_HOST")
    assert status["backend"] == "local" and dead in status["backend_reason"]

    # The text form is for reading: no Python reprs where nothing is known or for flags.
    shown = ark("sandbox", "status", cwd=shop, env=env).stdout.splitlines()
    assert "image: None" not in shown and "workspace trusted: yes" in shown
    assert "local backend: runs code under bubblewrap" in shown
    assert not [line for line in shown if line.endswith((": None", ": True", ": False", ": []"))]


def test_sandbox_status_names_the_engine_image_pool_and_backend(
    shop: Path, docker_setup: DockerSetup
) -> None:
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=shop).stdout)
    assert status["engine"].startswith("Docker ")
    assert (status["image"], status["image_present"]) == (docker_setup.image, True)
    assert (status["backend"], status["pool_size"]) == ("docker", 2)
    assert docker_setup.image in status["backend_reason"]


def test_sandbox_options_are_checked(shop: Path) -> None:
    bad = ark("run", "shop/prices.py", "--memory", "lots", cwd=shop, check=False)
    assert bad.returncode == 2 and "expected a size" in bad.stderr


@pytest.fixture
def readable_shop() -> Iterator[Path]:
    """The shop in a folder the sandbox's uid 1000 may enter (pytest's tmp_path is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="ark-mount-", dir="/var/tmp"))
    folder.chmod(0o755)
    for relative, text in PROJECT.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    yield folder
    shutil.rmtree(folder)


def test_mount_workspace_binds_it_read_only_instead_of_copying(
    readable_shop: Path, docker_setup: DockerSetup
) -> None:
    shop = readable_shop
    (shop / "pyproject.toml").write_text(
        PROJECT["pyproject.toml"] + "\n[tool.ark.sandbox]\nmount-workspace = true\n"
    )
    ark("trust", cwd=shop)
    (shop / "shop" / "writer.py").write_text(
        "import os\nprint(os.getcwd(), sorted(os.listdir('shop'))[:2])\nopen('new.txt', 'w')\n"
    )
    run = ark("run", "shop/writer.py", "--backend", "docker", cwd=shop, check=False)
    assert run.returncode == 1
    assert run.stdout == "/workspace ['__init__.py', 'forever.py']\n"
    assert "Read-only file system: 'new.txt'" in run.stderr
    assert not (shop / "new.txt").exists()
    report = json.loads(
        ark("test", "--backend", "docker", "--format", "json", cwd=shop, check=False).stdout
    )
    assert report["summary"] == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "skipped": 0,
        "xfailed": 0,
        "xpassed": 0,
    }


def test_history_says_why_each_run_that_did_not_pass_failed(shop: Path) -> None:
    (shop / "shop" / "needs.py").write_text("import urllib3_is_not_here\n")
    ark("run", "shop/needs.py", "--backend", "local", cwd=shop, check=False)
    ark("run", "shop/forever.py", "--backend", "local", "--timeout", "1", cwd=shop, check=False)
    dead = {**os.environ, "DOCKER_HOST": f"unix://{shop / 'no-engine.sock'}"}
    ark("run", "shop/prices.py", "--backend", "docker", cwd=shop, check=False, env=dead)
    ark("run", "shop/prices.py", "--backend", "local", cwd=shop)

    rows = json.loads(ark("history", "--format", "json", cwd=shop).stdout)
    assert [(r["target_path"], r["outcome"], r["reason"]) for r in rows] == [
        ("shop/prices.py", "passed", None),
        ("shop/prices.py", "error", rows[1]["reason"]),
        ("shop/forever.py", "timeout", "killed at its timeout limit"),
        (
            "shop/needs.py",
            "failed",
            "exit 1: ModuleNotFoundError: No module named 'urllib3_is_not_here'",
        ),
    ]
    assert rows[1]["reason"].startswith(f"no Docker engine answers at {dead['DOCKER_HOST']} (")
    lines = ark("history", cwd=shop).stdout.splitlines()
    assert lines[3].endswith(
        "shop/needs.py  (exit 1: ModuleNotFoundError: No module named 'urllib3_is_not_here')"
    )
    assert lines[0].endswith("shop/prices.py")
