"""Pinned real-world corpora for the benchmarks and demos, fetched once and cached.

The corpora are django's source and attrs' (a smaller project, with its test
suite, for the gate's latency) from their PyPI sdists, each pinned by version
and sha256 so every run (and every machine) measures the same bytes. Each is
downloaded with urllib into ``benchmarks/.cache/`` (git-ignored), verified,
and extracted once with tarfile's ``"data"`` filter (no absolute paths, no
links out of the tree, no device files).

Usage from another script::

    from benchmarks.corpus import django_source   # or: from corpus import ...
    root = django_source()   # .../benchmarks/.cache/django-5.2.9
    attrs = attrs_source()   # .../benchmarks/.cache/attrs-24.2.0
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"

DJANGO_VERSION = "5.2.9"
DJANGO_URL = (
    "https://files.pythonhosted.org/packages/eb/1c/"
    "188ce85ee380f714b704283013434976df8d3a2df8e735221a02605b6794/"
    f"django-{DJANGO_VERSION}.tar.gz"
)
DJANGO_SHA256 = "16b5ccfc5e8c27e6c0561af551d2ea32852d7352c67d452ae3e76b4f6b2ca495"

ATTRS_VERSION = "24.2.0"
ATTRS_URL = (
    "https://files.pythonhosted.org/packages/fc/0f/"
    "aafca9af9315aee06a89ffde799a10a582fe8de76c563ee80bbcdc08b3fb/"
    f"attrs-{ATTRS_VERSION}.tar.gz"
)
ATTRS_SHA256 = "5cfb1b9148b5b086569baec03f20d7b6bf3bcacc9a42bebf87ffaaca362f6346"

_CHUNK = 1 << 20


class CorpusError(Exception):
    """A corpus could not be fetched, verified or extracted (one-line message)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, sha256: str, name: str) -> Path:
    """Return the cached file ``name``, downloading it from ``url`` first if needed.

    The file is verified against ``sha256`` whether it was just downloaded or
    already cached; a download goes to a temporary file renamed into place
    only once verified, so an interrupted run leaves no half file behind.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / name
    if target.exists():
        actual = _sha256(target)
        if actual == sha256:
            return target
        raise CorpusError(
            f"{target} has sha256 {actual}, expected {sha256}; delete it to download again"
        )
    print(f"corpus: downloading {url}", file=sys.stderr)
    descriptor, partial_name = tempfile.mkstemp(dir=CACHE, prefix=f".{name}.", suffix=".part")
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            request = urllib.request.Request(url, headers={"User-Agent": "ark-benchmarks"})
            with urllib.request.urlopen(request, timeout=60) as response:
                shutil.copyfileobj(response, sink, _CHUNK)
        actual = _sha256(partial)
        if actual != sha256:
            raise CorpusError(f"{url} has sha256 {actual}, expected {sha256}")
        partial.replace(target)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise CorpusError(f"cannot download {url}: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return target


def extract(archive: Path, folder_name: str) -> Path:
    """Extract ``archive`` into the cache once; return ``CACHE / folder_name``.

    Extraction goes to a temporary folder renamed into place at the end, so
    a folder that exists is always complete.
    """
    destination = CACHE / folder_name
    if destination.is_dir():
        return destination
    print(f"corpus: extracting {archive.name}", file=sys.stderr)
    staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=f".{folder_name}."))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        extracted = staging / folder_name
        if not extracted.is_dir():
            raise CorpusError(f"{archive.name} holds no top-level folder {folder_name}")
        extracted.replace(destination)
    except (tarfile.TarError, OSError) as error:
        raise CorpusError(f"cannot extract {archive}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def django_source() -> Path:
    """The extracted ``django-5.2.9`` sdist folder, fetched and verified on first use."""
    archive = fetch(DJANGO_URL, DJANGO_SHA256, f"django-{DJANGO_VERSION}.tar.gz")
    return extract(archive, f"django-{DJANGO_VERSION}")


def attrs_source() -> Path:
    """The extracted ``attrs-24.2.0`` sdist folder (code, tests, configuration), fetched once."""
    archive = fetch(ATTRS_URL, ATTRS_SHA256, f"attrs-{ATTRS_VERSION}.tar.gz")
    return extract(archive, f"attrs-{ATTRS_VERSION}")


SOURCES = {"django": django_source, "attrs": attrs_source}


def main(argv: list[str]) -> int:
    """Fetch the corpus named by ``argv`` (django when none) and print its one folder.

    One folder per run, so ``cd "$(python benchmarks/corpus.py)"`` works.
    """
    name = argv[0] if argv else "django"
    if len(argv) > 1 or name not in SOURCES:
        print(f"usage: corpus.py [{'|'.join(SOURCES)}]", file=sys.stderr)
        return 2
    try:
        print(SOURCES[name]())
    except CorpusError as error:
        print(f"corpus: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
