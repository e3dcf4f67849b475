"""jedi starts when a first question needs it, and infers in the server's process if it can."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from ark_lsp.workflows.jedi_definitions import (
    JediDefinitions,
    JediPlace,
    JediQuestion,
    workspace_interpreter,
)

SOURCE = """\
class Loader:
    def load(self, path):
        return path


def make():
    return [Loader()][0]


make().load("x")
"""


def children() -> set[int]:
    """The processes this one started and that still run."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def test_jedi_starts_on_the_first_question_and_infers_in_this_process(tmp_path: Path) -> None:
    (tmp_path / "loading.py").write_text(SOURCE)
    before = children()
    jedi = JediDefinitions(in_process=True)
    assert not jedi.started  # made, as the server makes it: nothing started yet
    question = JediQuestion(SOURCE, tmp_path / "loading.py", tmp_path, line=10, column=8)
    # The first question starts jedi and is not waited for: it is answered without jedi.
    assert jedi.definitions("load", question) is None
    assert jedi.started
    deadline = time.monotonic() + 60
    while (answer := jedi.definitions("load", question)) is None:
        assert time.monotonic() < deadline, "jedi never answered"
        time.sleep(0.05)
    assert answer == (JediPlace(tmp_path / "loading.py", 2, "load"),)
    assert children() == before  # no inference subprocess beside this one
    jedi.close()


def _answered(jedi: JediDefinitions, key: str, question: JediQuestion) -> object:
    deadline = time.monotonic() + 60
    while (answer := jedi.definitions(key, question)) is None:
        assert time.monotonic() < deadline, "jedi never answered"
        time.sleep(0.05)
    return answer


def test_a_caller_with_no_budget_left_is_not_kept_waiting_and_gets_the_answer_next_time(
    tmp_path: Path,
) -> None:
    # A hover whose index lookup used up its budget: jedi is asked, not waited for.
    (tmp_path / "loading.py").write_text(SOURCE)
    jedi = JediDefinitions(budget_s=60.0, in_process=True)  # a wait would be seen
    first = JediQuestion(SOURCE, tmp_path / "loading.py", tmp_path, line=10, column=1)
    _answered(jedi, "make", first)  # jedi started, warm and idle
    question = JediQuestion(SOURCE, tmp_path / "loading.py", tmp_path, line=10, column=8)

    asked = time.monotonic()
    assert jedi.definitions("load", question, budget_s=-0.001) is None
    assert time.monotonic() - asked < 30  # not the instance's minute

    assert _answered(jedi, "load", question) == (JediPlace(tmp_path / "loading.py", 2, "load"),)
    jedi.close()


def test_jedi_needs_its_subprocess_only_for_an_environment_of_the_workspaces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert workspace_interpreter() is None
    assert JediDefinitions().in_process
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)  # the server's own, activated
    assert workspace_interpreter() is None
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    assert workspace_interpreter() == tmp_path / "venv"
    assert not JediDefinitions().in_process


def test_jedi_waits_for_requests_to_pause_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "loading.py").write_text(SOURCE)
    jedi = JediDefinitions(in_process=True)
    question = JediQuestion(SOURCE, tmp_path / "loading.py", tmp_path, line=10, column=8)
    jedi.request_began()
    assert jedi.definitions("load", question) is None
    burst_ends = time.monotonic() + 1.0
    while time.monotonic() < burst_ends:  # a sweep of hovers, one every 10 ms
        jedi.request_began()
        assert jedi.definitions("load", question) is None
        time.sleep(0.01)
    deadline = time.monotonic() + 60
    while (answer := jedi.definitions("load", question)) is None:
        assert time.monotonic() < deadline, "jedi never answered once the requests paused"
        time.sleep(0.1)
    assert answer == (JediPlace(tmp_path / "loading.py", 2, "load"),)
    jedi.close()


def test_jedi_waits_for_typing_to_pause_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "loading.py").write_text(SOURCE)
    typing_pauses_at = time.monotonic() + 3.0  # the user types for another 3 s
    jedi = JediDefinitions(in_process=True, typing_pause=lambda: typing_pauses_at)
    question = JediQuestion(SOURCE, tmp_path / "loading.py", tmp_path, line=10, column=8)
    assert jedi.definitions("load", question) is None
    while time.monotonic() < typing_pauses_at - 0.1:
        time.sleep(0.05)
        assert jedi.definitions("load", question) is None, "jedi worked while the user typed"
    deadline = time.monotonic() + 60
    while (answer := jedi.definitions("load", question)) is None:
        assert time.monotonic() < deadline, "jedi never answered once typing paused"
        time.sleep(0.05)
    assert answer == (JediPlace(tmp_path / "loading.py", 2, "load"),)
    jedi.close()


IMPORTING = """\
import json
import os.path
import email.mime.text
import xml.dom.minidom

os.path.join("a", "b")
json.dumps({})
email.mime.text.MIMEText("x")
xml.dom.minidom.parseString("<a/>")
"""


def test_no_other_thread_imports_from_the_workspace_while_jedi_works(tmp_path: Path) -> None:
    # jedi swaps sys.path for its project's (the workspace first) to find modules: an import
    # in another thread meanwhile must not find the workspace's files.
    probe = "ark_probe_of_the_workspace"
    (tmp_path / f"{probe}.py").write_text("LOADED = True\n")
    (tmp_path / "importing.py").write_text(IMPORTING)
    jedi = JediDefinitions(in_process=True)
    found: list[str] = []
    stop = threading.Event()

    def import_meanwhile() -> None:
        while not stop.is_set():
            try:
                importlib.import_module(probe)
            except ModuleNotFoundError:
                continue
            found.append(probe)
            return

    thread = threading.Thread(target=import_meanwhile)
    thread.start()
    try:
        for line, column in [(6, 8), (7, 5), (8, 16), (9, 16)] * 3:
            question = JediQuestion(
                IMPORTING, tmp_path / "importing.py", tmp_path, line=line, column=column
            )
            deadline = time.monotonic() + 60
            while jedi.definitions((line, column), question) is None:
                assert time.monotonic() < deadline
                time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
        sys.modules.pop(probe, None)
        jedi.close()
    assert found == []
