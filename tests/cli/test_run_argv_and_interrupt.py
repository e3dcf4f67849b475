"""``ark run``: the argv a module sees, and Ctrl-C recording the run as cancelled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support.cli import ARK, ark

pytestmark = pytest.mark.slow

SHOW = """\
import sys

AT_IMPORT = list(sys.argv)


def echo(*args):
    return [AT_IMPORT, list(args)]


if __name__ == "__main__":
    print(sys.argv)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "argv"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "show.py").write_text(SHOW)
    (tmp_path / "pkg" / "spin_until_cancelled.py").write_text("while True:\n    pass\n")
    return tmp_path


def test_a_script_sees_its_file_and_the_arguments_after_the_double_dash(project: Path) -> None:
    run = ark("run", "pkg/show.py", "--backend", "local", "--", "a", "--flag", "b", cwd=project)
    assert run.stdout == "['pkg/show.py', 'a', '--flag', 'b']\n"


def test_a_called_function_gets_the_arguments_and_its_module_sees_only_its_file(
    project: Path,
) -> None:
    run = ark(
        "run", "pkg/show.py", "--function", "echo", "--backend", "local", "--", "a", "-x",
        cwd=project,
    )  # fmt: skip
    assert run.stdout == "[['pkg/show.py'], ['a', '-x']]\n"


def _sandboxed_spinner(ark_pid: int) -> int | None:
    """The pid of the sandboxed ``spin_until_cancelled.py``, once it runs (never ARK's own)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == ark_pid:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[-2:] == [b"pkg/spin_until_cancelled.py", b""] and b"run" not in argv:
            return int(entry.name)
    return None


def test_ctrl_c_during_ark_run_kills_the_run_and_records_it_as_cancelled(project: Path) -> None:
    process = subprocess.Popen(
        [str(ARK), "run", "pkg/spin_until_cancelled.py", "--backend", "local", "--timeout", "60"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ARK_DATABASE": ""},
    )
    try:
        deadline = time.monotonic() + 60
        while (spinner := _sandboxed_spinner(process.pid)) is None:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sandboxed run never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "ark: cancelled in" in stderr
    assert not Path(f"/proc/{spinner}").exists(), "the sandboxed run outlived the cancel"
    (record,) = json.loads(ark("history", "--format", "json", cwd=project).stdout)
    assert record["outcome"] == "cancelled"
    assert record["target_path"] == "pkg/spin_until_cancelled.py"


def test_the_copied_files_are_dated_so_code_can_zip_them(project: Path) -> None:
    (project / "zipper.py").write_text(
        "import io, zipfile\n"
        "zipfile.ZipFile(io.BytesIO(), 'w').write('zipper.py')\n"
        "print('zipped')\n"
    )
    assert ark("run", "zipper.py", "--backend", "local", cwd=project).stdout == "zipped\n"
