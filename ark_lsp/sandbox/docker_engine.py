"""Finding the Docker engine, and choosing a backend for ``auto`` with a reason to show."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from ark_lsp.sandbox.containers import close_failed_unix_connects, engine_errors
from ark_lsp.sandbox.image import ImageChoice, choose_image
from ark_lsp.sandbox.ssh_engine import adapt_ssh_transport, far_side_says, is_ssh, paramiko_missing

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
    if is_ssh(host) and (missing := paramiko_missing()):
        return Engine(host, error=f"no Docker engine answers at {host} ({missing})")
    client = None
    try:
        import docker

        close_failed_unix_connects()
        if is_ssh(host):
            adapt_ssh_transport()
        client = docker.from_env(timeout=int(PING_TIMEOUT))
        client.ping()
        version = str(client.version().get("Version", "?"))
        client.api.timeout = timeout
    except engine_errors() as error:
        if client is not None:
            client.close()
        return Engine(host, error=f"no Docker engine answers at {host} ({_why(host, error)})")
    return Engine(host, client=client, version=version)


def _why(host: str, error: BaseException) -> str:
    """Why the engine at ``host`` did not answer: the cause, or the far side's own words."""
    ssh_let_us_in = not isinstance(error, OSError) and not _is_ssh_error(error)
    if is_ssh(host) and ssh_let_us_in:
        said = far_side_says(host)
        if said is not None:
            return said
    return engine_failure(error)


def _is_ssh_error(error: BaseException) -> bool:
    paramiko = sys.modules.get("paramiko")
    return paramiko is not None and isinstance(error, paramiko.SSHException)


def engine_failure(error: BaseException) -> str:
    """The cause of a failed engine call, in one line: the innermost error that says something.

    docker-py wraps requests, which wraps urllib3, which wraps the socket's
    error, and each layer repeats the address and adds its own objects'
    names; the socket's "Connection refused" or paramiko's "Authentication
    failed." is what a person can act on.
    """
    causes = _causes(error)
    ssh = [cause for cause in causes if _is_ssh_error(cause)]
    for cause in ssh[:1] or reversed(causes):  # paramiko's own account, when there is one
        text = _cause_text(cause)
        if text:
            return text
    return " ".join(str(error).split()) or type(error).__name__


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and what it wraps, outermost first."""
    chain = [error]
    while len(chain) < 20:
        current = chain[-1]
        inner = current.__cause__ or getattr(current, "reason", None)
        if not isinstance(inner, BaseException) and current.args:
            inner = current.args[0]  # requests' ConnectionError holds urllib3's error
        errors = getattr(current, "errors", None)  # paramiko: one error per address tried
        if not isinstance(inner, BaseException) and isinstance(errors, dict) and errors:
            inner = next(iter(errors.values()))
        if not isinstance(inner, BaseException) and not current.__suppress_context__:
            inner = current.__context__
        if not isinstance(inner, BaseException) or inner in chain:
            break
        chain.append(inner)
    return chain


def _cause_text(cause: BaseException) -> str:
    """What one error of the chain says on its own, or "" when it only wraps another."""
    if _is_ssh_error(cause):
        return f"ssh: {' '.join(str(cause).split())}"
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    if isinstance(cause, OSError) and cause.strerror and cause.errno is not None:
        where = f": {cause.filename}" if cause.filename else ""
        return f"{cause.strerror}{where}"
    if type(cause).__module__.startswith(("urllib3", "requests")):
        return ""  # wrappers: their text repeats the address and an inner error
    return " ".join(str(cause).split())


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
