"""The compiled-code cache: found by the next process, and not rewritten by every start.

Each run is its own interpreter with its own hash seed, as each start of
the server is: attrs writes that seed into a frozen class's ``__hash__``.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ark_lsp.server.generated_code import write_cache

ROOT = Path(__file__).resolve().parents[2]

A_START = """
import json, sys
from pathlib import Path
import attr._make, attrs
from ark_lsp.server.generated_code import CompiledCode

cache = CompiledCode(Path(sys.argv[1]))
with cache.compiling_in(attr._make):
    @attrs.define
    class Plain:
        name: str

    @attrs.frozen
    class Frozen:
        name: str

counts = {"compiled": len(cache.compiled), "used": len(cache.used), "volatile": len(cache.volatile)}
cache.save()
assert Frozen("a") == Frozen("a") and hash(Frozen("a")) == hash(Frozen("a"))
assert repr(Plain("b")) == "Plain(name='b')"
print(json.dumps(counts))
"""


def start(cache: Path, seed: int) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", A_START, str(cache)],
        cwd=ROOT,
        env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout)
    return result


def test_the_next_start_finds_the_code_and_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    cache = tmp_path / "code.marshal"

    first = start(cache, seed=1)
    written = cache.read_bytes()
    second = start(cache, seed=2)
    third = start(cache, seed=3)

    assert first["used"] == 0 and first["volatile"] == 0
    # The frozen class's code differs by its hash seed: compiled again, never kept.
    assert second == third == {"compiled": 0, "used": first["compiled"] - 1, "volatile": 1}
    assert cache.read_bytes() == written


def test_a_cache_that_cannot_be_read_is_compiled_anew(tmp_path: Path) -> None:
    cache = tmp_path / "code.marshal"
    cache.write_bytes(b"not marshal at all")

    assert start(cache, seed=1)["used"] == 0
    assert start(cache, seed=1)["compiled"] == 0


def test_a_temporary_file_left_by_a_writer_that_died_does_not_stop_the_next_write(
    tmp_path: Path,
) -> None:
    """A crash mid-write leaves ``.NAME.PID-THREAD``; a process with the same ids still writes."""
    kept = tmp_path / "kept.bin"
    leftover = kept.with_name(f".{kept.name}.{os.getpid()}-{threading.get_ident()}")
    leftover.write_bytes(b"half a write")

    write_cache(kept, ("plan", 1))

    assert marshal.loads(kept.read_bytes()) == ("plan", 1)
    assert not leftover.exists()


def test_a_symbolic_link_at_the_temporary_name_is_not_followed(tmp_path: Path) -> None:
    kept = tmp_path / "kept.bin"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not ARK's")
    planted = kept.with_name(f".{kept.name}.{os.getpid()}-{threading.get_ident()}")
    planted.symlink_to(elsewhere)

    write_cache(kept, ("plan", 1))

    assert elsewhere.read_text() == "not ARK's"
    assert not kept.exists()


def test_a_new_install_s_first_write_removes_caches_not_written_for_weeks(tmp_path: Path) -> None:
    """Each install of ARK, attrs, cattrs or lsprotocol has its own file of a few megabytes."""
    weeks_ago = time.time() - 30 * 24 * 3600
    forgotten = tmp_path / "old-install.marshal"
    half_written = tmp_path / ".old-install.marshal.123-456"
    recent = tmp_path / "other-install.marshal"
    for path in (forgotten, half_written, recent):
        path.write_bytes(b"code")
    for path in (forgotten, half_written):
        os.utime(path, (weeks_ago, weeks_ago))

    write_cache(tmp_path / "this-install.marshal", {"key": b"code"})

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "other-install.marshal",
        "this-install.marshal",
    ]


def test_writing_a_cache_again_leaves_the_others_alone(tmp_path: Path) -> None:
    kept = tmp_path / "this-install.marshal"
    write_cache(kept, {"key": b"code"})
    forgotten = tmp_path / "old-install.marshal"
    forgotten.write_bytes(b"code")
    os.utime(forgotten, (0, 0))

    write_cache(kept, {"key": b"more code"})

    assert forgotten.exists()
