"""A Docker engine at an ``ssh://`` DOCKER_HOST: paramiko, time limits, and the far side's words.

docker-py speaks ``ssh://`` through paramiko, which ARK installs with its
``ssh`` extra (``ark-lsp[ssh]``; a compiled dependency most users never
need). docker-py has a second way, the ``ssh`` program (``use_ssh_client``),
that ARK does not take: it still needs paramiko installed, and its socket
ignores timeouts and reads until a whole chunk has come, so a run's attached
stream would block where ARK must watch its deadline and its cancel button.
A paramiko channel behaves as a socket with timeouts.

Paramiko reads the engine host's ``HostName``, ``Port``, ``User``,
``IdentityFile`` and ``ProxyCommand`` from ``~/.ssh/config``, offers the keys
of the ssh agent and ``~/.ssh/id_*``, and trusts only host keys found in
``~/.ssh/known_hosts``: a host whose key is not there is refused, never
added.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

SSH_TIMEOUT = 10.0
"""Seconds for each step of an SSH login (connect, the server's banner, authentication)."""
SSH_POOL_KEY = "http+docker://ssh"
"""The one connection pool of an ssh:// engine (docker-py keeps one per request URL)."""
DOCKER_PROBE = "docker version --format '{{.Server.Version}}'"
"""Asked on the engine's machine when docker-py's ``docker system dial-stdio`` there fails."""


def is_ssh(host: str) -> bool:
    """Whether ``host`` (a DOCKER_HOST) is reached over SSH."""
    return host.startswith("ssh://")


def paramiko_missing() -> str | None:
    """Why ``ssh://`` cannot work in this installation, or None when it can."""
    try:
        import paramiko  # noqa: F401
    except ImportError:
        return (
            "ssh:// needs paramiko: install ARK with its ssh extra "
            "(pipx install '.[ssh]' in its clone)"
        )
    return None


def adapt_ssh_transport() -> None:
    """Fit docker-py's ssh transport to ARK: time limits, one connection pool, a quiet paramiko.

    - docker-py logs in with paramiko's defaults: no limit on the TCP connect
      (a host behind a firewall that drops packets takes the system's two
      minutes) and none on authentication. Each step gets a limit instead.
    - docker-py keeps a connection pool per request URL, so every container's
      own URLs (create, attach, inspect, remove) open a new SSH session, each
      starting ``docker system dial-stdio`` through a login shell on the far
      side: one pool makes a run's calls share their sessions.
    - paramiko logs a failed login with its traceback from its own thread; ARK
      reports the cause itself, so the command line's stderr keeps to one
      line (a handler here stops Python's last-resort printing; a configured
      logging, the server's, still gets the records).
    """
    from docker.transport import sshconn

    adapter: Any = sshconn.SSHHTTPAdapter
    if getattr(adapter, "_ark_adapted", False):
        return
    create_client = adapter._create_paramiko_client
    get_connection = adapter.get_connection

    def create_bounded_client(self: Any, base_url: str) -> None:
        create_client(self, base_url)
        # The banner's limit is the shorter: paramiko gives up on the whole negotiation at
        # ``timeout`` without saying why, but names a banner that did not come.
        self.ssh_params.update(
            timeout=SSH_TIMEOUT, banner_timeout=SSH_TIMEOUT / 2, auth_timeout=SSH_TIMEOUT
        )

    def get_shared_connection(self: Any, url: str, proxies: Any = None) -> Any:
        return get_connection(self, SSH_POOL_KEY, proxies)

    adapter._create_paramiko_client = create_bounded_client
    adapter.get_connection = get_shared_connection
    adapter._ark_adapted = True
    logging.getLogger("paramiko").addHandler(logging.NullHandler())


def far_side_says(host: str) -> str | None:
    """What the engine's machine says about its engine, once SSH itself let ARK in.

    docker-py reaches the engine through ``docker system dial-stdio`` run on
    that machine. When that fails (no ``docker`` there, its engine stopped,
    no permission on its socket) the connection just closes, and all the
    client sees is "Remote end closed connection without response". Asking
    ``docker version`` there gets the reason in that machine's own words: its
    last line of stderr, or None when there is nothing to add.
    """
    import paramiko
    from docker.transport.sshconn import SSHHTTPAdapter

    try:
        adapter = SSHHTTPAdapter(host, timeout=int(SSH_TIMEOUT))
    except (paramiko.SSHException, OSError):
        return None
    try:
        _, stdout, stderr = adapter.ssh_client.exec_command(DOCKER_PROBE, timeout=SSH_TIMEOUT)
        said = stderr.read(64 * 1024).decode("utf-8", errors="replace")
        channel = stdout.channel
        answered = channel.exit_status_ready() and channel.recv_exit_status() == 0
    except (paramiko.SSHException, OSError):
        return None
    finally:
        with contextlib.suppress(paramiko.SSHException, OSError):
            adapter.close()
    lines = [" ".join(line.split()) for line in said.splitlines() if line.strip()]
    if answered or not lines:
        return None
    return f"the engine's machine says: {lines[-1]}"
