"""The types check: real mypy on real base and head checkouts of a real repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.gate_trees import ChangeRepository

from ark_lsp.gate.checks.types import check_types, default_cache_dir
from ark_lsp.gate.model import CheckStatus, GateInput

TYPED_MODULE = '''\
"""Prices."""


def total(prices: list[int]) -> int:
    return sum(prices)


def label(price: int) -> str:
    return price  # an error the base already has
'''

FILLER = "".join(
    f"\n\ndef helper_{n}(value: int) -> int:\n    return value + {n}\n" for n in range(12)
)


@pytest.fixture
def repo(tmp_path: Path) -> ChangeRepository:
    return ChangeRepository(tmp_path)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module's tests, as one user's cache serves all their gate runs."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_a_change_that_adds_a_type_error_fails_with_that_error_alone(
    repo: ChangeRepository, cache: Path
) -> None:
    added = TYPED_MODULE + '\n\ndef discount(price: int) -> int:\n    return price * "0.9"\n'
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": added},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.FAILED
    assert result.summary == "types: 1 new type error"
    [error] = result.findings
    assert (error.path, error.line, error.code, error.symbol) == (
        "shop/prices.py",
        13,
        "return-value",
        "discount",
    )
    assert dict(result.measures) == {"errors_before": 1.0, "errors_after": 2.0, "new": 1.0}
    assert dict(result.files["shop/prices.py"]) == {"errors": 2.0, "new": 1.0}


def test_moving_a_function_that_already_had_an_error_is_no_new_error(
    repo: ChangeRepository, cache: Path
) -> None:
    moved = TYPED_MODULE.replace(
        "def label(price: int) -> str:\n    return price  # an error the base already has\n",
        "",
    )
    moved += (
        FILLER
        + "\n\ndef label(price: int) -> str:\n    return price  # an error the base already has\n"
    )
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": moved},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.PASSED, result.findings
    assert result.summary == "types: no new type errors"
    assert dict(result.measures) == {"errors_before": 1.0, "errors_after": 1.0, "new": 0.0}


def test_moving_a_function_to_another_module_is_no_new_error(
    repo: ChangeRepository, cache: Path
) -> None:
    labels = '"""Labels."""\n\n\n' + TYPED_MODULE.split("\n\n\n")[-1]
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": TYPED_MODULE.split("\n\ndef label")[0] + "\n", "shop/labels.py": labels},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.PASSED, result.findings
    assert set(result.files) == {"shop/prices.py", "shop/labels.py"}


def test_errors_in_modules_the_change_did_not_touch_are_not_its_own(
    repo: ChangeRepository, cache: Path
) -> None:
    broken = '"""Untouched."""\n\n\ndef rate() -> float:\n    return "high"\n'
    uses = (
        '"""Uses rate."""\n\nfrom shop.rates import rate\n\n\n'
        "def doubled() -> float:\n    return rate() * 2\n"
    )
    change = repo.change(
        {"shop/__init__.py": "", "shop/rates.py": broken, "shop/uses.py": uses},
        {"shop/uses.py": uses + "\n\ndef tripled() -> float:\n    return rate() * 3\n"},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.PASSED, result.findings
    assert set(result.files) == {"shop/uses.py"}


def test_the_base_commits_strictness_carries_over(repo: ChangeRepository, cache: Path) -> None:
    pyproject = "[tool.mypy]\nstrict = true\n"
    untyped = '"""Untyped."""\n\n\ndef scale(value):\n    return value * 2\n'
    change = repo.change(
        {"pyproject.toml": pyproject, "shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/scale.py": untyped},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.FAILED
    assert [f.code for f in result.findings] == ["no-untyped-def"]


def test_a_third_party_decorator_mypy_is_not_shown_is_no_untyped_decorator(
    repo: ChangeRepository, cache: Path
) -> None:
    # mypy sees no site-packages: pytest's marks are Any to it, and strict mode reports
    # every parametrized test as untyped. The project's own untyped decorator still counts.
    pyproject = "[tool.mypy]\nstrict = true\n"
    decorators = '"""Decorators."""\n\n\ndef plain(function):\n    return function\n'
    tests = (
        "import pytest\nfrom hypothesis import given\n\nfrom shop.decorators import plain\n\n\n"
        '@pytest.mark.parametrize("n", [1])\ndef test_marked(n: int) -> None:\n'
        "    assert n\n\n\n"
        "@given(1)\ndef test_given(n: int) -> None:\n    assert n\n\n\n"
        "@plain\ndef test_plain() -> None:\n    assert True\n"
    )
    change = repo.change(
        {"pyproject.toml": pyproject, "shop/__init__.py": "", "shop/decorators.py": decorators},
        {"tests/test_shop.py": tests},
    )

    result = check_types(change, cache_dir=cache)

    untyped = [(f.code, f.symbol) for f in result.findings if f.code == "untyped-decorator"]
    assert untyped == [("untyped-decorator", "test_plain")], result.findings


def test_a_change_that_loosens_the_config_is_still_judged_by_the_base(
    repo: ChangeRepository, cache: Path
) -> None:
    untyped = '"""Untyped."""\n\n\ndef scale(value):\n    return value * 2\n'
    change = repo.change(
        {"pyproject.toml": "[tool.mypy]\nstrict = true\n", "shop/__init__.py": ""},
        {"pyproject.toml": "[tool.mypy]\nstrict = false\n", "shop/scale.py": untyped},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.FAILED
    assert [f.code for f in result.findings] == ["no-untyped-def"]


def test_a_syntax_error_in_the_change_fails(repo: ChangeRepository, cache: Path) -> None:
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": TYPED_MODULE + "\ndef broken(:\n    pass\n"},
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.FAILED
    assert {f.code for f in result.findings} == {"syntax"}


def test_code_that_quotes_a_crash_message_is_judged_not_mistaken_for_one(
    repo: ChangeRepository, cache: Path
) -> None:
    quoting = TYPED_MODULE + '\nSTATUS: int = "INTERNAL ERROR"\n'
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE}, {"shop/prices.py": quoting}
    )

    result = check_types(change, cache_dir=cache)

    assert result.status is CheckStatus.FAILED
    assert [f.code for f in result.findings] == ["assignment"]


def test_a_change_without_python_passes_without_running_mypy(
    repo: ChangeRepository, tmp_path: Path
) -> None:
    change = repo.change({"README.md": "old\n"}, {"README.md": "new\n"})

    result = check_types(change, cache_dir=tmp_path / "unused")

    assert result.status is CheckStatus.PASSED
    assert not (tmp_path / "unused").exists()


def test_a_recheck_comes_from_the_cache(repo: ChangeRepository, tmp_path: Path) -> None:
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": TYPED_MODULE + "\n\ndef more() -> int:\n    return 1\n"},
    )
    cache = tmp_path / "cache"

    first = check_types(change, cache_dir=cache)
    second = check_types(change, cache_dir=cache)

    assert first.status is second.status is CheckStatus.PASSED
    assert (cache / "base").is_dir() and (cache / "head").is_dir()
    # A cold run analyses the standard library's stubs; a recheck reads them from the cache.
    assert second.duration_ms < first.duration_ms / 2


def test_the_bases_errors_are_kept_per_commit_so_a_recheck_runs_mypy_on_the_head_alone(
    repo: ChangeRepository, tmp_path: Path
) -> None:
    base = repo.commit({"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE})
    head = repo.commit({"shop/prices.py": TYPED_MODULE + "\nEXTRA: int = 1\n"})
    change = repo.gate_input(base, head)
    cache = tmp_path / "cache"
    first = check_types(change, cache_dir=cache)
    shutil.rmtree(cache / "base")  # mypy's own cache of the base: a run there would remake it

    again = check_types(change, cache_dir=cache)

    assert not (cache / "base").exists()
    assert (
        dict(again.measures)
        == dict(first.measures)
        == {
            "errors_before": 1.0,
            "errors_after": 1.0,
            "new": 0.0,
        }
    )
    # Another base commit is judged anew, though the files have the same names.
    check_types(repo.gate_input(head, base), cache_dir=cache)
    assert (cache / "base").is_dir()


def test_the_cache_is_per_repository_in_the_users_cache_folder(
    repo: ChangeRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    change = repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": TYPED_MODULE + "\nEXTRA = 1\n"},
    )

    check_types(change)

    cache = default_cache_dir(change.head_dir)
    assert cache == default_cache_dir(change.base_dir) == default_cache_dir(repo.repo)
    assert cache.is_relative_to(tmp_path / "user-cache" / "ark")
    assert (cache / "head").is_dir() and (cache / "base").is_dir()
    other = ChangeRepository(tmp_path / "other")
    other.commit({"a.py": "A = 1\n"})
    assert default_cache_dir(other.repo) != cache


# --- when mypy cannot judge ---------------------------------------------------------------------


@pytest.fixture
def change(repo: ChangeRepository) -> GateInput:
    return repo.change(
        {"shop/__init__.py": "", "shop/prices.py": TYPED_MODULE},
        {"shop/prices.py": TYPED_MODULE + "\nEXTRA = 1\n"},
    )


def test_mypy_not_installed_is_not_run(change: GateInput, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)

    result = check_types(change, python=str(bare / "bin" / "python"), cache_dir=tmp_path / "c")

    assert result.status is CheckStatus.NOT_RUN
    assert not result.passed
    assert result.reason == f"mypy is not installed for {bare / 'bin' / 'python'}"


def test_a_mypy_crash_is_not_run_with_its_reason(change: GateInput, tmp_path: Path) -> None:
    crashing = tmp_path / "python"
    crashing.write_text(
        "#!/bin/sh\n"
        "echo 'shop/prices.py:3: error: INTERNAL ERROR -- Please try using mypy master' >&2\n"
        "echo 'AssertionError: unexpected node' >&2\n"
        "exit 2\n"
    )
    crashing.chmod(0o755)

    result = check_types(change, python=str(crashing), cache_dir=tmp_path / "c")

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == "mypy crashed: AssertionError: unexpected node"


def test_a_mypy_that_does_not_finish_is_stopped_and_not_run(
    change: GateInput, tmp_path: Path
) -> None:
    started = time.monotonic()

    result = check_types(change, cache_dir=tmp_path / "c", timeout=0.2)

    assert time.monotonic() - started < 10
    assert result.status is CheckStatus.NOT_RUN
    assert result.reason == "mypy took longer than 0.2 s"
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "c")], capture_output=True, text=True
    ).stdout
    assert not leftovers.strip(), "the timed-out mypy still runs"


def test_an_unusable_python_is_not_run(change: GateInput, tmp_path: Path) -> None:
    result = check_types(change, python=os.fspath(tmp_path / "nothing"), cache_dir=tmp_path / "c")

    assert result.status is CheckStatus.NOT_RUN
    assert result.reason is not None and result.reason.startswith("cannot start")
