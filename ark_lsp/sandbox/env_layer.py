"""The docker sandbox's environment: an image layer holding the workspace's dependencies.

The layer is built on the sandbox image, in a container that has network
(the only sandbox container that does), runs as root inside it, and runs
:mod:`ark_lsp.sandbox.env_builder` with pip: whatever build code the
dependencies (or the project's own ``setup.py``) carry runs there, never on
the host. The container is then committed as ``ark-sandbox-env:<key>``, the
key a hash of the base image and the declarations
(:attr:`~ark_lsp.sandbox.declarations.DeclaredDependencies.digest`), so a
change of any declaration makes a new layer and an unchanged one is reused.
Runs start from the layer with no network, as from the base image.

pip in the container is ARK's own (copied in; the image's when ARK has
none). The host's ``PIP_INDEX_URL`` and ``PIP_EXTRA_INDEX_URL`` (web
addresses only) and the CA bundle its pip trusts (``PIP_CERT``,
``SSL_CERT_FILE``, else the system's) go with it, so a mirror or an
intercepting proxy works as on the host.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import ssl
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from ark_lsp.sandbox.containers import LABEL, OWNER_LABEL, engine_errors, owner_label
from ark_lsp.sandbox.declarations import DeclaredDependencies

ENV_REPOSITORY = "ark-sandbox-env"
LAYER_FORMAT = "3"
"""Changes when the way layers are built changes, so old ones are not reused."""
BUILD_SECONDS = 1800.0
BUILD_MEMORY = 2 * 1024 * 1024 * 1024
LOG_LINES = 60
"""Lines of pip's output kept to explain a failed build."""
_NO_MATCH = re.compile(r"No matching distribution found for (?P<name>\S+)")
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (?P<name>\S+)"
    r"(?: \(from versions: (?P<versions>[^)]*)\))?"
)
_COLLECTING = re.compile(r"^Collecting (?P<name>\S+)")
_BUILD_FAILED = re.compile(
    r"subprocess-exited-with-error|metadata-generation-failed|Failed building wheel"
    r"|Failed to build|did not run successfully"
)
"""What pip says when a package's build code failed (not its routine "Preparing metadata")."""

Progress = Callable[[str], None]


class EnvironmentBuildError(Exception):
    """The dependencies could not be installed; the message names what and why, in one line."""


def layer_tag(base_id: str, declarations: DeclaredDependencies) -> str:
    """The layer's tag for this base image and these declarations."""
    key = hashlib.sha256(f"{LAYER_FORMAT}\0{base_id}\0{declarations.digest}".encode())
    return f"{ENV_REPOSITORY}:{key.hexdigest()[:16]}"


def image_id(client: Any, name: str) -> str | None:
    """The engine's id of an image, or None when it has no such image."""
    from docker.errors import ImageNotFound

    try:
        return str(client.images.get(name).id)
    except ImageNotFound:
        return None


def _pip_folder() -> Path | None:
    """Where ARK's own pip package lives (its folder's parent goes on the builder's path)."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _ca_bundle() -> Path | None:
    for candidate in (
        os.environ.get("PIP_CERT"),
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("REQUESTS_CA_BUNDLE"),
        ssl.get_default_verify_paths().cafile,
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _index_environment() -> dict[str, str]:
    env = {}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        urls = [
            u for u in os.environ.get(name, "").split() if u.startswith(("http://", "https://"))
        ]
        if urls:
            env[name] = " ".join(urls)
    return env


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


def _add_tree(archive: tarfile.TarFile, folder: Path, name: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            _add(archive, f"{name}/{path.relative_to(folder).as_posix()}", path.read_bytes())


def _build_files(
    declarations: DeclaredDependencies, project_files: dict[str, bytes] | None
) -> bytes:
    """The tar unpacked at ``/`` of the build container: everything under ``/ark-env``."""
    spec = {
        "requirements": [*declarations.requirements, "pytest"],
        "requirement_files": list(declarations.requirement_files),
        "constraints": list(declarations.constraints),
        "project": list(declarations.project_extras)
        if declarations.project_extras is not None and project_files is not None
        else None,
        "metadata": {"name": declarations.project_name, "version": declarations.project_version}
        if declarations.project_name and declarations.project_version
        else None,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        builder = resources.files("ark_lsp.sandbox").joinpath("env_builder.py").read_bytes()
        _add(archive, "ark-env/env_builder.py", builder)
        _add(archive, "ark-env/spec.json", json.dumps(spec).encode())
        declared = dict(declarations.files)
        _add(archive, "ark-env/declared/.keep", b"")  # pip's working folder, files or not
        for name in declarations.requirement_files:
            _add(archive, f"ark-env/declared/{name}", declared[name])
        for name, data in (project_files or {}).items():
            _add(archive, f"ark-env/project/{name}", data)
        pip = _pip_folder()
        if pip is not None:
            _add_tree(archive, pip, "ark-env/pip/pip")
        bundle = _ca_bundle()
        if bundle is not None:
            _add(archive, "ark-env/ca.pem", bundle.read_bytes())
    return buffer.getvalue()


def explain_failure(lines: Iterable[str], code: int | None) -> str:
    """One line naming what could not be installed, from pip's output."""
    text = list(lines)
    joined = "\n".join(text)
    missing = _NO_MATCH.search(joined) or _NO_VERSION.search(joined)
    if missing:
        name = missing.group("name")
        versions = missing.groupdict().get("versions")
        which = "no release" if not versions or versions == "none" else "no matching release"
        return (
            f"cannot install the workspace's dependencies: {which} of {name!r} on the package "
            f"index (pip: No matching distribution found for {name})"
        )
    conflict = _conflict(text)
    if conflict:  # before a build: pip builds sdists for their metadata while it resolves
        return (
            f"cannot install the workspace's dependencies: their versions conflict ({conflict}); "
            "pin them so that they agree"
        )
    failed = next((i for i, line in enumerate(text) if _BUILD_FAILED.search(line)), None)
    if failed is not None:
        collecting = [
            m.group("name") for line in text[:failed] if (m := _COLLECTING.match(line.strip()))
        ]
        name = collecting[-1] if collecting else "a package"
        return (
            f"cannot install the workspace's dependencies: {name} failed to build in the build "
            "container (its build code failed; `ark sandbox env build --verbose` shows pip's "
            "output)"
        )
    errors = [line.strip() for line in text if line.strip().startswith("ERROR:")]
    said = errors[-1] if errors else (text[-1].strip() if text else "no output")
    return f"cannot install the workspace's dependencies (pip exit {code}): {said[:400]}"


def _conflict(lines: list[str]) -> str:
    """What pip's resolver says caused a conflict, on one line (its first three causes)."""
    try:
        start = next(i for i, line in enumerate(lines) if "The conflict is caused by:" in line)
    except StopIteration:
        return ""
    causes = []
    for line in lines[start + 1 :]:
        if not line.startswith((" ", "\t")) or not line.strip():
            break
        causes.append(line.strip())
    return "; ".join(causes[:3])[:400]


def build_layer(
    client: Any,
    base_image: str,
    declarations: DeclaredDependencies,
    tag: str,
    *,
    project_files: dict[str, bytes] | None = None,
    progress: Progress | None = None,
    log: Progress | None = None,
) -> str:
    """Build the layer ``tag`` on ``base_image`` with the declared dependencies; return ``tag``.

    ``project_files`` (the workspace copy) go in only when the project's own
    build backend must say what it depends on. ``progress`` hears a few
    lines; ``log`` every line of pip's output. Raises
    :class:`EnvironmentBuildError` naming what could not be installed.
    """
    say = progress or (lambda _: None)
    environment = {"HOME": "/tmp/ark-home", "PIP_PROGRESS_BAR": "off", **_index_environment()}
    if _ca_bundle() is not None:
        environment |= {"PIP_CERT": "/ark-env/ca.pem", "SSL_CERT_FILE": "/ark-env/ca.pem"}
    try:
        container = client.containers.create(
            image=base_image,
            command=["python3", "-I", "/ark-env/env_builder.py"],
            user="0:0",
            working_dir="/",
            network_mode="bridge",
            environment=environment,
            mem_limit=BUILD_MEMORY,
            security_opt=["no-new-privileges"],
            labels={LABEL: "1", OWNER_LABEL: owner_label(), "ark.env.build": "1"},
        )
    except engine_errors() as error:
        raise EnvironmentBuildError(f"cannot start the build container: {error}") from error
    tail: deque[str] = deque(maxlen=LOG_LINES)
    try:
        container.put_archive("/", _build_files(declarations, project_files))
        container.start()
        for raw in container.logs(stream=True, follow=True):
            for line in raw.decode("utf-8", errors="replace").splitlines():
                tail.append(line)
                if log is not None:
                    log(line)
                if line.startswith("ARK: "):
                    say(line[5:])
        status = container.wait(timeout=BUILD_SECONDS)
        code = status.get("StatusCode")
        if code != 0:
            raise EnvironmentBuildError(explain_failure(tail, code))
        container.commit(
            repository=tag.split(":")[0],
            tag=tag.split(":")[1],
            changes=[
                "USER 1000:1000",
                "WORKDIR /work",
                'CMD ["python3"]',
                f"LABEL ark.env=1 ark.env.base={base_image} ark.env.digest={declarations.digest}",
            ],
        )
    except engine_errors() as error:
        raise EnvironmentBuildError(f"the build container failed: {error}") from error
    finally:
        with contextlib.suppress(*engine_errors()):
            container.remove(force=True, v=True)
    return tag


__all__ = [
    "ENV_REPOSITORY",
    "EnvironmentBuildError",
    "build_layer",
    "explain_failure",
    "image_id",
    "layer_tag",
]
