"""``ark change propose`` from each source, and list, show, diff, drop: on real repositories."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from support.cli import ark
from support.git_repos import (
    ark_branches,
    commit_all,
    head,
    user_state,
    worktree_paths,
    write,
)

from ark_lsp.git import git

LITERAL = "def parse(text: str) -> object:\n    return ast.literal_eval(text)\n"


def edit_patch(repo: Path, relative: str, old: str, new: str) -> bytes:
    """A ``git diff`` of one edit, made in the working tree and put back."""
    path = repo / relative
    original = path.read_text()
    path.write_text(original.replace(old, new))
    patch = git(repo, "diff", "--no-ext-diff").encode()
    path.write_text(original)
    return patch


def full_index_line(repo: Path, base: str, patch: bytes) -> bytes:
    """The ``index`` line of a one-file patch with the blobs' full names, as changes store it."""
    old, new = patch.splitlines()[1].split()[1].split(b"..")
    named = [git(repo, "rev-parse", short.decode()).strip() for short in (old, new)]
    return b"index " + f"{named[0]}..{named[1]}".encode() + b" 100644"


def propose(repo: Path, *args: str, input: str | None = None) -> dict[str, object]:
    result = ark("change", "propose", *args, "--format", "json", cwd=repo, input=input)
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_a_patch_becomes_a_commit_on_its_own_branch_in_a_worktree_outside_the_checkout(
    repo: Path, cache: Path, tmp_path: Path
) -> None:
    patch = edit_patch(repo, "shop/pricing.py", "return eval(text)", "return float(text)")
    (tmp_path / "parse.patch").write_bytes(patch)
    before = user_state(repo)
    base = head(repo)

    payload = propose(
        repo, "--patch", str(tmp_path / "parse.patch"), "--reason", "Parse prices as floats\n\n"
        "eval() ran whatever the file held.", "--target", "shop.pricing.parse", "--by", "alice",
    )  # fmt: skip

    assert user_state(repo) == before
    change = payload["change"]
    assert isinstance(change, dict) and payload["created"] is True
    stored = ark("change", "diff", str(change["id"]), cwd=repo).stdout.encode()
    assert stored == patch.replace(patch.splitlines()[1], full_index_line(repo, base, patch))
    assert change["id"] == hashlib.sha256(base.encode() + b"\n" + stored).hexdigest()
    assert change["short_id"] == change["id"][:12]
    assert change["branch"] == f"ark/{change['short_id']}-parse-prices-as-floats"
    assert (change["base"], change["onto"], change["source"]) == (base, "main", "patch")
    assert (change["proposed_by"], change["targets"]) == ("alice", ["shop.pricing.parse"])
    assert change["source_detail"] == str(tmp_path / "parse.patch")
    assert change["files"] == [
        {"path": "shop/pricing.py", "status": "modified", "added": 1, "removed": 1}
    ]
    worktree = Path(str(change["worktree"]))
    assert worktree.is_relative_to(cache / "ark" / "changes")
    assert worktree_paths(repo) == [repo, worktree]
    assert ark_branches(repo) == [change["branch"]]
    assert "return float(text)" in (worktree / "shop" / "pricing.py").read_text()
    assert "return eval(text)" in (repo / "shop" / "pricing.py").read_text()

    branch = str(change["branch"])
    author, parent = git(repo, "log", "-1", "--format=%an <%ae>%n%P", branch).splitlines()
    assert (author, parent) == ("ARK <ark@localhost>", base)
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert message.startswith("Parse prices as floats\n\neval() ran whatever the file held.\n")
    assert f"Ark-Change: {change['id']}" in message and "Ark-Proposed-By: alice" in message
    assert git(worktree, "status", "--porcelain") == ""


def test_a_patch_on_stdin_and_the_same_edit_from_the_working_tree_are_one_change(
    repo: Path,
) -> None:
    patch = edit_patch(repo, "README.md", "A shop.", "A small shop.")
    first = propose(repo, "--patch", "-", "--reason", "Say what shop", input=patch.decode())
    assert first["created"] is True
    assert first["change"]["source_detail"] == "stdin"  # type: ignore[index]

    write(repo, {"README.md": "A small shop.\n"})
    again = propose(repo, "--from-worktree", "--reason", "Same edit, another way")
    assert again["created"] is False
    assert again["change"]["id"] == first["change"]["id"]  # type: ignore[index]
    assert again["change"]["reason"] == "Say what shop"  # type: ignore[index]
    listed = json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout)
    assert len(listed["changes"]) == 1


def test_from_worktree_takes_staged_unstaged_and_untracked_files_and_leaves_them(
    repo: Path,
) -> None:
    write(repo, {".gitignore": "*.log\n", "tools/build/make.py": "STEPS = 1\n"})
    commit_all(repo, "ignore logs")
    write(repo, {"README.md": "A shop, staged.\n"})
    git(repo, "add", "README.md")
    write(repo, {"shop/pricing.py": (repo / "shop" / "pricing.py").read_text() + "\nRATE = 2\n"})
    write(repo, {"shop/new.py": "NEW = 1\n", "debug.log": "ignored\n"})
    # An environment or build output nobody told git about is no part of a change; a
    # tracked file in a folder of such a name is.
    write(repo, {".venv/lib/site.py": "X = 1\n", "dist/out.py": "X = 1\n"})
    write(repo, {"tools/build/make.py": "STEPS = 2\n"})
    git(repo, "stash", "list")
    before = user_state(repo)

    change = propose(repo, "--from-worktree", "--reason", "Work in progress")["change"]

    assert user_state(repo) == before
    assert isinstance(change, dict)
    assert {f["path"]: f["status"] for f in change["files"]} == {
        "README.md": "modified",
        "shop/new.py": "added",
        "shop/pricing.py": "modified",
        "tools/build/make.py": "modified",
    }
    worktree = Path(change["worktree"])
    assert (worktree / "shop" / "new.py").read_text() == "NEW = 1\n"
    assert (worktree / "README.md").read_text() == "A shop, staged.\n"
    assert not (worktree / "debug.log").exists()
    assert git(repo, "diff", "--cached", "--name-only").split() == ["README.md"]


def test_a_range_of_commits_is_one_change_on_its_start(repo: Path) -> None:
    start = head(repo)
    git(repo, "switch", "-q", "-c", "feature")
    write(repo, {"shop/a.py": "A = 1\n"})
    commit_all(repo, "one")
    write(repo, {"shop/a.py": "A = 2\n", "README.md": "A shop with a.\n"})
    end = commit_all(repo, "two")
    git(repo, "switch", "-q", "main")

    change = propose(repo, "--range", "main..feature", "--reason", "Add a")["change"]

    assert isinstance(change, dict)
    assert (change["base"], change["onto"], change["source"]) == (start, "main", "range")
    assert change["source_detail"] == "main..feature"
    diff = ark("change", "diff", change["short_id"], cwd=repo).stdout
    expected = git(repo, "diff", "--no-ext-diff", "--full-index", "--no-renames", start, end)
    assert diff == expected
    assert git(repo, "rev-parse", f"{change['branch']}^{{tree}}") == git(
        repo, "rev-parse", f"{end}^{{tree}}"
    )


def test_list_show_diff_and_drop_by_any_unique_prefix(repo: Path) -> None:
    patch = edit_patch(repo, "README.md", "A shop.", "A shop of things.")
    proposed = ark("change", "propose", "--patch", "-", "--reason", "Describe it", cwd=repo,
                   input=patch.decode())  # fmt: skip
    change = json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout)["changes"][0]
    short, branch = change["short_id"], change["branch"]
    assert proposed.stdout.splitlines() == [
        f"Proposed change {short} on branch {branch} (1 file, +1 -1)",
        f"worktree: {change['worktree']}",
    ]

    listed = ark("change", "list", cwd=repo).stdout.splitlines()
    assert len(listed) == 1 and listed[0].startswith(short) and listed[0].endswith("Describe it")
    assert "patch" in listed[0] and "+1" in listed[0]

    shown = ark("change", "show", short[:4], cwd=repo).stdout
    assert f"change    {change['id']}\n" in shown and f"branch    {branch}\n" in shown
    assert "modified shop" not in shown and "modified README.md (+1 -1)" in shown
    as_json = json.loads(ark("change", "show", short[:6], "--format", "json", cwd=repo).stdout)
    assert as_json["patch"] == git(
        repo, "diff", "--no-ext-diff", "--full-index", change["base"], branch
    )
    assert "+A shop of things." in as_json["patch"]
    assert ark("change", "diff", branch, cwd=repo).stdout == as_json["patch"]
    diff_json = json.loads(ark("change", "diff", short, "--format", "json", cwd=repo).stdout)
    assert diff_json == {"id": change["id"], "base": change["base"], "patch": as_json["patch"]}

    dropped = ark("change", "drop", short[:5], cwd=repo)
    assert dropped.stdout == f"Dropped change {short} ({branch})\n"
    assert ark_branches(repo) == [] and worktree_paths(repo) == [repo]
    assert not Path(change["worktree"]).exists()
    assert json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout) == {"changes": []}
    assert ark("change", "list", cwd=repo).stderr == "ark: no change sets recorded\n"


def test_from_worktree_sees_an_edit_of_the_same_size_made_the_moment_after_a_commit(
    repo: Path,
) -> None:
    write(repo, {"shop/rate.py": "RATE = 1\n"})
    commit_all(repo, "rate")
    write(repo, {"shop/rate.py": "RATE = 2\n"})  # same size, same second: only content tells

    change = propose(repo, "--from-worktree", "--reason", "Double the rate")["change"]

    assert isinstance(change, dict)
    assert [f["path"] for f in change["files"]] == ["shop/rate.py"]
    assert (Path(change["worktree"]) / "shop" / "rate.py").read_text() == "RATE = 2\n"
