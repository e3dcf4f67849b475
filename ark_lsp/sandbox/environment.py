"""Which environment a workspace's runs get for its dependencies, and why.

- **docker**: the layer built from the workspace's declarations (see
  :mod:`ark_lsp.sandbox.env_layer`), found by the hash of those
  declarations; built on first use when the workspace is trusted, or by the
  user's ``ark sandbox env build``; otherwise the base image, saying what
  is missing. A build that failed is remembered (in the user's cache, by the
  same hash) and not retried on every run: a changed declaration, or
  ``ark sandbox env build``, tries again.
- **local**: the workspace's own virtual environment, found as the editors
  find an interpreter: ``[tool.ark.sandbox] python``, then ``VIRTUAL_ENV``,
  then ``.venv`` and ``venv`` in the root (only once the workspace is
  trusted: an untrusted repository's ``.venv/bin/python`` could be a link
  that would make bubblewrap lend a folder of the host), else ARK's own
  Python. It is lent read-only to the bubblewrap run; ARK installs nothing
  into it. Runs on ARK's own Python load no pytest plugin installed
  beside ARK (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).

A project with a ``src/`` layout gets ``PYTHONPATH=src`` in every run, as
an installed package would be importable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ark_lsp.sandbox.declarations import DeclaredDependencies, read_declarations
from ark_lsp.sandbox.env_layer import EnvironmentBuildError, build_layer, image_id, layer_tag

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SandboxEnvironment:
    """What a workspace's runs get for its dependencies, and why, for status and every run."""

    kind: str
    """``layer`` (docker, dependencies installed), ``image`` (docker, the base image as it
    is), ``venv`` (local, the workspace's virtual environment), ``python`` (local, another
    interpreter: ARK's own or the one set)."""
    reason: str
    image: str | None = None
    python: str | None = None
    pytest: bool | None = None
    """Whether pytest is there (None: not known without running the interpreter)."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Added to every run's environment (``PYTHONPATH=src``)."""
    problem: str | None = None
    """Why runs cannot have the declared dependencies: runs are refused with it."""
    declared: str = ""
    """What the workspace declares, in a few words."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``ark sandbox status --format json``."""
        return {
            "environment": self.kind,
            "environment_reason": self.reason,
            "environment_image": self.image,
            "environment_python": self.python,
            "environment_pytest": self.pytest,
            "environment_problem": self.problem,
            "declared_dependencies": self.declared,
        }


def _variables(declarations: DeclaredDependencies) -> dict[str, str]:
    return {"PYTHONPATH": "src"} if declarations.src_layout else {}


# --- docker -----------------------------------------------------------------------------------


def _failure_record(tag: str) -> Path:
    from ark_lsp.trust import user_cache_folder

    key = hashlib.sha256(tag.encode()).hexdigest()[:24]
    return user_cache_folder() / "environments" / f"{key}.json"


def recorded_failure(tag: str) -> str | None:
    """Why the layer ``tag`` could not be built last time, if it could not."""
    try:
        raw = json.loads(_failure_record(tag).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(raw.get("error")) if isinstance(raw, dict) and raw.get("error") else None


def _remember(tag: str, error: str | None) -> None:
    record = _failure_record(tag)
    try:
        if error is None:
            record.unlink(missing_ok=True)
        else:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({"tag": tag, "error": error}), encoding="utf-8")
    except OSError:
        pass  # only a cache: the next run tries again


def docker_environment(
    client: Any,
    base_image: str,
    root: Path,
    *,
    may_build: bool,
    retry: bool = False,
    rebuild: bool = False,
    progress: Progress | None = None,
    log: Progress | None = None,
    project_files: Callable[[], dict[str, bytes]] | None = None,
    look_only: bool = False,
) -> SandboxEnvironment:
    """The image runs of the workspace at ``root`` start from, building it when allowed.

    ``may_build`` is the user's leave to install the declared dependencies
    (a trusted workspace, or ``ark sandbox env build``); ``retry`` builds
    again after a failure; ``rebuild`` even when the layer exists;
    ``project_files`` gives the workspace copy for a project whose build
    backend must say what it depends on.
    ``look_only`` says what a run would get without building anything.
    """
    declarations = read_declarations(root)
    declared = declarations.describe()
    variables = _variables(declarations)
    base = SandboxEnvironment(
        "image", "", image=base_image, pytest=None, variables=variables, declared=declared
    )
    if declarations.empty:
        return _with(base, reason="the workspace declares no dependencies: the image as it is")
    base_id = image_id(client, base_image)
    if base_id is None:
        return _with(base, reason=f"the image {base_image} is not on the engine")
    tag = layer_tag(base_id, declarations)
    if image_id(client, tag) is not None and not rebuild:
        return SandboxEnvironment(
            "layer",
            f"the layer {tag} holds the declared dependencies ({declared})",
            image=tag,
            pytest=True,
            variables=variables,
            declared=declared,
        )
    failed = None if retry or rebuild else recorded_failure(tag)
    if failed is not None:
        return _with(
            base,
            reason=f"the layer for these declarations could not be built: {failed}",
            problem=f"{failed}; fix the declaration, or run `ark sandbox env build` to try again",
        )
    if may_build and look_only:
        return _with(
            base,
            reason=f"the declared dependencies ({declared}) are not installed yet: the first run "
            "builds their layer (the workspace is trusted), or `ark sandbox env build` now",
        )
    if not may_build:
        return _with(
            base,
            reason=f"the declared dependencies ({declared}) are not installed: the workspace is "
            "not trusted, so ARK builds its environment only on `ark sandbox env build` "
            "(or after `ark trust`)",
        )
    say = progress or (lambda _: None)
    say(
        f"building the sandbox environment of {declared} on {base_image}, in a container "
        "with network (once: cached until the declarations change)"
    )
    files = project_files() if declarations.project_extras is not None and project_files else None
    timeout = client.api.timeout
    client.api.timeout = 1800  # pip may be silent for minutes while it builds a wheel
    try:
        build_layer(
            client, base_image, declarations, tag, project_files=files, progress=say, log=log
        )
    except EnvironmentBuildError as error:
        _remember(tag, str(error))
        return _with(base, reason=f"the build failed: {error}", problem=str(error))
    finally:
        client.api.timeout = timeout
    _remember(tag, None)
    say(f"built {tag}")
    return SandboxEnvironment(
        "layer",
        f"the layer {tag} holds the declared dependencies ({declared}); built now",
        image=tag,
        pytest=True,
        variables=variables,
        declared=declared,
    )


def _with(environment: SandboxEnvironment, **changes: Any) -> SandboxEnvironment:
    import dataclasses

    return dataclasses.replace(environment, **changes)


# --- local ------------------------------------------------------------------------------------


def _venv_python(folder: Path) -> Path | None:
    python = folder / "bin" / "python"
    if (folder / "pyvenv.cfg").is_file() and python.exists():
        return python
    return None


def _has_pytest(python: Path) -> bool | None:
    """Whether the venv of ``python`` holds pytest, by its files (nothing of it is run)."""
    venv = python.parent.parent
    if not (venv / "pyvenv.cfg").is_file():
        if os.path.realpath(python) == os.path.realpath(sys.executable):
            import importlib.util

            return importlib.util.find_spec("pytest") is not None
        return None
    return any((site / "pytest").is_dir() for site in venv.glob("lib/python3*/site-packages"))


def local_environment(
    root: Path, setting: str | None, *, trusted: bool, ark_python: str | None = None
) -> SandboxEnvironment:
    """The interpreter local runs of the workspace at ``root`` use, and why."""
    declarations = read_declarations(root)
    declared = declarations.describe()
    variables = _variables(declarations)
    ark_python = ark_python or sys.executable

    def found(python: Path, kind: str, why: str) -> SandboxEnvironment:
        pytest = _has_pytest(python)
        note = {True: "pytest: yes", False: "pytest: MISSING", None: "pytest: not checked"}[pytest]
        return SandboxEnvironment(
            kind,
            f"{why} ({note})",
            python=str(python),
            pytest=pytest,
            variables=variables,
            declared=declared,
        )

    if setting:
        python = Path(setting).expanduser()
        if not python.is_absolute():
            python = root / python
        if not python.exists():
            return SandboxEnvironment(
                "python",
                f"[tool.ark.sandbox] python is {setting}, which does not exist",
                python=str(python),
                variables=variables,
                problem=f"the sandbox's Python {python} does not exist ([tool.ark.sandbox] python)",
                declared=declared,
            )
        kind = "venv" if (python.parent.parent / "pyvenv.cfg").is_file() else "python"
        return found(python, kind, f"{python}, as [tool.ark.sandbox] python sets")
    active = os.environ.get("VIRTUAL_ENV")
    own = os.path.realpath(Path(ark_python).parent.parent)
    activated = _venv_python(Path(active)) if active else None
    if activated is not None and os.path.realpath(activated.parent.parent) != own:
        # ARK's own venv, when active, is no choice of the workspace's environment.
        return found(activated, "venv", f"the active virtual environment {active} (VIRTUAL_ENV)")
    untrusted_venv = None
    for name in (".venv", "venv"):
        venv_python = _venv_python(root / name)
        if venv_python is None:
            continue
        if not trusted:
            untrusted_venv = name
            break
        return found(venv_python, "venv", f"the workspace's own virtual environment {name}/")
    why = "ARK's own Python: the workspace has no virtual environment (.venv, venv, VIRTUAL_ENV)"
    if untrusted_venv:
        why = (
            f"ARK's own Python: the workspace's {untrusted_venv}/ is used once you trust the "
            "workspace (`ark trust`)"
        )
    arks = found(Path(ark_python), "python", why)
    # The pytest plugins installed beside ARK are no part of the workspace's suite: click's
    # `filterwarnings = error` made one's deprecation warning an internal error of pytest.
    return dataclasses.replace(
        arks, variables={**arks.variables, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )


__all__ = [
    "SandboxEnvironment",
    "docker_environment",
    "local_environment",
    "recorded_failure",
]
