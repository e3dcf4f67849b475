"""The local backend's isolation: bubblewrap (``bwrap``), and whether it can isolate here.

A run sees a private, read-only view of only what it needs (``/usr``, the
interpreter's prefix, the virtual environment ARK runs from) and its scratch
folder, writable, at the workspace's own path (or :data:`WORK_CANDIDATES`'
first free one: see :func:`work_folder`). Its ``/etc``
is ARK's (a loopback ``localhost``, a name for its uid, UTC), nothing of the
host's; it has no ``/home`` or ``/root`` (but the folders on the copy's way),
no workspace (a copy in its place), docker socket or ``/sys``; its
``/proc`` is its own pid namespace's, with ``/proc/sys`` read-only; it runs
as uid and gid 65534 in new user, pid, ipc, uts, cgroup and (unless
``network``) network namespaces, with no capabilities and no further user
namespaces; it dies with ARK (``--die-with-parent``) and has no terminal to
type into (``--new-session``). A run that asks for ``network`` gets its own
network namespace still, wired by slirp4netns like docker's bridge (see
:class:`Network`): never the host's, whose loopback services and abstract
unix sockets (X11, D-Bus, ...) would be in reach.

When ARK runs as root, bubblewrap would map the run's uid to host root,
which owns most of the system's files. So root first bind-mounts the paths
the run needs into the scratch folder, in a mount namespace of its own
(util-linux ``unshare --mount``), then drops to uid 65534 on the host too
(``setpriv``) before starting bubblewrap unprivileged: the run is nobody
inside and outside, and root-only paths such as ``/root/.pyenv`` can still
be lent read-only. The throwaway cgroup (see :mod:`ark_lsp.sandbox.cgroups`)
is entered before any of that, so the run is born inside it and, without
cgroupfs in its view, cannot leave it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import select
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ark_lsp.sandbox import scratch as scratch_folders

SANDBOX_UID = 65534
"""The run's uid and gid, inside the sandbox and, when ARK is root, on the host (nobody)."""

WORK_CANDIDATES = ("/work", "/sandbox/work", "/ark-sandbox/work")
"""Where the run's files appear when the workspace's own path cannot hold them."""

SLIRP_DNS = "10.0.2.3"
NS_GET_USERNS = 0xB701
"""ioctl(2) on a namespace file: a new file descriptor for its owning user namespace."""
NETWORK_SETUP_SECONDS = 10.0
"""Longest wait for bubblewrap's namespaces and slirp4netns's network before giving up."""

_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_NETWORK_ETC = ("/etc/ssl", "/etc/ca-certificates", "/etc/pki")
"""Public certificates a run with network needs for TLS; nothing else of /etc is lent."""


_ETC = {
    # A run has its own loopback: tests serve on "localhost" and connect to it.
    "hosts": "127.0.0.1 localhost ark-sandbox\n::1 localhost\n",
    # Its uid and gid have a name, as getpass.getuser() and pwd lookups expect.
    "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"nobody:x:{SANDBOX_UID}:{SANDBOX_UID}:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": f"root:x:0:\nnogroup:x:{SANDBOX_UID}:\n",
}
"""The run's /etc, ARK's own: nothing of the host's."""
_LOCALTIME = "/usr/share/zoneinfo/UTC"
"""Where the run's ``/etc/localtime`` leads: UTC, as docker's images have it, not the host's zone
(dateutil's tests read it)."""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def work_folder(wanted: str | None, lent: Sequence[str]) -> str:
    """Where a run's work folder appears: ``wanted``, the workspace's own path, if it can.

    A workspace's virtual environment names the workspace by its path (an
    editable install's ``.pth``, a console script's shebang): shown the copy
    at that path, a run resolves them to the copy as it would outside. Not
    where the path would cover a system folder or lie in one, or in a folder
    lent read-only; a folder lent inside it (its ``.venv``) is bound over it.
    Otherwise docker's ``/work``, unless something lent lies there.
    """
    if wanted and _may_hold_work(wanted, lent):
        return wanted
    return next(
        c for c in WORK_CANDIDATES if not any(_inside(dest, c) or _inside(c, dest) for dest in lent)
    )


def _may_hold_work(path: str, lent: Sequence[str]) -> bool:
    if not os.path.isabs(path) or os.path.normpath(path) != path:
        return False
    covered = ("/usr", "/etc", "/proc", "/dev", "/tmp", *_MERGED_USR)
    return not any(_inside(system, path) for system in covered) and not any(
        _inside(path, folder) for folder in ("/usr", "/etc", "/proc", "/dev", *lent)
    )


def python_paths(python: str) -> list[str]:
    """The folders ``python`` needs read-only: its prefixes and the venv, outermost only."""
    found = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    if os.path.abspath(python) != os.path.abspath(sys.executable):
        # Another interpreter (a venv's links lead to the same binary as ARK's own):
        # its environment and its installation are the folders above their bin/.
        found.add(str(Path(os.path.realpath(python)).parent.parent))
        found.add(str(Path(os.path.abspath(python)).parent.parent))
    folders = sorted({os.path.abspath(p) for p in found if p}, key=len)
    kept: list[str] = []
    for folder in folders:
        if folder == "/" or _inside(folder, "/usr"):
            continue  # /usr is lent whole; "/" would lend everything
        if not any(_inside(folder, outer) for outer in kept):
            kept.append(folder)
    return kept


@dataclass
class Plan:
    """The command line of one bubblewrap run, and the folders it needs in the scratch."""

    argv: list[str]
    work: str
    """The work folder's path inside the sandbox."""
    drop_to_nobody: bool
    """Whether ARK is root and the run becomes uid 65534 on the host too."""
    stage: list[Path] = field(default_factory=list)
    """Empty scratch folders that root's private bind mounts use (root only)."""


@dataclass(frozen=True)
class Tools:
    """The programs a bubblewrap run needs, found on ``PATH`` (or given)."""

    bwrap: str | None
    unshare: str | None = None
    setpriv: str | None = None
    mount: str | None = None
    sh: str | None = None
    slirp4netns: str | None = None

    @classmethod
    def find(cls, bwrap: str | None = None) -> Tools:
        """Look each up; ``bwrap`` overrides the lookup of bubblewrap."""
        return cls(
            bwrap=bwrap if bwrap is not None else shutil.which("bwrap"),
            unshare=shutil.which("unshare"),
            setpriv=shutil.which("setpriv"),
            mount=shutil.which("mount"),
            sh=shutil.which("sh"),
            slirp4netns=shutil.which("slirp4netns"),
        )

    def missing(self, as_root: bool, network: bool = False) -> list[str]:
        """The names of the programs that were not found."""
        wanted = {"bwrap": self.bwrap}
        if network:
            wanted["slirp4netns"] = self.slirp4netns
        if as_root:
            wanted |= {
                "unshare": self.unshare,
                "setpriv": self.setpriv,
                "mount": self.mount,
                "sh": self.sh,
            }
        return [name for name, path in wanted.items() if not path or not os.access(path, os.X_OK)]


def _supports(bwrap: str, option: str) -> bool:
    try:
        shown = subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return option in shown.stdout


@functools.cache
def _disable_userns_supported(bwrap: str) -> bool:
    # bubblewrap 0.8 added it; older ones still isolate, but let the run nest namespaces.
    return _supports(bwrap, "--disable-userns")


def plan(
    tools: Tools,
    scratch: Path,
    python: str,
    command: Sequence[str],
    *,
    network: bool,
    cgroup_enter: str | None = None,
    as_root: bool | None = None,
    network_fds: tuple[int, int] | None = None,
    work_path: str | None = None,
) -> Plan:
    """The command line that runs ``command`` under bubblewrap, with ``scratch``'s folders.

    The work folder appears at ``work_path`` (the workspace's own path) where
    :func:`work_folder` allows it.

    ``scratch`` must hold ``work`` and ``tmp`` (made writable for the run by
    the caller) and ``etc``, the run's own ``/etc`` (:func:`prepare_scratch`).
    ``cgroup_enter`` is a shell command that moves the shell into the run's cgroup.
    """
    assert tools.bwrap is not None
    root = os.geteuid() == 0 if as_root is None else as_root
    lent: list[tuple[str, str]] = []  # (host source, sandbox path), read-only
    words: list[str] = ["--ro-bind", "/usr", "/usr"]
    for name in _MERGED_USR:
        if os.path.islink(name):
            words += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            lent.append((name, name))
    for folder in python_paths(python):
        lent.append((folder, folder))
    if network:
        lent += [(path, path) for path in _NETWORK_ETC if os.path.isdir(path)]
    work = work_folder(work_path, [dest for _, dest in lent])
    stage: list[Path] = []
    mounts: list[str] = []
    # /tmp first: what is lent may live under it (a clone in /tmp and its venv), and a
    # later mount covers an earlier one.
    words += ["--proc", "/proc", "--dev", "/dev", "--bind", str(scratch / "tmp"), "/tmp"]
    # The run's /etc is ARK's, read-only; what is lent of the host's (certificates) is
    # bound onto its folders below.
    words += ["--ro-bind", str(scratch / "etc"), "/etc"]
    # The work folder before what is lent: a workspace's .venv lies inside its path.
    words += ["--bind", str(scratch / "work"), work, "--chdir", work]
    for source, dest in lent:
        if root:
            # Root's private bind mount is what nobody's bubblewrap lends on.
            staged = scratch / "stage" / str(len(stage))
            stage.append(staged)
            mounts.append(
                f"{shlex.quote(tools.mount or 'mount')} --rbind "
                f"{shlex.quote(source)} {shlex.quote(str(staged))}"
            )
            source = str(staged)
        words += ["--ro-bind", source, dest]
    if network:
        assert network_fds is not None
        words += ["--info-fd", str(network_fds[0]), "--block-fd", str(network_fds[1])]
    words += ["--unshare-all", "--unshare-user"]
    if _disable_userns_supported(tools.bwrap):
        words.append("--disable-userns")
    words += [
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "ark-sandbox",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",  # the agent is the namespace's init: unkillable from inside, reaps all
        "--cap-drop", "ALL",
    ]  # fmt: skip
    argv: list[str] = []
    if cgroup_enter:
        argv += [tools.sh or "sh", "-c", cgroup_enter + ' && exec "$@"', "sh"]
    if root:
        argv += [tools.unshare or "unshare", "--mount", "--propagation", "private", "--"]
        argv += [tools.sh or "sh", "-c", " && ".join([*mounts, 'exec "$@"']), "sh"]
        argv += [
            tools.setpriv or "setpriv",
            f"--reuid={SANDBOX_UID}",
            f"--regid={SANDBOX_UID}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    argv += [tools.bwrap, *words, "--", *command]
    return Plan(argv=argv, work=work, drop_to_nobody=root, stage=stage)


def prepare_scratch(scratch: Path, built: Plan, *, network: bool) -> None:
    """Make the folders ``built`` binds, writable by the run where they must be."""
    for folder in (scratch / "work", scratch / "tmp"):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o700)
        if built.drop_to_nobody:
            os.chown(folder, SANDBOX_UID, SANDBOX_UID)
    for folder in built.stage:
        folder.mkdir(parents=True, exist_ok=True)
    etc = scratch / "etc"
    etc.mkdir(exist_ok=True)
    etc.chmod(0o755)
    files = dict(_ETC)
    if network:
        # slirp4netns answers DNS at 10.0.2.3 with the host's resolver.
        files["resolv.conf"] = f"nameserver {SLIRP_DNS}\n"
    for name, text in files.items():
        (etc / name).write_text(text)
        (etc / name).chmod(0o644)  # readable by the run's user, whatever ARK's umask
    if not (etc / "localtime").is_symlink():
        (etc / "localtime").symlink_to(_LOCALTIME)
    if network:
        for lent in _NETWORK_ETC:
            if os.path.isdir(lent):
                (etc / os.path.basename(lent)).mkdir(exist_ok=True)  # where it is bound
    if built.drop_to_nobody:
        # nobody's bubblewrap must reach work/, tmp/ and stage/ through the scratch root.
        scratch.chmod(0o711)
        if built.stage:
            built.stage[0].parent.chmod(0o711)


@functools.cache
def _probe(tools: Tools, python: str, network: bool, as_root: bool) -> str | None:
    scratch = scratch_folders.make()  # named for this process: swept if it is killed here
    wiring = Network(tools, as_root) if network else None
    process: subprocess.Popen[str] | None = None
    problem: str | None = None
    stderr = ""
    try:
        built = plan(
            tools,
            scratch,
            python,
            ["/usr/bin/true"],
            network=network,
            as_root=as_root,
            network_fds=wiring.fds if wiring else None,
        )
        prepare_scratch(scratch, built, network=network)
        process = subprocess.Popen(
            built.argv,
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            pass_fds=wiring.fds if wiring else (),
        )
        if wiring is not None:
            problem = wiring.connect()
            if problem:
                wiring.close()  # bubblewrap, released, runs the empty command and ends
        try:
            _, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    except (OSError, subprocess.SubprocessError) as error:
        problem = f"bubblewrap cannot start here ({error})"
    finally:
        if wiring:
            wiring.close()
        if process is not None and process.returncode is None:
            process.kill()
            _, stderr = process.communicate()
        scratch_folders.remove(scratch)
    if problem is None and process is not None and process.returncode != 0:
        problem = f"bubblewrap cannot create its namespaces here (exit {process.returncode})"
    if problem is None:
        return None
    lines = stderr.strip().splitlines()
    return problem + (f" (bubblewrap: {lines[-1]})" if lines else "")


def _loopback_up(pid: int, deadline: float) -> bool:
    """Wait until bubblewrap has set up the sandbox's ``lo``, which it does after reporting.

    slirp4netns brings ``lo`` up too: started earlier, it makes bubblewrap's
    own set-up fail ("Can't create loopback device"). An address of an
    interface that is up has a local route, which the namespace's
    ``fib_trie`` shows.
    """
    trie = Path(f"/proc/{pid}/net/fib_trie")
    while time.monotonic() < deadline:
        try:
            if "127.0.0.1" in trie.read_text():
                return True
        except OSError:
            return False  # the sandbox is gone
        time.sleep(0.002)
    return False


class Network:
    """A run's own network through slirp4netns: outbound only, as docker's bridge.

    bubblewrap reports the sandbox's pid on the info pipe and waits on the
    block pipe; slirp4netns, itself unprivileged (uid 65534 when ARK is
    root) and in its own sandbox, joins the run's user and network
    namespaces, adds ``tap0`` behind a user-mode NAT, and says when it is
    ready; then the run goes on. ``--disable-host-loopback`` keeps the host's
    loopback services out of reach; abstract unix sockets stay in the host's
    network namespace, which the run never joins. slirp4netns ends when ARK
    closes the exit pipe, or dies.
    """

    def __init__(self, tools: Tools, as_root: bool) -> None:
        """Make the pipes; pass :attr:`fds` to the bubblewrap process."""
        self.tools = tools
        self.as_root = as_root
        self._info_read, info_write = os.pipe()
        block_read, self._block_write = os.pipe()
        self.fds = (info_write, block_read)
        self._exit_read, self._exit_write = os.pipe()
        self.helper: subprocess.Popen[bytes] | None = None

    def _child_pid(self, deadline: float) -> int | None:
        os.close(self.fds[0])  # bubblewrap holds its own copy: EOF once it ends
        os.close(self.fds[1])
        self.fds = (-1, -1)
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._info_read], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(self._info_read, 4096)
            if not chunk:
                break
            data += chunk
            try:
                pid = json.loads(data).get("child-pid")
            except ValueError:
                continue
            return pid if isinstance(pid, int) else None
        return None

    def connect(self) -> str | None:
        """Give the started sandbox its network and let it go on; why not, on failure."""
        deadline = time.monotonic() + NETWORK_SETUP_SECONDS
        pid = self._child_pid(deadline)
        if pid is None:
            return "bubblewrap did not report its sandbox for the network"
        if not _loopback_up(pid, deadline):
            return "bubblewrap did not bring up the sandbox's loopback"
        try:
            # The user namespace that owns the network namespace: bubblewrap nests a second
            # one (--disable-userns) after reporting, so /proc/PID/ns/user is a moving target.
            net = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            return f"cannot open the sandbox's network namespace ({error.strerror})"
        try:
            owner = fcntl.ioctl(net, NS_GET_USERNS)
        except OSError as error:
            os.close(net)
            return f"cannot find the owner of the sandbox's network namespace ({error.strerror})"
        ready_read, ready_write = os.pipe()
        words = [
            self.tools.slirp4netns or "slirp4netns",
            "--configure",
            "--mtu=65520",
            "--disable-host-loopback",
            "--enable-seccomp",
            f"--userns-path=/proc/self/fd/{owner}",
            "--netns-type=path",
            f"--ready-fd={ready_write}",
            f"--exit-fd={self._exit_read}",
            f"/proc/self/fd/{net}",
            "tap0",
        ]
        if self.as_root:
            words = [
                self.tools.setpriv or "setpriv",
                f"--reuid={SANDBOX_UID}",
                f"--regid={SANDBOX_UID}",
                "--clear-groups",
                "--",
                *words,
            ]
        try:
            self.helper = subprocess.Popen(
                words,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(ready_write, self._exit_read, net, owner),
                start_new_session=True,
            )
        finally:
            for fd in (ready_write, net, owner):
                os.close(fd)
        try:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([ready_read], [], [], left)
            answered = os.read(ready_read, 1) if ready else b""
        finally:
            os.close(ready_read)
        if answered != b"1":
            return "slirp4netns could not give the run its network" + self._helper_said()
        try:
            os.write(self._block_write, b"1")
        except BrokenPipeError:
            return "bubblewrap ended before its network was ready"
        return None

    def _helper_said(self) -> str:
        if self.helper is None or self.helper.stderr is None:
            return ""
        self.helper.kill()
        self.helper.wait()
        lines = self.helper.stderr.read().decode(errors="replace").strip().splitlines()
        return f" ({lines[-1]})" if lines else ""

    def close(self) -> None:
        """Stop slirp4netns and close every pipe."""
        for fd in (
            *self.fds,
            self._info_read,
            self._block_write,
            self._exit_write,
            self._exit_read,
        ):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fds = (-1, -1)
        self._info_read = self._block_write = self._exit_write = self._exit_read = -1
        if self.helper is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.helper.wait(timeout=2)  # it ends once the exit pipe closed
            if self.helper.returncode is None:
                self.helper.kill()
                self.helper.wait()
            if self.helper.stderr is not None:
                self.helper.stderr.close()
            self.helper = None


def unavailable(tools: Tools, python: str, network: bool) -> str | None:
    """Why bubblewrap cannot isolate a run here, or ``None``; found once by a real empty run."""
    as_root = os.geteuid() == 0
    missing = tools.missing(as_root, network)
    if "bwrap" in missing:
        return "bubblewrap is not installed"
    if "slirp4netns" in missing:
        return "the run asks for network and slirp4netns is not installed"
    if missing:
        return f"{', '.join(missing)} not found (util-linux)"
    return _probe(tools, python, network, as_root)


def refusal(problem: str) -> str:
    """The one-line error of a refused run: why, and what to do."""
    if problem == "bubblewrap is not installed":
        remedy = "install it (apt-get install bubblewrap), use the docker backend"
    elif "slirp4netns is not installed" in problem:
        remedy = "install it (apt-get install slirp4netns), run without network, use docker"
    else:
        remedy = "use the docker backend"
    return (
        f"the local backend refuses to run code without isolation: {problem}; {remedy}, "
        "or choose weaker isolation yourself (--weak-isolation)"
    )


def describe(*, network: bool, cgroup: bool, dropped: bool, work: str) -> str:
    """What a bubblewrap run isolates, said plainly for every result; ``work`` is its folder."""
    who = (
        "uid 65534 inside and on the host"
        if dropped
        else "uid 65534 inside (your own uid on the host)"
    )
    parts = [
        f"local bubblewrap sandbox: runs as {who}, no capabilities, "
        "own user/pid/ipc/uts/cgroup namespaces",
        "sees only /usr, the Python installation and the run's virtual environment read-only "
        f"and its scratch folder writable at {work} (an /etc of ARK's, nothing of the host's; "
        "no /home, /root, workspace, docker socket or /sys but the way to the scratch folder; "
        "/proc/sys read-only)",
        "its own network through slirp4netns, as asked: outbound connections and the host's "
        "outside addresses, not its loopback services or abstract sockets"
        if network
        else "no network",
        "memory and process limits in a cgroup it cannot see or leave"
        if cgroup
        else "memory and process limits by rlimits",
        "dies with ARK",
    ]
    return "; ".join(parts)
