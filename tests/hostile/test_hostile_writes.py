"""ARK writes generated code only inside the workspace, whatever its links say."""

from __future__ import annotations

from pathlib import Path

from support.cli import ark

MODULE = 'def double(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'


def victim(tmp_path: Path) -> tuple[Path, Path]:
    workspace = tmp_path / "repo"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    (workspace / "pkg" / "__init__.py").write_text("")
    (workspace / "pkg" / "maths.py").write_text(MODULE)
    outside = tmp_path / "home"
    outside.mkdir()
    return workspace, outside


def test_a_tests_folder_linked_out_of_the_workspace_gets_no_tests(tmp_path: Path) -> None:
    workspace, outside = victim(tmp_path)
    (workspace / "tests").symlink_to(outside, target_is_directory=True)

    result = ark("generate", "tests", "pkg/maths.py", "--no-run", cwd=workspace, check=False)

    assert result.returncode != 0
    assert "leads outside the workspace" in result.stderr
    assert list(outside.iterdir()) == []


def test_an_existing_test_file_linked_to_a_users_file_is_not_extended(tmp_path: Path) -> None:
    workspace, outside = victim(tmp_path)
    bashrc = outside / ".bashrc"
    bashrc.write_text("export PATH=$HOME/bin:$PATH\n")
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_maths.py").symlink_to(bashrc)

    result = ark("generate", "tests", "pkg/maths.py", "--no-run", cwd=workspace, check=False)

    assert bashrc.read_text() == "export PATH=$HOME/bin:$PATH\n"
    assert result.returncode != 0 or not (workspace / "tests" / "test_maths.py").is_symlink()


def test_a_stub_is_not_written_through_a_link_out_of_the_workspace(tmp_path: Path) -> None:
    workspace, outside = victim(tmp_path)
    profile = outside / ".profile"
    profile.write_text("# the user's own\n")
    (workspace / "pkg" / "helpers.py").symlink_to(profile)

    result = ark(
        "generate", "function", "helper", "--in", "pkg/helpers.py", cwd=workspace, check=False
    )

    assert result.returncode == 2 and "is not inside the workspace" in result.stderr
    assert profile.read_text() == "# the user's own\n"
