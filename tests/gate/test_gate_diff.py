"""What a change touched, read from a real repository's history."""

from __future__ import annotations

from pathlib import Path

import pytest

from ark_lsp.gate.diff import changed_files
from ark_lsp.gate.model import FileStatus
from ark_lsp.git import GitError, git


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    return root


def test_changed_lines_of_modified_added_renamed_deleted_and_binary_files(repo: Path) -> None:
    (repo / "kept.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    (repo / "gone.py").write_text("x = 1\n")
    (repo / "old_name.py").write_text("".join(f"line{n} = {n}\n" for n in range(20)))
    base = commit_all(repo, "base")

    (repo / "kept.py").write_text("a = 1\nb = 20\nc = 3\nnew = 5\nd = 4\n")
    (repo / "gone.py").unlink()
    (repo / "old_name.py").rename(repo / "new_name.py")
    text = (repo / "new_name.py").read_text().replace("line3 = 3", "line3 = 33")
    (repo / "new_name.py").write_text(text)
    (repo / "fresh.py").write_text("def f():\n    return 1\n")
    (repo / "blob.bin").write_bytes(bytes(range(256)))
    head = commit_all(repo, "head")

    files = {f.path: f for f in changed_files(repo, base, head)}

    assert files["kept.py"].status is FileStatus.MODIFIED
    assert files["kept.py"].lines == {2, 4}
    assert files["gone.py"].status is FileStatus.DELETED and not files["gone.py"].lines
    assert files["new_name.py"].status is FileStatus.RENAMED
    assert (files["new_name.py"].old_path, files["new_name.py"].lines) == ("old_name.py", {4})
    assert files["fresh.py"].status is FileStatus.ADDED and files["fresh.py"].lines == {1, 2}
    assert files["blob.bin"].binary and not files["blob.bin"].is_python


def test_the_repository_cannot_make_git_run_a_program_of_its_own(
    repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    (repo / "a.py").write_text("a = 1\n")
    base = commit_all(repo, "base")
    git(repo, "config", "diff.external", f"touch {marker}")
    (repo / ".gitattributes").write_text("*.py diff=evil\n")
    git(repo, "config", "diff.evil.textconv", f"touch {marker}; cat")
    (repo / "a.py").write_text("a = 2\n")
    head = commit_all(repo, "head")

    files = {f.path: f for f in changed_files(repo, base, head)}

    assert files["a.py"].lines == {1}
    assert not marker.exists()


def test_a_git_failure_is_one_line(repo: Path) -> None:
    with pytest.raises(GitError) as raised:
        changed_files(repo, "no-such-commit", "HEAD")
    assert "\n" not in str(raised.value) and str(raised.value)
