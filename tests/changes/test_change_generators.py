"""What ARK writes, proposed as a change set instead: ``--as-change`` on fixes and generation."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.cli import ark
from support.git_repos import commit_all, user_state, write

from ark_lsp.git import git

CONFIG = 'def load(text: str) -> object:\n    return eval("[1, 2, 3]")\n'

PRICING = '''\
def discount(price: float, percent: int) -> float:
    """The price less ``percent`` per cent.

    >>> discount(200.0, 25)
    150.0
    """
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    return price * (100 - percent) / 100
'''


def change_of(repo: Path, short_id: str) -> dict[str, object]:
    shown = ark("change", "show", short_id, "--format", "json", cwd=repo).stdout
    payload: dict[str, object] = json.loads(shown)
    return payload


def test_check_fix_as_change_proposes_the_fixes_and_writes_nothing(repo: Path) -> None:
    write(repo, {"shop/config.py": CONFIG})
    commit_all(repo, "config")
    before = user_state(repo)

    result = ark("check", "--fix", "--as-change", "--format", "json", cwd=repo, check=False)

    assert result.returncode == 1  # the working tree still has its findings
    assert user_state(repo) == before
    rules = {(r["path"], r["rule"]) for r in json.loads(result.stdout)["results"]}
    assert ("shop/config.py", "ARK001") in rules
    proposed = [line for line in result.stderr.splitlines() if line.startswith("Proposed change")]
    assert len(proposed) == 1, result.stderr
    change = change_of(repo, proposed[0].split()[2])
    assert change["source"] == "fix" and change["source_detail"] == "shop/config.py"
    assert str(change["proposed_by"]).startswith("ark check --fix (")
    assert change["reason"] == "Apply ARK's safe fixes (1 in 1 file: shop/config.py)"
    patch = str(change["patch"])
    assert '+    return ast.literal_eval("[1, 2, 3]")' in patch and "+import ast" in patch
    worktree = Path(str(change["worktree"]))
    assert "ast.literal_eval" in (worktree / "shop" / "config.py").read_text()


def test_check_fix_as_change_on_a_dirty_file_is_refused(repo: Path) -> None:
    write(repo, {"shop/config.py": CONFIG})
    result = ark("check", "--fix", "--as-change", cwd=repo, check=False)
    assert result.returncode == 5
    assert result.stderr.splitlines()[-1] == (
        "ark: error: the change touches files with uncommitted changes (shop/config.py): "
        "commit or stash them, or propose them too with --from-worktree"
    )
    assert git(repo, "branch", "--list", "ark/*") == ""


def test_as_change_needs_fix_and_a_file(repo: Path) -> None:
    result = ark("check", "--as-change", cwd=repo, check=False)
    assert result.returncode == 2 and "--as-change proposes the fixes of --fix" in result.stderr
    result = ark("generate", "function", "helper", "--as-change", cwd=repo, check=False)
    assert result.returncode == 2 and "--as-change needs --in FILE" in result.stderr


def test_generate_module_as_change(repo: Path) -> None:
    before = user_state(repo)

    result = ark("generate", "module", "shop.util", "--functions", "load,save", "--as-change",
                 "--format", "json", cwd=repo)  # fmt: skip

    assert user_state(repo) == before
    assert not (repo / "shop" / "util.py").exists()
    payload = json.loads(result.stdout)
    assert payload["written"] is False
    change = payload["change"]
    assert (change["source"], change["targets"]) == ("stub", ["shop.util"])
    assert change["reason"] == "Add the module shop.util"
    assert change["files"] == [{"path": "shop/util.py", "status": "added", "added": len(
        payload["text"].splitlines()), "removed": 0}]  # fmt: skip
    assert (Path(change["worktree"]) / "shop" / "util.py").read_text() == payload["text"]


def test_generate_tests_as_change(repo: Path) -> None:
    write(repo, {"shop/pricing.py": PRICING})
    commit_all(repo, "discount")
    before = user_state(repo)

    result = ark("generate", "tests", "shop/pricing.py::discount", "--as-change", cwd=repo)

    assert user_state(repo) == before
    assert not (repo / "tests").exists()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Proposed change ") and "-add-tests-of-" in lines[0]
    change = change_of(repo, lines[0].split()[2])
    assert change["source"] == "tests" and change["targets"] == ["shop/pricing.py::discount"]
    test_file = Path(str(change["worktree"])) / "tests" / "test_pricing.py"
    assert "(200.0, 25, 150.0)," in test_file.read_text()
    # What the change holds is said as ark generate tests says what it wrote.
    told = [line for line in result.stderr.splitlines() if "the change writes" in line]
    assert re.fullmatch(
        r"ark: the change writes (\d+) tests to tests/test_pricing.py; \1 of \1 pass in the "
        r"sandbox \(\w+\)",
        told[0],
    ), result.stderr


def test_generate_tests_as_change_reads_the_tests_of_its_base_not_untracked_ones(
    repo: Path,
) -> None:
    # With an untracked tests/test_ast.py, --as-change said "nothing new to test:
    # tests/test_ast.py already tests ...", though HEAD, the change's base, has no such file.
    write(repo, {"shop/pricing.py": PRICING})
    commit_all(repo, "discount")
    write(repo, {"tests/test_sales.py": (
        "from shop.pricing import discount\n\n\n"
        "def test_a_quarter_off():\n    assert discount(200.0, 25) == 150.0\n"
    )})  # fmt: skip

    result = ark("generate", "tests", "shop/pricing.py", "--as-change", cwd=repo)

    assert "nothing new to test" not in result.stderr
    change = change_of(repo, result.stdout.split()[2])
    test_file = Path(str(change["worktree"])) / "tests" / "test_pricing.py"
    assert "(200.0, 25, 150.0)," in test_file.read_text()

    # One named for the module lies untracked where the change would create it.
    write(repo, {"tests/test_pricing.py": (repo / "tests" / "test_sales.py").read_text()})
    named = ark("generate", "tests", "shop/pricing.py", "--as-change", cwd=repo, check=False)
    assert named.returncode == 5
    assert "nothing new to test" not in named.stderr
    assert "the change touches files with uncommitted changes (tests/test_pricing.py)" in (
        named.stderr
    )
