"""Finding the Docker engine, and choosing a backend for ``auto`` with a reason to show."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ark_lsp.sandbox.containers import close_failed_unix_connects, engine_errors
from ark_lsp.sandbox.image import ImageChoice, choose_image

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
PING_TIMEOUT = 5.0
CLIENT_TIMEOUT = 30.0
"""Seconds any one engine call may take before the run gives up on the engine."""


def docker_host() -> str:
    """Where the engine is expected: ``DOCKER_HOST`` or the local socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


@dataclass(frozen=True)
class Engine:
    """A Docker engine that answered, or why none did."""

    host: str
    client: Any = None
    version: str | None = None
    error: str | None = None

    @property
    def answers(self) -> bool:
        """Whether runs can go to this engine."""
        return self.client is not None

    def close(self) -> None:
        """Close the connections to the engine."""
        if self.client is not None:
            self.client.close()


def connect(timeout: float = CLIENT_TIMEOUT) -> Engine:
    """Connect through ``docker.from_env`` (DOCKER_HOST, DOCKER_TLS_VERIFY, ...) and ping."""
    host = docker_host()
    client = None
    try:
        import docker

        close_failed_unix_connects()
        client = docker.from_env(timeout=int(PING_TIMEOUT))
        client.ping()
        version = str(client.version().get("Version", "?"))
        client.api.timeout = timeout
    except engine_errors() as error:
        if client is not None:
            client.close()
        reason = " ".join(str(error).split()) or type(error).__name__
        return Engine(host, error=f"no Docker engine answers at {host} ({reason})")
    return Engine(host, client=client, version=version)


@dataclass(frozen=True)
class BackendChoice:
    """The backend a run will use, and why, for ``ark sandbox status`` and every result."""

    name: str
    reason: str
    engine: Engine | None = None
    image: ImageChoice | None = None


def choose_backend(
    requested: str, image_setting: str | None, engine: Engine | None = None
) -> BackendChoice:
    """Resolve ``docker``, ``local`` or ``auto`` to a backend, saying why.

    ``auto`` takes docker when an engine answers and has the image, the local
    backend otherwise. ``docker`` is docker even when it cannot work, so the
    run fails with the reason instead of silently isolating less. ``engine``
    saves a second connection when the caller has one.
    """
    if requested == "local":
        return BackendChoice("local", "asked for the local backend", engine)
    engine = engine or connect()
    if not engine.answers:
        if requested == "docker":
            return BackendChoice("docker", engine.error or "no engine", engine)
        return BackendChoice("local", f"{engine.error}; using the local backend", engine)
    try:
        image = choose_image(engine.client, image_setting)
    except engine_errors() as error:
        image = ImageChoice(image_setting or "?", False, f"cannot list images ({error})")
    where = f"Docker {engine.version} at {engine.host}"
    if image.present:
        return BackendChoice("docker", f"{where} with image {image.name}", engine, image)
    if requested == "docker":
        return BackendChoice("docker", f"{where}, but {image.reason}", engine, image)
    return BackendChoice(
        "local", f"{where}, but {image.reason}; using the local backend", engine, image
    )
