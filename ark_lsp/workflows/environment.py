"""Building a workspace's sandbox environment: what ``ark sandbox env build`` does.

The user's explicit command: it builds the docker layer of the workspace's
declared dependencies whether or not the workspace is trusted (installing
them runs their build code, and the project's own ``setup.py``, but only
inside the build container, never on the host), and tries again after a
failed build. A trusted workspace's first run builds it too (see
:meth:`ark_lsp.project.Project.sandbox_runner`).
"""

from __future__ import annotations

from collections.abc import Callable

from ark_lsp.project import Project
from ark_lsp.sandbox.docker_engine import connect
from ark_lsp.sandbox.environment import SandboxEnvironment, docker_environment
from ark_lsp.sandbox.image import choose_image
from ark_lsp.sandbox.requests import copy_workspace

Progress = Callable[[str], None]


class EnvironmentUnavailable(Exception):
    """No engine or no base image to build on; the message says which and what to do."""


def build_environment(
    project: Project,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    log: Progress | None = None,
) -> SandboxEnvironment:
    """Build the docker layer holding the project's declared dependencies, unless it exists.

    A build that failed before is tried again; ``rebuild`` builds even a layer that exists
    (a dependency that is not pinned may have a new release).

    Returns the environment runs now get; its ``problem`` names what could
    not be installed. Raises :class:`EnvironmentUnavailable` when there is
    no engine or base image to build on.
    """
    engine = connect()
    if not engine.answers:
        raise EnvironmentUnavailable(engine.error or "no Docker engine answers")
    try:
        image = choose_image(engine.client, project.settings.sandbox.image)
        if not image.present:
            raise EnvironmentUnavailable(f"no image to build on: {image.reason}")
        return docker_environment(
            engine.client,
            image.name,
            project.root,
            may_build=True,
            retry=True,
            rebuild=rebuild,
            progress=progress,
            log=log,
            project_files=lambda: copy_workspace(project.root, project.settings).files,
        )
    finally:
        engine.close()


__all__ = ["EnvironmentUnavailable", "Progress", "build_environment"]
