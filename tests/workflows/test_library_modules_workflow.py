"""Library files are analysed in the background, never on the request that asks first."""

from __future__ import annotations

import time
from pathlib import Path

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
