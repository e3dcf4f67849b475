"""Finding a workspace's Python files and keeping their index current.

Discovery honours ``.gitignore`` files (at any depth, plus
``.git/info/exclude``) in a git work tree, as git does (outside one, where
git applies none, a ``.gitignore`` is not applied either, and the run says
so), ARK's default excludes and the ``exclude`` setting. Every file the
indexer then leaves out is named with the reason (:class:`SkippedFile`); a
file over ``max-file-size`` is not read, and is an ARK090 finding.
Indexing is incremental: a file whose size and mtime are unchanged is not
read; one whose bytes hash the same is not parsed. Changed files are analysed
in a process pool and written to the store in batches, each batch one
transaction, so an interrupted run keeps everything written before it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.analysis import analyze, module_name
from ark_lsp.config import DEFAULT_EXCLUDES, Settings
from ark_lsp.config.paths import is_workspace_root
from ark_lsp.models import FileState, IndexedFile, LineCounts, ModuleReport, Span, Violation
from ark_lsp.rules import SYNTAX_ERROR, UNCHECKED_FILE
from ark_lsp.store import Store
from ark_lsp.store.connection import utc_now
from ark_lsp.store.rows import RowBatch, prepare_rows

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.process import BaseProcess

    from ark_lsp.config.patterns import InvalidPattern, PatternSpec

BATCH_SIZE = 256
"""Files per write transaction: large enough to amortise a commit."""
CHUNK_SIZE = 32
"""Files per task handed to a worker process: amortises the inter-process hop."""
IN_PROCESS_BELOW = 48
"""Fewer changed files than this are analysed without starting workers."""
CHUNKS_AHEAD = 3
"""Chunks per worker handed out ahead of the writer: enough that no worker waits."""

ProgressCallback = Callable[[int, int], None]

AnalysedTexts = Mapping[str, tuple[str, ModuleReport]]
"""Reports the caller already has, by relative path: the SHA-256 of the text's bytes, the report.

A file whose bytes hash the same takes its report from here instead of
being analysed again (the language server's open documents, analysed as
they were typed).
"""


def find_root(path: Path) -> Path:
    """The workspace a path belongs to: the nearest folder with a root marker, resolved.

    Found from where the path is named, not where a link in it leads: a
    workspace's link to a file elsewhere belongs to the workspace (and
    leads out of it), not to the folder of its target. With no marker at or
    above it, the path's own folder (see :func:`find_workspace`).
    """
    return find_workspace(path)[0]


def find_workspace(path: Path) -> tuple[Path, bool]:
    """The workspace root of a path (:func:`find_root`), and whether a marker made it one.

    Without a marker at or above the path (``/tmp``, a home folder), the
    root is the path's own folder, and the caller decides how far to go.
    """
    start = path.absolute()
    if start.is_symlink() or not start.is_dir():
        start = start.parent
    for folder in (start, *start.parents):
        if is_workspace_root(folder):
            return folder.resolve(), True
    return start.resolve(), False


def in_git_work_tree(root: Path) -> bool:
    """Whether ``root`` is in a git work tree: a ``.git`` (folder, or a worktree's file) above."""
    return any((folder / ".git").exists() for folder in (root, *root.parents))


def inside(root: str, real: str) -> bool:
    """Whether the resolved path ``real`` lies in the resolved folder ``root`` (or is it)."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def relative_posix(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` as a POSIX string ("" for the root itself)."""
    relative = path.resolve().relative_to(root)
    return "" if relative == Path() else relative.as_posix()


MAX_IGNORE_FILE = 1024 * 1024
"""Bytes of a ``.gitignore`` read at most: a larger one is left out, with a warning."""

Warn = Callable[[str], None]
"""Told, once each, what was wrong with a pattern or an ignore file; the walk goes on."""


@dataclass
class _IgnoreRules:
    """Everything that can leave a path out, checked folder by folder."""

    root: Path
    settings: Settings
    warn: Warn | None = None
    defaults: PatternSpec = field(init=False)
    configured: PatternSpec = field(init=False)
    gitignores: dict[str, PatternSpec] = field(default_factory=dict)
    gitignore_lines: dict[str, list[str]] = field(default_factory=dict)
    """Each folder's patterns in order (``.git/info/exclude`` before the root's own)."""
    loaded: set[Path] = field(default_factory=set)
    excluded_names: dict[str, bool] = field(default_factory=dict)
    """Folder names the defaults leave out, looked up once per name."""
    gitignores_apply: bool = field(init=False)
    """``.gitignore`` files are applied: asked for, and in a git work tree, as git applies them."""
    unapplied_said: bool = False

    def __post_init__(self) -> None:
        # pathspec and RE2 are imported by the first walk, not by every start.
        from ark_lsp.config.patterns import compile_patterns

        self.gitignores_apply = self.settings.respect_gitignore and in_git_work_tree(self.root)
        self.defaults = compile_patterns(DEFAULT_EXCLUDES)
        self.configured = compile_patterns(
            self.settings.exclude, self._reporter("exclude setting", numbered=False)
        )
        # Tiers and per-file ignores are matched file by file in the analysis,
        # where a pattern left out is only left out: it is told here, once.
        compile_patterns(
            [pattern for pattern, _ in self.settings.tiers],
            self._reporter("tiers setting", numbered=False),
        )
        compile_patterns(
            [pattern for pattern, _ in self.settings.per_file_ignores],
            self._reporter("per-file-ignores setting", numbered=False),
        )
        if self.gitignores_apply:
            self._load_gitignore("", self.root / ".git" / "info" / "exclude")

    def enter(self, folder: str) -> None:
        """Read the ``.gitignore`` of a folder about to be walked."""
        file = self.root / folder / ".gitignore"
        if self.gitignores_apply:
            self._load_gitignore(folder, file)
        elif self.settings.respect_gitignore and not self.unapplied_said and file.is_file():
            # An unpacked archive, a copied tree: git would apply none of it, nor does ARK.
            self.unapplied_said = True
            if self.warn is not None:
                where = file.relative_to(self.root).as_posix()
                self.warn(
                    f"{where}: not applied, {self.root} is not in a git work tree "
                    "(leave files out with exclude in [tool.ark])"
                )

    def _reporter(self, where: str, *, numbered: bool) -> InvalidPattern:
        def report(position: int, pattern: str, reason: str) -> None:
            if self.warn is not None:
                shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
                place = f"{where}:{position}" if numbered else where
                self.warn(f"{place}: pattern {shown!r} left out ({reason})")

        return report

    def _load_gitignore(self, folder: str, file: Path) -> None:
        if file in self.loaded:
            return
        self.loaded.add(file)
        where = file.relative_to(self.root).as_posix()
        data = _read_ignore_file(file)
        if data is None:
            return
        if len(data) > MAX_IGNORE_FILE:
            if self.warn is not None:
                self.warn(f"{where}: larger than {MAX_IGNORE_FILE // 1024} KiB, left out")
            return
        from ark_lsp.config.patterns import compile_patterns

        lines = data.decode("utf-8", errors="replace").splitlines()
        spec = compile_patterns(lines, self._reporter(where, numbered=True))
        if folder in self.gitignore_lines:
            # Both files of the root, in git's order; what was wrong was told already.
            lines = self.gitignore_lines[folder] + lines
            spec = compile_patterns(lines)
        self.gitignore_lines[folder] = lines
        self.gitignores[folder] = spec

    def excluded(self, relative: str, is_dir: bool) -> bool:
        """Whether a workspace-relative path is left out."""
        candidate = relative + "/" if is_dir else relative
        # The defaults are folder names (a walk never enters an excluded folder),
        # so a folder's own name decides, and names repeat across a tree.
        if is_dir:
            name = relative.rpartition("/")[2]
            excluded = self.excluded_names.get(name)
            if excluded is None:
                excluded = self.excluded_names[name] = self.defaults.match_file(name + "/")
            if excluded:
                return True
        if self.settings.exclude and self.configured.match_file(candidate):
            return True
        for folder, spec in self.gitignores.items():
            if not folder:
                if spec.match_file(candidate):
                    return True
            elif candidate.startswith(folder + "/") and spec.match_file(
                candidate[len(folder) + 1 :]
            ):
                return True
        return False


def _read_ignore_file(file: Path) -> bytes | None:
    """Up to one byte past :data:`MAX_IGNORE_FILE` of an ignore file; None if there is none.

    As git does, a link is not followed; nor is a FIFO or a device read,
    which could block the walk or never end.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(file, flags)
    except OSError:
        return None  # absent, a link, or unreadable: nothing to apply
    with os.fdopen(descriptor, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read(MAX_IGNORE_FILE + 1)
        except OSError:
            return None


def is_python(name: str) -> bool:
    """Whether a file name is one the indexer reads."""
    return name.endswith(".py")


def discover(
    root: Path,
    settings: Settings,
    targets: Sequence[Path] = (),
    include: Callable[[str], bool] = is_python,
    warn: Warn | None = None,
) -> Iterator[str]:
    r"""Yield workspace-relative paths of the Python files to index, sorted per folder.

    ``include`` picks files by name: the sandbox copies every file in, not
    only Python's. ``warn`` is told of each pattern left out, once (a lone
    ``\`` in a ``.gitignore``), and of an ignore file too large to read.

    Files named explicitly in ``targets`` are yielded even when excluded, as
    ruff and pytest do; folders are walked with every exclusion applied.
    """
    rules = _IgnoreRules(root, settings, warn)
    for target in targets or (root,):
        relative = relative_posix(root, target)
        if target.is_file():
            yield relative
            continue
        # Load the .gitignore files between the root and the target first.
        parts = relative.split("/") if relative else []
        for depth in range(len(parts)):
            rules.enter("/".join(parts[:depth]))
        yield from _walk(root, relative, rules, include)


def _walk(
    root: Path, start: str, rules: _IgnoreRules, include: Callable[[str], bool]
) -> Iterator[str]:
    # Strings, not Paths, on this path: a warm start walks every folder of the workspace.
    top = os.fspath(root)
    pending = [start]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(f"{top}/{folder}" if folder else top), key=_by_name)
        except OSError:
            continue  # vanished or unreadable: nothing to index there
        if any(entry.name == ".gitignore" for entry in entries):
            rules.enter(folder)
        subfolders: list[str] = []
        for entry in entries:
            relative = f"{folder}/{entry.name}" if folder else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if not rules.excluded(relative, is_dir=True):
                    subfolders.append(relative)
            elif include(entry.name) and not rules.excluded(relative, is_dir=False):
                yield relative
        pending.extend(reversed(subfolders))


def _by_name(entry: os.DirEntry[str]) -> str:
    return entry.name


@dataclass(frozen=True)
class SkippedFile:
    """A file the indexer found and left out, and why, in the user's words."""

    path: str
    """Workspace-relative POSIX path."""
    reason: str


@dataclass
class IndexFigures:
    """What an indexing run did, for people (``ark index``) and machines."""

    root: str
    files_scanned: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_skipped: int = 0
    files_errors: int = 0
    files_removed: int = 0
    lines: int = 0
    average_complexity: float = 0.0
    duration_ms: int = 0
    jobs: int = 1
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Patterns left out of ``.gitignore`` files and the settings: the run went on without them."""
    unreadable: list[str] = field(default_factory=list)
    """Workspace-relative paths of files that could not be read."""
    skipped: list[SkippedFile] = field(default_factory=list)
    """Each file counted in ``files_skipped``, with the reason."""

    def skip(self, path: str, reason: str) -> None:
        """Count a file left out, and say why."""
        self.files_skipped += 1
        self.skipped.append(SkippedFile(path, reason))

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output and the run's database record."""
        return asdict(self)


@dataclass(frozen=True)
class _Outcome:
    path: str
    file: IndexedFile | None = None
    """The analysis, until the worker turns it into rows."""
    indexed: bool = False
    same_content: FileState | None = None
    problem: str | None = None
    """Why the file could not be read, or the syntax error of one that was."""
    unreadable: bool = False
    vanished: bool = False


@dataclass
class _Chunk:
    outcomes: list[_Outcome]
    rows: RowBatch


def _analyse_file(
    root: str,
    relative: str,
    settings: Settings,
    known_sha: str | None,
    analysed: tuple[str, ModuleReport] | None = None,
) -> _Outcome:
    """Read, hash and (when the content is new) analyse one file, unless ``analysed`` has it."""
    try:
        with open(os.path.join(root, relative), "rb") as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        return _Outcome(relative, vanished=True)
    except OSError as error:
        reason = f"{relative}: cannot read ({error.strerror or error})"
        return _Outcome(relative, problem=reason, unreadable=True)
    state = FileState(len(data), status.st_mtime_ns, hashlib.sha256(data).hexdigest())
    if state.sha256 == known_sha:
        return _Outcome(relative, same_content=state)
    if analysed is not None and analysed[0] == state.sha256:
        report = analysed[1]
    else:
        report = analyze(data, relative, settings)
    problem = None
    # A file that does not parse, or that the compiler refuses, is an error of the run.
    refused = next((v for v in report.violations if v.rule == SYNTAX_ERROR), None)
    if refused is not None:
        problem = f"{relative}:{refused.span.line}: {refused.message}"
    file = IndexedFile(path=relative, state=state, report=report)
    return _Outcome(relative, file=file, indexed=True, problem=problem)


def _analyse_chunk(
    root: str,
    chunk: list[tuple[str, str | None]],
    settings: Settings,
    analysed: AnalysedTexts | None = None,
) -> _Chunk:
    analysed = analysed or {}
    outcomes = [
        _analyse_file(root, relative, settings, sha, analysed.get(relative))
        for relative, sha in chunk
    ]
    files = [outcome.file for outcome in outcomes if outcome.file is not None]
    return _Chunk(
        outcomes=[replace(outcome, file=None) for outcome in outcomes],
        rows=prepare_rows(files, utc_now(), settings.analysis_key),
    )


def default_jobs() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def index_workspace(
    root: Path,
    settings: Settings,
    store: Store,
    *,
    targets: Sequence[Path] = (),
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    analysed: AnalysedTexts | None = None,
) -> IndexFigures:
    """Bring the index of ``root`` (or of ``targets`` inside it) up to date.

    A changed file found in ``analysed`` with the same bytes is not analysed
    again when the run analyses in this process (a few files).
    """
    started = time.perf_counter()
    jobs = jobs or settings.jobs or default_jobs()
    figures = IndexFigures(root=str(root), jobs=jobs)
    known = store.index.file_states(settings.analysis_key)
    scopes = [relative_posix(root, t) for t in targets] or [""]

    top = os.fspath(root)
    real_top = os.path.realpath(top)
    seen: set[str] = set()
    to_read: list[tuple[str, str | None]] = []
    unchecked: list[IndexedFile] = []
    forgotten: list[str] = []
    """Files too large to read, where ARK090 is not in force: what was indexed of them goes."""
    for relative in discover(root, settings, targets, warn=figures.warnings.append):
        if relative in seen:
            continue
        seen.add(relative)
        figures.files_scanned += 1
        path = f"{top}/{relative}"
        link = False
        try:
            status = os.lstat(path)
            if stat.S_ISLNK(status.st_mode):
                link = True
                # A link is indexed only when it stays inside the workspace: one leading
                # out would put a host file's symbols and snippets in the index.
                if not inside(real_top, os.path.realpath(path)):
                    figures.skip(relative, "a link leading out of the workspace")
                    continue
                status = os.stat(path)
        except FileNotFoundError:
            figures.skip(relative, "a link to nothing" if link else "deleted while indexing")
            continue
        except OSError as error:
            figures.skip(relative, f"cannot be read ({error.strerror or error})")
            continue
        if not stat.S_ISREG(status.st_mode):
            figures.skip(relative, f"not a regular file ({_file_type(status.st_mode)})")
            continue
        previous = known.get(relative)
        if status.st_size > settings.max_file_size:
            over = status.st_size - settings.max_file_size
            figures.skip(
                relative,
                f"{status.st_size:,} bytes, {over:,} over max-file-size: not read, "
                f"not checked ({UNCHECKED_FILE})",
            )
            if (
                previous
                and not previous.sha256
                and (previous.size, previous.mtime_ns) == (status.st_size, status.st_mtime_ns)
            ):
                continue  # the index holds what it holds of it already
            unread = _unchecked_file(relative, status, settings)
            if unread is None:
                forgotten.append(relative)
            else:
                unchecked.append(unread)
            continue
        if (
            previous
            and previous.sha256  # a file left unread before (too large then) is read now
            and (previous.size, previous.mtime_ns) == (status.st_size, status.st_mtime_ns)
        ):
            figures.files_unchanged += 1
            continue
        to_read.append((relative, previous.sha256 if previous else None))

    gone = [path for path in known if path not in seen and _within(path, scopes)]
    _run_analysis(root, settings, store, to_read, jobs, figures, progress, analysed)
    if unchecked or forgotten:
        batch = prepare_rows(unchecked, utc_now(), settings.analysis_key)
        store.index.write_rows(batch, removed=forgotten)
    if gone:
        store.index.remove_files(gone)
        figures.files_removed += len(gone)

    totals = store.index.totals(scopes)
    figures.lines = totals.lines
    figures.average_complexity = round(totals.average_complexity, 2)
    figures.duration_ms = round((time.perf_counter() - started) * 1000)
    store.index_runs.record(figures.as_dict())
    return figures


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "of an unknown kind"


def _unchecked_file(
    relative: str, status: os.stat_result, settings: Settings
) -> IndexedFile | None:
    """What the index keeps of a file too large to read: an ARK090 finding, where it applies.

    Its hash is left empty, so that once it is within ``max-file-size`` again
    it is read whatever its size and mtime. None where the rule is not in
    force for the file (ignored for it).
    """
    tier = settings.tier_for(relative)
    rule = next(
        (
            r
            for r in settings.ruleset_for(relative).rules
            if r.id == UNCHECKED_FILE and r.applies_to(tier)
        ),
        None,
    )
    if rule is None:
        return None
    over = status.st_size - settings.max_file_size
    finding = Violation(
        rule=rule.id,
        severity=rule.severity,
        message=f"not checked: {status.st_size:,} bytes, {over:,} over max-file-size "
        f"({settings.max_file_size:,})",
        span=Span(1, 0, 1, 0),
    )
    report = ModuleReport(
        path=relative,
        module=module_name(relative)[0],
        tier=tier,
        lines=LineCounts(),
        violations=(finding,),
        parsed=False,
    )
    return IndexedFile(relative, FileState(status.st_size, status.st_mtime_ns, ""), report)


def _within(path: str, scopes: Sequence[str]) -> bool:
    return any(not scope or path == scope or path.startswith(scope + "/") for scope in scopes)


def _run_analysis(
    root: Path,
    settings: Settings,
    store: Store,
    to_read: list[tuple[str, str | None]],
    jobs: int,
    figures: IndexFigures,
    progress: ProgressCallback | None,
    analysed: AnalysedTexts | None = None,
) -> None:
    total = len(to_read)
    if progress:
        progress(0, total)
    # Closed on the way out, a cancelled run's too: its workers and helpers end then, not
    # whenever the traceback holding the generator goes.
    with (
        _BatchWriter(store, figures) as writer,
        closing(_chunks(str(root), settings, to_read, jobs, analysed)) as chunks,
    ):
        done = 0
        for chunk in chunks:
            writer.add(chunk)
            done += len(chunk.outcomes)
            if progress:
                progress(done, total)


def _chunks(
    root: str,
    settings: Settings,
    to_read: list[tuple[str, str | None]],
    jobs: int,
    analysed: AnalysedTexts | None = None,
) -> Generator[_Chunk, None, None]:
    if jobs == 1 or len(to_read) < IN_PROCESS_BELOW:
        for start in range(0, len(to_read), CHUNK_SIZE):
            yield _analyse_chunk(root, to_read[start : start + CHUNK_SIZE], settings, analysed)
        return
    yield from _chunks_in_workers(root, settings, to_read, jobs)


def _chunks_in_workers(
    root: str, settings: Settings, to_read: list[tuple[str, str | None]], jobs: int
) -> Iterator[_Chunk]:
    with _helper_processes():
        # The pool lives in a generator of its own, so that it and its queues (whose
        # semaphores the resource tracker keeps) are gone before the helpers are stopped.
        yield from _pool_chunks(root, settings, to_read, jobs)


def _pool_chunks(
    root: str, settings: Settings, to_read: list[tuple[str, str | None]], jobs: int
) -> Iterator[_Chunk]:
    # Imported here: a warm index and the language server's start need no workers.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Workers are forked from a clean server process, never from this one,
    # which may be running threads (a progress bar, the language server).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ark_lsp.workspace"])
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=exit_with_parent
    ) as pool:
        starts = iter(range(0, len(to_read), CHUNK_SIZE))
        pending: deque[Future[_Chunk]] = deque()

        def submit_next() -> None:
            start = next(starts, None)
            if start is not None:
                chunk = to_read[start : start + CHUNK_SIZE]
                pending.append(pool.submit(_analyse_chunk, root, chunk, settings))

        # A few chunks ahead of the writer, not all of them: finished chunks wait in
        # memory until they are written, and the memory their rows took stays the
        # process's long after (Python keeps the arenas they leave half empty).
        for _ in range(jobs * CHUNKS_AHEAD):
            submit_next()
        try:
            while pending:
                chunk = pending.popleft().result()
                submit_next()
                yield chunk
        finally:
            # A consumer that stops early (a cancelled run) must not wait for the rest.
            pool.shutdown(cancel_futures=True)


_pools_lock = threading.Lock()
_pools_running = 0
"""Worker pools of this process now running: the helpers end with the last of them."""


@contextmanager
def _helper_processes() -> Iterator[None]:
    """Around a worker pool: once no pool runs, the forkserver and the resource tracker end too.

    multiprocessing starts both on the first pool and keeps them for the life
    of the process; a language server would carry them (some 40 MB) through a
    whole session for an index that runs in workers only when many files
    changed. Starting them again costs one interpreter start, once per run.
    """
    global _pools_running
    with _pools_lock:
        _pools_running += 1
    try:
        yield
    finally:
        with _pools_lock:
            _pools_running -= 1
            if _pools_running == 0:
                _stop_helpers()


def _stop_helpers() -> None:
    """Stop multiprocessing's forkserver, then its resource tracker, and wait for both.

    The order matters: the forkserver holds the tracker's pipe open, and the
    tracker ends when the last holder closes it. ``_stop`` is multiprocessing's
    own (its tests use it); without it, in another Python, the helpers stay.
    """
    from multiprocessing import forkserver, resource_tracker

    server, tracker = forkserver._forkserver, resource_tracker._resource_tracker
    # Only what this process started: a child shares its parent's, and must leave them be.
    if getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        server._stop()
    if getattr(tracker, "_pid", None) is not None and hasattr(tracker, "_stop"):
        tracker._stop()


def exit_with_parent() -> None:
    """Pool worker initializer: the worker exits as soon as the process that started it dies.

    A worker is forked by the forkserver, not by ARK, so a parent-death
    signal would tie it to the forkserver; and left alone it would wait on
    its task queue for ever after a ``kill -9`` of ARK, holding open the pipes
    that keep the forkserver and the resource tracker alive. What does end
    with ARK is the parent sentinel multiprocessing gives every child: a pipe
    whose only writer is ARK's process, so the kernel closes it when ARK dies,
    however it dies. Once the workers are gone, the forkserver and the tracker
    see their own pipes close and exit by themselves.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_when_gone, args=(parent,), name="ark-parent-watch", daemon=True
        ).start()


def _exit_when_gone(parent: BaseProcess) -> None:
    parent.join()  # returns when the sentinel reads end-of-file: the parent is gone
    os._exit(1)


class _BatchWriter:
    """Collects analysed chunks and writes them a transaction at a time."""

    def __init__(self, store: Store, figures: IndexFigures) -> None:
        self.store = store
        self.figures = figures
        self.rows = RowBatch()
        self.touched: dict[str, FileState] = {}
        self.vanished: list[str] = []

    def __enter__(self) -> _BatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.flush()

    def add(self, chunk: _Chunk) -> None:
        figures = self.figures
        for outcome in chunk.outcomes:
            if outcome.indexed:
                figures.files_indexed += 1
            elif outcome.same_content is not None:
                self.touched[outcome.path] = outcome.same_content
                figures.files_unchanged += 1
            elif outcome.vanished:
                self.vanished.append(outcome.path)
                figures.skip(outcome.path, "deleted while indexing")
            if outcome.problem is not None:
                figures.files_errors += 1
                figures.problems.append(outcome.problem)
            if outcome.unreadable:
                figures.unreadable.append(outcome.path)
        self.rows.extend(chunk.rows)
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.rows or self.vanished:
            self.store.index.write_rows(self.rows, removed=self.vanished)
            self.figures.files_removed += len(self.vanished)
        if self.touched:
            self.store.index.touch_files(self.touched)
        self.rows, self.touched, self.vanished = RowBatch(), {}, []
