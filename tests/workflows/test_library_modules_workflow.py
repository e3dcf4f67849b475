"""Library files are analysed in the background, never on the request that asks first."""

from __future__ import annotations

import time
from pathlib import Path

from ark_lsp.workflows.background import Quiet
from ark_lsp.workflows.library_modules import LibraryModules


def test_a_file_jedi_named_is_analysed_in_the_background(tmp_path: Path) -> None:
    stub = tmp_path / "site" / "stubs" / "dates.pyi"
    stub.parent.mkdir(parents=True)
    stub.write_text("class date:\n    def isoformat(self) -> str: ...\n")
    library = LibraryModules([tmp_path / "site"], lambda path: path.read_bytes())
    assert library.file_report(stub) is None  # asked first: made meanwhile, not waited for
    deadline = time.monotonic() + 30
    while (report := library.file_report(stub)) is None:
        assert time.monotonic() < deadline, "the file was never analysed"
        time.sleep(0.02)
    assert [symbol.qualname for symbol in report.symbols] == ["date", "date.isoformat"]
    library.close()


def test_a_module_asked_for_ahead_is_analysed_once_requests_pause(tmp_path: Path) -> None:
    # Parsing holds the interpreter for all of its length: a document's imports asked for
    # as the first hover ended held back that hover's own answer (click: 42 ms, its own 7).
    module = tmp_path / "site" / "shapes.py"
    module.parent.mkdir(parents=True)
    module.write_text("def area(width, height):\n    return width * height\n")
    quiet = Quiet()
    library = LibraryModules([tmp_path / "site"], lambda path: path.read_bytes(), quiet)

    quiet.request_began()
    library.prepare(["shapes"], ahead=True)
    busy_until = time.monotonic() + 0.3
    while time.monotonic() < busy_until:  # a sweep of hovers, one every 10 ms
        quiet.request_began()
        assert library.report("shapes") is None
        time.sleep(0.01)
    deadline = time.monotonic() + 30
    while (made := library.report("shapes")) is None:
        assert time.monotonic() < deadline, "the module was never analysed"
        time.sleep(0.02)
    assert [symbol.qualname for symbol in made[1].symbols] == ["area"]
    library.close()
