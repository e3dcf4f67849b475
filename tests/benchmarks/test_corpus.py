"""``benchmarks/corpus.py`` run as a script prints the one folder ``scripts/demo`` changes into."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import corpus


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    # The real fetchers download sdists from PyPI; the script's contract is what it prints.
    folders = {name: tmp_path / name for name in corpus.SOURCES}
    for name, folder in folders.items():
        monkeypatch.setitem(corpus.SOURCES, name, lambda folder=folder: folder)
    return folders


def test_with_no_name_it_prints_django_s_folder_alone(
    fetched: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert corpus.main([]) == 0

    assert capsys.readouterr().out.splitlines() == [str(fetched["django"])]


def test_a_named_corpus_prints_its_folder(
    fetched: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert corpus.main(["attrs"]) == 0

    assert capsys.readouterr().out.splitlines() == [str(fetched["attrs"])]


def test_an_unknown_name_is_a_usage_error(
    fetched: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert corpus.main(["flask"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "usage: corpus.py [django|attrs]"


def test_a_failed_fetch_is_one_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable() -> Path:
        raise corpus.CorpusError("cannot download django-5.2.9.tar.gz: network unreachable")

    monkeypatch.setitem(corpus.SOURCES, "django", unreachable)

    assert corpus.main([]) == 1

    assert (
        capsys.readouterr().err
        == "corpus: cannot download django-5.2.9.tar.gz: network unreachable\n"
    )
