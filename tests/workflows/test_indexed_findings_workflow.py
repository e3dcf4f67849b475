"""The index's findings of a text, only when they are what analysing that very text gives."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ark_lsp.analysis import analyze
from ark_lsp.project import Project
from ark_lsp.workflows.index import refresh_index
from ark_lsp.workflows.indexed_findings import indexed_findings

PRICING = "shop/pricing.py"


def found(project: Project, path: str, text: str) -> list[tuple[str, int, int, str]] | None:
    with project.open_store() as store:
        records = indexed_findings(store, project.settings, path, text)
    return None if records is None else [(r.rule, r.line, r.column, r.message) for r in records]


def test_the_text_the_index_analysed_gets_the_analysis_findings(
    project: Project, shop: Path
) -> None:
    refresh_index(project)
    text = (shop / PRICING).read_text()
    analysed = analyze(text, PRICING, project.settings).violations

    assert found(project, PRICING, text) == [
        (v.rule, v.span.line, v.span.column, v.message) for v in analysed
    ]
    assert found(project, "shop/checkout.py", (shop / "shop/checkout.py").read_text()) == []


def test_any_other_text_or_settings_get_none(project: Project, shop: Path) -> None:
    refresh_index(project)
    text = (shop / PRICING).read_text()

    assert found(project, PRICING, text + "\n") is None  # unsaved edits
    assert found(project, PRICING, text.replace("\n", "\r\n")) is None  # other line endings
    assert found(project, PRICING, "\ud800") is None  # no file has these bytes
    assert found(project, "shop/absent.py", text) is None  # not indexed
    other_rules = replace(project.settings, ignore=("ARK001",))
    with project.open_store() as store:
        assert indexed_findings(store, other_rules, PRICING, text) is None


def test_a_file_decoded_from_another_encoding_gets_none(project: Project, shop: Path) -> None:
    # UTF-8 bytes under a Latin-1 coding line: an editor reading them as UTF-8 has a text
    # with these very bytes, but the index decoded them as Latin-1 (other columns).
    latin = shop / "shop" / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nlabel = '\xc3\xa9'; value = eval(label)\n")
    refresh_index(project)
    with project.open_store() as store:
        analysed = store.index.analysed_file("shop/latin.py")
    assert analysed is not None and [v.rule for v in analysed.violations] == ["ARK001"]

    assert found(project, "shop/latin.py", latin.read_bytes().decode("utf-8")) is None
