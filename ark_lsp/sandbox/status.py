"""What ``ark sandbox status`` shows: engine, image, pool, backend and the reasons for each."""

from __future__ import annotations

import os
from pathlib import Path

from ark_lsp.sandbox import bubblewrap, scratch
from ark_lsp.sandbox.containers import LABEL, engine_errors
from ark_lsp.sandbox.docker_engine import BackendChoice, choose_backend, connect, docker_host
from ark_lsp.sandbox.environment import docker_environment, local_environment
from ark_lsp.sandbox.local_backend import LocalSandbox, namespaces_work


def sandbox_status(start: Path) -> dict[str, object]:
    """The sandbox set-up of the workspace holding ``start``, as plain data."""
    from ark_lsp.config import load_settings
    from ark_lsp.workspace import find_root

    root = find_root(start)
    loaded = load_settings(root)
    settings = loaded.settings.sandbox
    engine = connect()
    choice = choose_backend(settings.backend, settings.image, engine)
    report: dict[str, object] = {
        "docker_host": docker_host(),
        "docker_host_from": "DOCKER_HOST" if os.environ.get("DOCKER_HOST") else "default socket",
        "engine": f"Docker {engine.version}" if engine.answers else engine.error,
        "image": choice.image.name if choice.image else settings.image,
        "image_present": choice.image.present if choice.image else None,
        "image_reason": choice.image.reason if choice.image else None,
        "pool_size": settings.pool_size,
        "workspace_trusted": loaded.trust.trusted,
        "workspace_trust": loaded.trust.reason,
        "ignored_settings": list(loaded.ignored),
        "backend_setting": settings.backend,
        "backend": choice.name,
        "backend_reason": choice.reason,
        **_local(settings.weak_isolation, settings.network),
        "local_namespaces": namespaces_work(settings.network),
        "local_cgroups": os.geteuid() == 0,
        "stale_leftovers_removed": scratch.sweep(force=True),
    }
    report.update(_environment(choice, root, settings.python, loaded.trust.vouched))
    if engine.answers:
        try:
            found = engine.client.api.containers(all=True, filters={"label": LABEL})
            report["sandbox_containers"] = len(found)
        except engine_errors() as error:
            report["sandbox_containers"] = f"cannot list ({error})"
    engine.close()
    return report


def _environment(
    choice: BackendChoice, root: Path, python: str | None, trusted: bool
) -> dict[str, object]:
    """Which environment the workspace's runs get and why; nothing is built here."""
    if choice.name == "local":
        return local_environment(root, python, trusted=trusted).as_dict()
    if choice.engine is None or not choice.engine.answers or not choice.image:
        return {"environment": None, "environment_reason": "no engine or image to run on"}
    if not choice.image.present:
        return {"environment": None, "environment_reason": choice.image.reason}
    try:
        found = docker_environment(
            choice.engine.client, choice.image.name, root, may_build=trusted, look_only=True
        )
    except engine_errors() as error:
        return {"environment": None, "environment_reason": f"cannot ask the engine ({error})"}
    return found.as_dict()


def _local(weak_isolation: bool, network: bool) -> dict[str, object]:
    """Whether bubblewrap is there and what the local backend will do with a run."""
    local = LocalSandbox(weak_isolation=weak_isolation)
    mode, problem = local.isolation(network)
    doing = {
        "bubblewrap": "runs code under bubblewrap",
        "weak": f"runs code with WEAKER isolation (chosen): {problem}",
        "refused": bubblewrap.refusal(problem or "?"),
    }[mode]
    return {
        "bubblewrap": local.tools.bwrap or "not installed (apt-get install bubblewrap)",
        "local_backend": doing,
    }
