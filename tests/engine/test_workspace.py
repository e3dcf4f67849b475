"""Discovery and incremental, parallel indexing of a workspace on disk."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from ark_lsp import workspace
from ark_lsp.analysis import analyze
from ark_lsp.config import Settings
from ark_lsp.config.patterns import compile_patterns
from ark_lsp.models import Tier
from ark_lsp.store import Store
from ark_lsp.workspace import discover, find_root, index_workspace


def write(root: Path, relative: str, text: str = "def f():\n    return 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path, "pyproject.toml", "[tool.ark]\nexclude = ['generated_*.py']\n")
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/core.py")
    write(tmp_path, "pkg/generated_stub.py")
    write(tmp_path, "pkg/notes.txt", "not python")
    write(tmp_path, "tests/test_core.py")
    write(tmp_path, ".gitignore", "secret/\n*.tmp.py\n")
    write(tmp_path, "secret/keys.py")
    write(tmp_path, "pkg/scratch.tmp.py")
    write(tmp_path, "vendor/.gitignore", "old.py\n")
    write(tmp_path, "vendor/old.py")
    write(tmp_path, "vendor/new.py")
    for excluded in (
        ".venv/lib/x.py",
        "node_modules/a/b.py",
        "build/lib/c.py",
        "dist/d.py",
        "pkg/__pycache__/e.py",
        ".ark/f.py",
        ".git/hooks/g.py",
        "venv/h.py",
        "src/ark.egg-info/i.py",
        "pkg/deep/__pycache__/j.py",
    ):
        write(tmp_path, excluded)
    return tmp_path


def settings_of(root: Path) -> Settings:
    from ark_lsp.config import load_settings

    return load_settings(root).settings


def test_discovery_honours_gitignore_defaults_and_configured_excludes(tree: Path) -> None:
    assert sorted(discover(tree, settings_of(tree))) == [
        "pkg/__init__.py",
        "pkg/core.py",
        "tests/test_core.py",
        "vendor/new.py",
    ]


def test_gitignore_can_be_switched_off(tree: Path) -> None:
    settings = Settings(respect_gitignore=False)
    found = set(discover(tree, settings))
    assert {"secret/keys.py", "vendor/old.py", "pkg/scratch.tmp.py"} <= found
    assert ".venv/lib/x.py" not in found


def test_a_file_named_explicitly_is_indexed_even_if_excluded(tree: Path) -> None:
    assert list(discover(tree, settings_of(tree), [tree / "secret" / "keys.py"])) == [
        "secret/keys.py"
    ]


def test_discovery_of_a_subfolder_applies_the_gitignore_above_it(tree: Path) -> None:
    assert list(discover(tree, settings_of(tree), [tree / "vendor"])) == ["vendor/new.py"]


def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    write(tmp_path, "a/mod.py")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    assert list(discover(tmp_path, Settings())) == ["a/mod.py"]


def test_root_is_the_nearest_folder_with_a_marker(tree: Path) -> None:
    assert find_root(tree / "pkg" / "core.py") == tree.resolve()
    assert find_root(tree / "vendor") == tree.resolve()


def run(root: Path, store: Store, **options: object):
    return index_workspace(root, settings_of(root), store, **options)  # type: ignore[arg-type]


def test_second_run_reads_nothing_and_changes_are_picked_up(tree: Path) -> None:
    with Store.open(tree / ".ark" / "index.db") as store:
        first = run(tree, store)
        assert (first.files_scanned, first.files_indexed, first.files_unchanged) == (4, 4, 0)
        assert first.lines == 2 * 3  # three two-line files and an empty one

        second = run(tree, store)
        assert (second.files_indexed, second.files_unchanged) == (0, 4)

        # Same bytes, new mtime: hashed, not parsed; the new mtime is remembered.
        core = tree / "pkg" / "core.py"
        os.utime(core, ns=(1, 1))
        third = run(tree, store)
        assert (third.files_indexed, third.files_unchanged) == (0, 4)
        assert store.index.file_states(settings_of(tree).analysis_key)["pkg/core.py"].mtime_ns == 1

        core.write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
        fourth = run(tree, store)
        assert fourth.files_indexed == 1
        assert [
            (r.qualname, r.complexity) for r in store.index.symbols(path_prefixes=["pkg/core.py"])
        ] == [("f", 2)]

        (tree / "vendor" / "new.py").unlink()
        fifth = run(tree, store)
        assert fifth.files_removed == 1
        assert store.index.symbols(path_prefixes=["vendor"]) == []


def test_indexing_a_subfolder_leaves_the_rest_of_the_index_alone(tree: Path) -> None:
    with Store.open(tree / ".ark" / "index.db") as store:
        run(tree, store)
        figures = run(tree, store, targets=[tree / "vendor"])
        assert (figures.files_scanned, figures.files_removed) == (1, 0)
        assert len(store.index.file_states()) == 4


def test_parallel_and_serial_runs_build_the_same_index(tmp_path: Path) -> None:
    for n in range(120):
        write(tmp_path, f"pkg/mod_{n}.py", f"def f_{n}(x):\n    return x if x else {n}\n")
    results = []
    for jobs in (1, 2):
        with Store.open(tmp_path / f"index-{jobs}.db") as store:
            figures = run(tmp_path, store, jobs=jobs)
            assert figures.files_indexed == 120
            results.append([(r.path, r.qualname, r.complexity) for r in store.index.symbols()])
    assert results[0] == results[1]
    assert len(results[0]) == 120


def test_a_file_that_vanishes_before_it_is_read_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "kept.py")
    outcome = workspace._analyse_file(str(tmp_path), "gone.py", Settings(), None)
    assert outcome.vanished


def test_a_file_that_vanishes_after_discovery_leaves_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "kept.py")
    doomed = write(tmp_path, "doomed.py")
    with Store.open(tmp_path / "index.db") as store:
        run(tmp_path, store)
        doomed.write_text("def g():\n    pass\n")
        real_analyse = workspace._analyse_file

        def delete_then_read(root: str, relative: str, settings: Settings, sha: str | None, *more):
            if relative == "doomed.py":
                doomed.unlink()
            return real_analyse(root, relative, settings, sha, *more)

        monkeypatch.setattr(workspace, "_analyse_file", delete_then_read)
        figures = run(tmp_path, store)
        assert figures.files_skipped == 1
        assert sorted(store.index.file_states()) == ["kept.py"]


def test_syntax_errors_are_counted_and_named(tmp_path: Path) -> None:
    write(tmp_path, "good.py")
    write(tmp_path, "bad.py", "def broken(:\n")
    with Store.open(tmp_path / "index.db") as store:
        figures = run(tmp_path, store)
    assert (figures.files_indexed, figures.files_errors) == (2, 1)
    assert figures.problems == ["bad.py:1: syntax error: invalid syntax"]


def test_oversized_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x = 1\n" * 1000)
    write(tmp_path, "small.py")
    with Store.open(tmp_path / "index.db") as store:
        figures = index_workspace(tmp_path, Settings(max_file_size=1000), store)
    assert (figures.files_indexed, figures.files_skipped) == (1, 1)


def test_a_file_changed_while_it_is_indexed_is_indexed_again_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moving = write(tmp_path, "moving.py", "def before():\n    pass\n")
    real_analyse = workspace._analyse_file

    def read_then_edit(root: str, relative: str, settings: Settings, sha: str | None, *more):
        outcome = real_analyse(root, relative, settings, sha, *more)
        moving.write_text("def after():\n    pass\n")
        os.utime(moving, ns=(10**18, 10**18))
        return outcome

    with Store.open(tmp_path / "index.db") as store:
        monkeypatch.setattr(workspace, "_analyse_file", read_then_edit)
        run(tmp_path, store)
        assert [r.qualname for r in store.index.symbols()] == ["before"]  # what was read
        monkeypatch.setattr(workspace, "_analyse_file", real_analyse)
        again = run(tmp_path, store)
        assert again.files_indexed == 1
        assert [r.qualname for r in store.index.symbols()] == ["after"]


def test_a_report_the_caller_has_of_the_same_bytes_is_taken_and_any_other_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "def typed():\n    return eval(source)\n"
    saved = write(tmp_path, "saved.py", text)
    other = write(tmp_path, "other.py", "def on_disk():\n    pass\n")
    settings = Settings()
    analysed = {
        # As an editor's open document was analysed: the same bytes as the file on disk...
        "saved.py": (
            hashlib.sha256(text.encode()).hexdigest(),
            analyze(text, "saved.py", settings),
        ),
        # ...and one edited since it was saved, whose report is not the file's.
        "other.py": (hashlib.sha256(b"stale").hexdigest(), analyze("def stale(): pass\n", "x.py")),
    }
    analysed_here = []
    real_analyze = workspace.analyze

    def analyze_counted(source: bytes, relative: str, settings: Settings):
        analysed_here.append(relative)
        return real_analyze(source, relative, settings)

    monkeypatch.setattr(workspace, "analyze", analyze_counted)
    with Store.open(tmp_path / "index.db") as store:
        figures = index_workspace(
            tmp_path, settings, store, targets=[saved, other], analysed=analysed
        )
        assert figures.files_indexed == 2
        assert analysed_here == ["other.py"]
        assert sorted(r.qualname for r in store.index.symbols()) == ["on_disk", "typed"]
        assert [(v.path, v.rule) for v in store.index.violations()] == [("saved.py", "ARK001")]


def test_a_change_of_rules_reanalyses_unchanged_files(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "def run(code):\n    return eval(code)\n")
    with Store.open(tmp_path / "index.db") as store:
        first = index_workspace(tmp_path, Settings(), store)
        assert first.files_indexed == 1
        assert index_workspace(tmp_path, Settings(), store).files_indexed == 0
        quieter = Settings(ignore=("ARK001",))
        assert index_workspace(tmp_path, quieter, store).files_indexed == 1
        assert store.index.counts().violations == 0


# --- patterns a repository writes ------------------------------------------------------------


def test_a_bad_pattern_is_left_out_once_and_the_others_apply(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # .gitignore files apply in a git work tree
    write(tmp_path, ".gitignore", "*.log\n\\\nvendor/\n")
    write(tmp_path, "sub/.gitignore", "[z-a]\nold.py\n")
    write(tmp_path, "app.py")
    write(tmp_path, "vendor/lib.py")
    write(tmp_path, "sub/old.py")
    write(tmp_path, "sub/new.py")
    settings = Settings(
        exclude=("!", "*.tmp.py"),
        tiers=(("[b-a]/", Tier.CORE),),
        per_file_ignores=(("x" * 5000, ("ARK001",)),),
    )
    warnings: list[str] = []
    found = list(discover(tmp_path, settings, [tmp_path, tmp_path / "sub"], warn=warnings.append))
    assert found == ["app.py", "sub/new.py", "sub/new.py"]
    assert warnings == [
        "exclude setting: pattern '!' left out (not a valid gitignore pattern)",
        "tiers setting: pattern '[b-a]/' left out "
        "(not a valid gitignore pattern: invalid character class range: b-a)",
        f"per-file-ignores setting: pattern {'x' * 77 + '...'!r} left out "
        "(longer than 4,096 characters)",
        ".gitignore:2: pattern '\\\\' left out (not a valid gitignore pattern)",
        "sub/.gitignore:1: pattern '[z-a]' left out "
        "(not a valid gitignore pattern: invalid character class range: z-a)",
    ]
    # The analysis leaves the same patterns out, silently: the walk told the user.
    assert settings.tier_for("b/x.py") is Tier.TRUSTED
    assert settings.ruleset_for("x.py") == settings.ruleset


def test_a_gitignore_that_is_a_link_or_too_large_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # .gitignore files apply in a git work tree
    write(tmp_path, "elsewhere", "*.py\n")
    os.symlink(tmp_path / "elsewhere", tmp_path / ".gitignore")
    write(tmp_path, "big/.gitignore", "# padding\n" * (workspace.MAX_IGNORE_FILE // 10 + 1))
    write(tmp_path, "app.py")
    write(tmp_path, "big/mod.py")
    warnings: list[str] = []
    assert list(discover(tmp_path, Settings(), warn=warnings.append)) == ["app.py", "big/mod.py"]
    assert warnings == ["big/.gitignore: larger than 1024 KiB, left out"]


def test_thousands_of_patterns_still_match_as_gitignore_does() -> None:
    # More patterns than one RE2 automaton holds: each is matched on its own, in order.
    lines = [f"generated_{n}_*.py" for n in range(8000)] + ["!generated_7999_keep.py"]
    spec = compile_patterns(lines)
    assert spec.match_file("pkg/generated_7999_x.py")
    assert not spec.match_file("pkg/generated_7999_keep.py")
    assert not spec.match_file("pkg/handwritten.py")


def test_settings_holding_compiled_patterns_reach_the_workers() -> None:
    settings = Settings(per_file_ignores=(("legacy/*.py", ("ARK001",)),))
    assert not analyze("eval(x)\n", "legacy/old.py", settings).violations  # compiled now
    arrived = pickle.loads(pickle.dumps(settings))  # as a worker process receives them
    assert not analyze("eval(x)\n", "legacy/old.py", arrived).violations
    assert analyze("eval(x)\n", "new.py", arrived).violations


def test_a_gitignore_applies_in_a_git_work_tree_only_and_says_so_elsewhere(
    tmp_path: Path,
) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "hidden.py", "eval(input())\n")
    write(tmp_path, ".gitignore", "hidden.py\n")
    warnings: list[str] = []
    # An unpacked archive: git would apply no .gitignore here, and nor does ARK.
    assert sorted(discover(tmp_path, Settings(), warn=warnings.append)) == ["app.py", "hidden.py"]
    assert warnings == [
        f".gitignore: not applied, {tmp_path} is not in a git work tree "
        "(leave files out with exclude in [tool.ark])"
    ]
    (tmp_path / ".git").mkdir()
    warnings.clear()
    assert list(discover(tmp_path, Settings(), warn=warnings.append)) == ["app.py"]
    assert warnings == []
    # A worktree or submodule has a .git file; a folder below the work tree's top is in it.
    (tmp_path / ".git").rmdir()
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    assert list(discover(tmp_path, Settings())) == ["app.py"]


def test_every_file_left_out_is_named_with_its_reason(tmp_path: Path) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "big.py", "x = 1\n" * 1000)
    os.symlink("/etc/hostname", tmp_path / "outside.py")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.py")
    os.mkfifo(tmp_path / "pipe.py")
    with Store.open(tmp_path / "index.db") as store:
        figures = index_workspace(tmp_path, Settings(max_file_size=1000), store)
        assert (figures.files_indexed, figures.files_skipped) == (1, 4)
        assert {(s.path, s.reason) for s in figures.skipped} == {
            ("big.py", "6,000 bytes, 5,000 over max-file-size: not read, not checked (ARK090)"),
            ("outside.py", "a link leading out of the workspace"),
            ("dangling.py", "a link to nothing"),
            ("pipe.py", "not a regular file (a FIFO)"),
        }
        # The large file is in the index as one finding, and read once it fits.
        assert [(v.path, v.rule) for v in store.index.violations()] == [("big.py", "ARK090")]
        again = index_workspace(tmp_path, Settings(max_file_size=1000), store)
        assert (again.files_indexed, again.files_skipped) == (0, 4)
        index_workspace(tmp_path, Settings(), store)
        assert store.index.violations() == []
        assert store.index.file_states(Settings().analysis_key)["big.py"].sha256  # read now
