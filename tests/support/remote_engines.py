"""The local engine reached as a remote one: over TCP through a proxy, and over SSH.

Neither touches the shared engine's configuration: the TCP proxy forwards a
loopback port to the engine's unix socket, and the SSH server is a private
``sshd`` on a loopback port with its own host key, admitting one key made for
the test, whose ``docker system dial-stdio`` reaches the same socket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from support.sandboxes import docker_missing

ENGINE_SOCKET = "/var/run/docker.sock"
SSHD = "/usr/sbin/sshd"


class TcpEngineProxy:
    """Forwards ``tcp://127.0.0.1:PORT`` to the engine's unix socket, counting connections.

    The count proves the runs went through ``DOCKER_HOST`` rather than to the
    default socket.
    """

    def __init__(self, upstream: str = ENGINE_SOCKET) -> None:
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.connections = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            engine = socket.socket(socket.AF_UNIX)
            try:
                engine.connect(self.upstream)
            except OSError:
                client.close()
                engine.close()
                continue
            with self._lock:
                self.connections += 1
                self._open += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(256 * 1024):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def free_loopback_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


class LoopbackSshd:
    """A private ``sshd`` on 127.0.0.1 admitting only a key made here, and a client home for it.

    ``home`` is the ``HOME`` the client (ARK) runs with: its ``~/.ssh/config``
    names the key, and its ``~/.ssh/known_hosts`` holds this server's host key,
    as it would after the user's first ``ssh`` to the engine's machine. The
    user's own ssh set-up is never read or written.
    """

    def __init__(self, folder: Path, extra_config: str = "") -> None:
        if not Path(SSHD).is_file() or shutil.which("ssh-keygen") is None:
            docker_missing("no sshd for the ssh:// engine test (apt-get install openssh-server)")
        self.folder = folder
        self.home = folder / "home"
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True, mode=0o700)
        server = folder / "server"
        server.mkdir(mode=0o700)
        host_key = server / "host_ed25519"
        self.client_key = ssh / "id_ed25519"
        for key in (host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ark-test", "-f", str(key)],
                check=True,
                capture_output=True,
            )
        (server / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self.log = server / "sshd.log"
        self.port = free_loopback_port()
        config = server / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            f"PidFile {server / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {server / 'authorized_keys'}\n"
            "AuthenticationMethods publickey\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "UsePAM no\n"
            # The test's folders are under /tmp, which is world-writable.
            "StrictModes no\n"
            "AllowTcpForwarding no\n"
            "X11Forwarding no\n"
            "LogLevel VERBOSE\n"
            f"{extra_config}"
        )
        # What paramiko (docker-py's ssh) reads of it is the IdentityFile; the rest, and the
        # host key pinned in known_hosts, also let `ssh -F HOME/.ssh/config -p PORT root@127.0.0.1`
        # in by hand.
        (ssh / "config").write_text(
            "Host 127.0.0.1\n"
            f"    IdentityFile {self.client_key}\n"
            "    IdentitiesOnly yes\n"
            f"    UserKnownHostsFile {ssh / 'known_hosts'}\n"
            "    StrictHostKeyChecking yes\n"
        )
        public_host_key = host_key.with_suffix(".pub").read_text().split()[:2]
        (ssh / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {' '.join(public_host_key)}\n")
        # sshd's privilege separation needs this folder, which only its service makes.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.process = subprocess.Popen(
            [SSHD, "-D", "-f", str(config), "-E", str(self.log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_for_banner()
        except BaseException:
            self.close()
            raise
        self.url = f"ssh://root@127.0.0.1:{self.port}"

    def _wait_for_banner(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sshd exited at start:\n{self.log.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe,
            ):
                if probe.recv(64).startswith(b"SSH-"):
                    return
            time.sleep(0.05)
        raise AssertionError(f"sshd did not answer on port {self.port}:\n{self.log.read_text()}")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a client that reaches the engine through this server."""
        return {**os.environ, "HOME": str(self.home), "DOCKER_HOST": self.url, **extra}

    def logins(self) -> int:
        """How many logins the server admitted with the test's key."""
        return self.log.read_text().count("Accepted publickey for root")

    def sessions(self) -> int:
        """How many commands (``docker system dial-stdio``, each a login shell) it started."""
        return self.log.read_text().count("Starting session: command")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
