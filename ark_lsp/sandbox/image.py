"""Which image docker runs use, and building one offline from Debian's packages.

With no ``image`` setting ARK looks, in order, for its own image of the
host's Python minor version (``ark-sandbox:python3.11``: Debian's Python,
pytest, coverage.py and a non-root user, built by ``ark sandbox image
build``), then the official slim image of that version
(``python:3.11-slim``), which has neither pytest nor coverage.py, so
``ark test`` and the gate's coverage and mutation checks need the first.

The build needs no registry: ``debootstrap`` makes a minimal Debian root
with ``python3``, ``python3-pytest`` and ``python3-coverage`` from the
distribution's mirror, a user ``ark`` (uid 1000) is added, documentation is
dropped, and the root is streamed as a tar into ``docker import``. The
image is labelled with :data:`IMAGE_FORMAT`, so that an image an older ARK
built (without coverage.py) is known as outdated and built again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGE_REPOSITORY = "ark-sandbox"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3-minimal", "python3-pytest", "python3-coverage", "python-is-python3")
IMAGE_FORMAT = "2"
"""The ``ark.image`` label of images this ARK builds; changes when :data:`PACKAGES` do
(1: without coverage.py)."""
_TRIM = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt")


def host_python() -> str:
    """``3.11`` for the Python ARK runs on."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def ark_image(version: str | None = None) -> str:
    """The tag ``ark sandbox image build`` gives its image."""
    return f"{IMAGE_REPOSITORY}:python{version or host_python()}"


def official_image(version: str | None = None) -> str:
    """The official slim Python image of a version."""
    return f"python:{version or host_python()}-slim"


def candidates(setting: str | None) -> tuple[str, ...]:
    """Images to try, best first: the configured one alone, else ARK's, then the official."""
    return (setting,) if setting else (ark_image(), official_image())


@dataclass(frozen=True)
class ImageChoice:
    """The image runs will use, whether the engine has it, and why it was chosen."""

    name: str
    present: bool
    reason: str


def _present(client: Any, name: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True


def choose_image(client: Any, setting: str | None) -> ImageChoice:
    """The first candidate the engine has; else the best one, marked missing."""
    options = candidates(setting)
    for name in options:
        if _present(client, name):
            why = "configured" if setting else "default: the first of " + ", ".join(options)
            return ImageChoice(name, True, f"{why}; present")
    if setting:
        return ImageChoice(setting, False, "configured; not on the engine")
    return ImageChoice(
        options[0],
        False,
        f"none of {', '.join(options)} is on the engine; run `ark sandbox image build`",
    )


def outdated(client: Any, name: str) -> str | None:
    """Why the ARK image ``name`` must be built again, or None when it is current or absent.

    Only images ARK built are judged (by their ``ark.image`` label); any
    other image is the user's to keep.
    """
    from docker.errors import ImageNotFound

    try:
        labels = client.images.get(name).labels or {}
    except ImageNotFound:
        return None
    built = labels.get("ark.image")
    if built is None or built == IMAGE_FORMAT:
        return None
    return f"{name} was built by an older ARK (image format {built}, now {IMAGE_FORMAT})"


class ImageBuildError(Exception):
    """The image could not be built; the message says why in one line."""


def _run(words: list[str], log: Callable[[str], None]) -> None:
    log("$ " + " ".join(words))
    try:
        done = subprocess.run(words, capture_output=True, text=True, check=False)
    except OSError as error:
        raise ImageBuildError(f"cannot run {words[0]}: {error}") from error
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ImageBuildError(f"{words[0]} failed ({done.returncode}): {' | '.join(tail)}")


def _ensure_debootstrap(log: Callable[[str], None]) -> str:
    found = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ImageBuildError("debootstrap is missing; install it (apt-get install debootstrap)")
    log("installing debootstrap from Debian")
    _run(["apt-get", "update", "-qq"], log)  # a fresh machine has no package lists yet
    _run(["apt-get", "install", "-y", "-qq", "debootstrap"], log)
    found = shutil.which("debootstrap", path="/usr/sbin:/sbin:/usr/bin")
    if not found:
        raise ImageBuildError("debootstrap is still missing after apt-get install")
    return found


def _add_user(root: Path) -> None:
    with (root / "etc/passwd").open("a") as passwd:
        passwd.write("ark:x:1000:1000:ARK sandbox:/home/ark:/usr/sbin/nologin\n")
    with (root / "etc/group").open("a") as group:
        group.write("ark:x:1000:\n")
    home = root / "home/ark"
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, 1000, 1000)


def _python_version(root: Path) -> str:
    for candidate in sorted((root / "usr/bin").glob("python3.*")):
        suffix = candidate.name.removeprefix("python")
        if suffix.replace(".", "").isdigit():
            return suffix
    raise ImageBuildError("the built root has no python3.X interpreter")


def build_image(
    client: Any,
    *,
    suite: str = DEBIAN_SUITE,
    mirror: str | None = None,
    tag: str | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> str:
    """Build the sandbox image from Debian packages and import it; return its tag."""
    if os.geteuid() != 0:
        raise ImageBuildError("building the image needs root (debootstrap makes a Debian root)")
    debootstrap = _ensure_debootstrap(log)
    mirror = mirror or os.environ.get("ARK_DEBIAN_MIRROR") or DEBIAN_MIRROR
    with tempfile.TemporaryDirectory(prefix="ark-image-", dir="/var/tmp") as scratch:
        root = Path(scratch) / "root"
        _run(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                suite,
                str(root),
                mirror,
            ],
            log,
        )
        _add_user(root)
        for folder in _TRIM:
            shutil.rmtree(root / folder, ignore_errors=True)
        for lists in (root / "var/lib/apt/lists").glob("*_*"):
            lists.unlink(missing_ok=True)
        version = _python_version(root)
        name = tag or ark_image(version)
        repository, _, label = name.rpartition(":")
        log(f"importing {root} as {name}")
        changes = [
            "USER 1000:1000",
            "WORKDIR /work",
            "ENV LANG=C.UTF-8",
            'CMD ["python3"]',
            f"LABEL ark.image={IMAGE_FORMAT} ark.python={version} ark.suite={suite}",
        ]
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE
        )
        try:
            client.api.import_image(
                src=tar.stdout, repository=repository, tag=label, changes=changes, stream_src=True
            )
        finally:
            with contextlib.suppress(OSError):
                if tar.stdout is not None:
                    tar.stdout.close()
            tar.wait()
        if tar.returncode != 0:
            raise ImageBuildError(f"tar of the image root failed ({tar.returncode})")
    return name
