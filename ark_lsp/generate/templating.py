"""The Jinja2 templates generated code is rendered from, and their workspace overrides.

ARK ships ``function.py.j2``, ``class.py.j2``, ``module.py.j2`` and
``test.py.j2`` in this package. A workspace overrides any of them with a
file of the same name in ``.ark/templates/``. Both kinds use
:class:`~jinja2.StrictUndefined` (a misspelt variable is an error, not an
empty string) and no autoescaping (the output is Python, not HTML).

A template found in a checked-out repository is code somebody else wrote,
so a workspace template is rendered

- in Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` (no attribute
  games, ``range`` capped at 100,000 items);
- in a worker process of its own, which is killed when a render takes
  longer than :data:`RENDER_SECONDS` (two nested ``range(100000)`` loops are
  hours of work) and which cannot use more than :data:`WORKER_MEMORY` of
  memory (``"x" * 10**10`` is a ``MemoryError`` there, not the server's
  death); its output is cut at :data:`MAX_OUTPUT`;
- with only regular files inside ``.ark/templates/`` to load, include,
  import or extend: every path component is opened without following a
  link, so a link to ``/etc/shadow`` or a templates folder that is a link
  reads nothing, ``..`` is refused, and a FIFO is never read.

Why a process, when a thread cannot be killed: Jinja compiles a template to
Python, and the other ways to stop a runaway render stop only part of it.
A trace hook (``sys.settrace`` in the rendering thread, raising past a
deadline) does interrupt every template loop, but not one long C call
(``"x".center(10**10)``), and it bounds no memory; counting operations in
the sandbox (``call``/``getattr`` hooks) misses loops whose body calls
nothing. A process bounds time, memory and output whatever the template
does, and the parent only waits on a pipe, so the language server keeps
answering meanwhile. It costs one interpreter start (about 0.4 s) the first
time a workspace template is rendered, then about a millisecond a render.
Built-in templates are ARK's own: they render in-process exactly as before,
with no hook and no cost.

A template that cannot be loaded, fails to render, renders too much or too
long, or renders text that is not Python raises :class:`TemplateError`,
whose message names the template, where it came from and the line.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import json
import math
import os
import pickle
import selectors
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import jinja2
import jinja2.sandbox
from jinja2.exceptions import SecurityError

from ark_lsp.config import WORKSPACE_TEMPLATES
from ark_lsp.gate.checks.tool_config import BLACK_LINE_LENGTH, line_length
from ark_lsp.generate.style import Style
from ark_lsp.generate.wrapping import wrap_long_lines

TEMPLATE_NAMES = ("function.py.j2", "class.py.j2", "module.py.j2", "test.py.j2")

RENDER_SECONDS = 2.0
"""Longest a workspace template may take to load and render."""
MAX_OUTPUT = 1024 * 1024
"""Most characters a workspace template may render (1 MiB): a stub is a few hundred."""
MAX_TEMPLATE_BYTES = 1024 * 1024
"""Largest workspace template file read."""
WORKER_MEMORY = 512 * 1024 * 1024
"""Address space the rendering worker may add to what it holds once started."""
WORKER_START_SECONDS = 30.0
"""Longest the worker may take to start (an interpreter and Jinja2, on a busy machine)."""

_BUILTIN_FOLDER = Path(__file__).parent / "templates"


class TemplateError(Exception):
    """A template could not be rendered into valid Python; the message says where."""

    def __init__(self, template: str, origin: str, line: int | None, reason: str) -> None:
        where = f"{template} ({origin})" + (f", line {line}" if line else "")
        super().__init__(f"template {where}: {reason}")
        self.template = template
        self.origin = origin
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Rendered:
    """A template's output, and which template made it."""

    text: str
    template: str
    origin: str
    """``builtin`` or the workspace file's path."""

    @property
    def label(self) -> str:
        """How the records name the template: ``test.py.j2`` or ``workspace:test.py.j2``."""
        return self.template if self.origin == "builtin" else f"workspace:{self.template}"


def _environment(cls: type[jinja2.Environment], loader: jinja2.BaseLoader) -> jinja2.Environment:
    environment = cls(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    environment.filters["quoted"] = _quoted
    environment.filters["literal"] = _literal
    environment.filters["comment"] = _comment
    return environment


@jinja2.pass_context
def _quoted(context: jinja2.runtime.Context, text: str) -> str:
    style: Style = context["style"]
    return style.quoted(str(text))


@jinja2.pass_context
def _literal(context: jinja2.runtime.Context, source: str) -> str:
    style: Style = context["style"]
    return style.literal(str(source))


@jinja2.pass_context
def _comment(context: jinja2.runtime.Context, text: str) -> str:
    """``text`` as comment lines within the project's line length (``line_length``)."""
    width = context.get("line_length", BLACK_LINE_LENGTH)
    lines = textwrap.wrap(
        str(text),
        width=width if isinstance(width, int) else BLACK_LINE_LENGTH,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines) or "#"


_BUILTIN_LOADER = jinja2.FileSystemLoader(_BUILTIN_FOLDER)


class Templates:
    """The templates in force for one workspace (the built-in ones where it has none)."""

    def __init__(self, root: Path | None = None, *, project: Path | None = None) -> None:
        """Use ``root``'s ``.ark/templates/`` overrides, if any; built-ins only for ``None``.

        ``project`` (default ``root``) is the workspace whose formatter's line
        length the rendered lines keep to: its configuration is data, read
        even where its templates, code, are not trusted.
        """
        self.root = root
        self.project = project if project is not None else root
        self.folder = root / WORKSPACE_TEMPLATES if root is not None else None
        self._builtin = _environment(jinja2.Environment, _BUILTIN_LOADER)
        self._has_overrides = self.folder is not None and self.folder.is_dir()

    def origin(self, name: str) -> str:
        """``builtin``, or the path of the workspace file that overrides ``name``.

        Whatever stands at that path counts, even a link or a FIFO: loading
        it refuses it with a reason, rather than quietly using the built-in.
        """
        if self.folder is not None and self._has_overrides:
            candidate = self.folder / name
            if os.path.lexists(candidate):
                return str(candidate)
        return "builtin"

    def line_length(self) -> int:
        """The project's line length (its formatter's), where rendered lines are split."""
        return line_length(self.project) if self.project is not None else BLACK_LINE_LENGTH

    def render(self, name: str, context: Mapping[str, Any], style: Style) -> Rendered:
        """Render template ``name`` and check that the output is Python.

        A line longer than :meth:`line_length` is split at its brackets
        (see :mod:`ark_lsp.generate.wrapping`).

        ``style`` is available to the template as ``style`` and through the
        ``quoted`` filter (a string literal in the file's quote style); the
        line length as ``line_length`` and through the ``comment`` filter
        (text as ``#`` lines within it).
        """
        origin = self.origin(name)
        context = {**context, "line_length": self.line_length()}
        if origin == "builtin":
            text = _render(self._builtin, name, origin, {**context, "style": style})
        else:
            assert self.root is not None
            text = _WORKER.render(self.root, name, origin, context, style)
        text = wrap_long_lines(_tidy(text), self.line_length(), style.indent)
        check_python(text, name, origin)
        return Rendered(text=text, template=name, origin=origin)


def _render(
    environment: jinja2.Environment,
    name: str,
    origin: str,
    context: Mapping[str, Any],
    max_output: int | None = None,
) -> str:
    """Load and render one template; output past ``max_output`` characters is an error."""
    try:
        template = environment.get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateError(name, origin, None, "no such template") from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(
            error.name or name, origin, error.lineno, f"syntax error: {error.message}"
        ) from None
    except _Refused as error:
        raise TemplateError(name, origin, None, error.reason) from None
    try:
        if max_output is None:
            return template.render(context)
        return _capped(template.generate(context), max_output)
    except _TooLarge:
        reason = f"rendered more than {_size(max_output or 0)}"
        raise TemplateError(name, origin, None, reason) from None
    except _Refused as error:  # an include or import of a file that may not be read
        line = _template_line(error, template.filename)
        raise TemplateError(name, origin, line, error.reason) from None
    except jinja2.TemplateError as error:
        line = _template_line(error, template.filename)
        raise TemplateError(name, origin, line, _reason(error)) from None
    except MemoryError:
        reason = f"rendering needed more than {_size(WORKER_MEMORY)} of memory"
        raise TemplateError(name, origin, None, reason) from None
    except Exception as error:  # a filter or attribute raising inside the template
        line = _template_line(error, template.filename)
        raise TemplateError(name, origin, line, f"{type(error).__name__}: {error}") from None


class _TooLarge(Exception):
    """A render went past its output cap."""


def _capped(chunks: Iterator[str], limit: int) -> str:
    kept: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        kept.append(chunk)
    return "".join(kept)


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def _reason(error: jinja2.TemplateError) -> str:
    if isinstance(error, jinja2.UndefinedError):
        return f"undefined variable: {error.message}"
    if isinstance(error, SecurityError):
        return f"not allowed in a workspace template: {error.message}"
    if isinstance(error, jinja2.TemplateNotFound):
        return f"no such template: {error.name}"
    return f"{type(error).__name__}: {error.message}"


def _template_line(error: BaseException, filename: str | None) -> int | None:
    """The template line the error was raised from, from Jinja's rewritten traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else None


def _tidy(text: str) -> str:
    """Strip trailing blanks from lines and end with exactly one newline."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def check_python(text: str, name: str, origin: str) -> None:
    """Raise :class:`TemplateError` unless ``text`` parses as Python."""
    try:
        ast.parse(text)
    except SyntaxError as error:
        lines = text.splitlines()
        shown = ""
        if error.lineno and 0 < error.lineno <= len(lines):
            line = lines[error.lineno - 1].strip()
            shown = f": {line if len(line) <= 80 else line[:77] + '...'!r}"
        raise TemplateError(
            name,
            origin,
            None,
            f"rendered invalid Python ({error.msg} at line {error.lineno} of the output{shown})",
        ) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise TemplateError(name, origin, None, f"rendered invalid Python ({error})") from None


# --- loading workspace templates ---------------------------------------------------------------


class _Refused(jinja2.TemplateError):
    """A workspace template file that may not be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_NO_FOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class _WorkspaceLoader(jinja2.BaseLoader):
    """Loads regular files inside one workspace's ``.ark/templates/``, and nothing else."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        """The template's text and path; TemplateNotFound only when nothing is there."""
        parts = template.split("/")
        if any(part in ("", ".", "..") or "\\" in part for part in parts):
            raise _Refused(f"{template!r} is not a path inside {WORKSPACE_TEMPLATES}")
        where = [*WORKSPACE_TEMPLATES.parts, *parts]
        path = self.root.joinpath(*where)
        with contextlib.ExitStack() as opened:
            try:
                folder = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as error:
                raise _Refused(f"cannot open the workspace ({error.strerror})") from None
            opened.callback(os.close, folder)
            for depth, part in enumerate(where):
                last = depth == len(where) - 1
                flags = os.O_RDONLY | _NO_FOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
                try:
                    descriptor = os.open(part, flags, dir_fd=folder)
                except FileNotFoundError:
                    raise jinja2.TemplateNotFound(template) from None
                except OSError:  # a link (ELOOP), a file where a folder should be, unreadable
                    raise _Refused(_not_regular(template)) from None
                opened.callback(os.close, descriptor)
                folder = descriptor
            status = os.fstat(folder)
            if not stat.S_ISREG(status.st_mode):
                raise _Refused(_not_regular(template))
            if status.st_size > MAX_TEMPLATE_BYTES:
                raise _Refused(f"{template} is larger than {_size(MAX_TEMPLATE_BYTES)}")
            try:
                data = os.read(folder, MAX_TEMPLATE_BYTES + 1)
            except OSError as error:
                raise _Refused(f"cannot read {template} ({error.strerror})") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(f"{template} is not UTF-8 text") from None
        identity = _identity(status)

        def uptodate() -> bool:
            # Anything else at that path (another file, a link put there) loads anew, checked.
            try:
                return _identity(os.stat(path, follow_symlinks=False)) == identity
            except OSError:
                return False

        return text, str(path), uptodate


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _not_regular(template: str) -> str:
    return (
        f"{template} is not a regular file inside {WORKSPACE_TEMPLATES} (a link, or a special file)"
    )


_ENVIRONMENTS: dict[Path, jinja2.Environment] = {}
"""The worker's environments, one per workspace, so a template compiles once while unchanged."""


def _workspace_environment(root: Path) -> jinja2.Environment:
    environment = _ENVIRONMENTS.get(root)
    if environment is None:
        if len(_ENVIRONMENTS) >= 8:
            _ENVIRONMENTS.clear()
        # A workspace template may include or extend a built-in one.
        loader = jinja2.ChoiceLoader([_WorkspaceLoader(root), _BUILTIN_LOADER])
        environment = _environment(jinja2.sandbox.SandboxedEnvironment, loader)
        _ENVIRONMENTS[root] = environment
    return environment


# --- the rendering worker ----------------------------------------------------------------------

_LENGTH = struct.Struct(">Q")
_READY = b"ready\n"
_MAX_REPLY = 8 * MAX_OUTPUT
"""A reply is JSON of at most MAX_OUTPUT characters: escapes make it at most 6 times longer."""


class _RenderWorker:
    """The process workspace templates render in; killed and replaced when one overruns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def render(
        self, root: Path, name: str, origin: str, context: Mapping[str, Any], style: Style
    ) -> str:
        """Render ``name`` from ``root``'s templates in the worker; TemplateError if it fails."""
        request = {
            "root": str(root),
            "name": name,
            "origin": origin,
            "context": dict(context),
            "style": style,
        }
        try:
            payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise TemplateError(name, origin, None, f"cannot pass the context: {error}") from None
        with self._lock:
            process = self._ready(name, origin)
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(_LENGTH.pack(len(payload)) + payload)
                process.stdin.flush()
                reply = _read_line(process.stdout, time.monotonic() + RENDER_SECONDS)
            except TimeoutError:
                self._stop()
                reason = f"rendering took longer than {RENDER_SECONDS:g} s"
                raise TemplateError(name, origin, None, reason) from None
            except (OSError, ValueError, EOFError) as error:
                # The worker died (its memory limit, a signal) or wrote nonsense.
                detail = self._stop() or str(error) or type(error).__name__
                raise TemplateError(name, origin, None, f"rendering failed: {detail}") from None
        try:
            answer = json.loads(reply)
            if "text" in answer:
                return str(answer["text"])
            failed = answer["error"]
            template, line, reason = failed["template"], failed["line"], failed["reason"]
        except (ValueError, KeyError, TypeError):
            raise TemplateError(
                name, origin, None, "the rendering worker answered nonsense"
            ) from None
        raise TemplateError(
            str(template), origin, line if isinstance(line, int) else None, str(reason)
        )

    def _ready(self, name: str, origin: str) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        if not sys.executable:
            raise TemplateError(name, origin, None, "no Python interpreter to render in")
        # Kept open for the worker's life: its last words explain a death.
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        # -P: the worker's imports never come from the current folder (a workspace).
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-c", "from ark_lsp.generate.templating import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            close_fds=True,
        )
        assert self._process.stdout is not None
        try:
            greeting = _read_line(self._process.stdout, time.monotonic() + WORKER_START_SECONDS)
        except (TimeoutError, OSError, EOFError):
            greeting = b""
        if greeting != _READY:
            detail = self._stop() or "it did not answer"
            reason = f"the rendering worker did not start: {detail}"
            raise TemplateError(name, origin, None, reason)
        return self._process

    def _stop(self) -> str:
        """End the worker, if any; what it last wrote on stderr, for the error message."""
        process, self._process = self._process, None
        said = ""
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self._errors is not None:
            with contextlib.suppress(OSError):
                self._errors.seek(0)
                lines = self._errors.read()[-2000:].decode("utf-8", "replace").splitlines()
                said = lines[-1].strip() if lines else ""
            self._errors.close()
            self._errors = None
        return said

    def close(self) -> None:
        """End the worker, at exit."""
        with self._lock:
            self._stop()


def _read_line(stream: IO[bytes], deadline: float) -> bytes:
    """One newline-ended line from a pipe by ``deadline``, at most :data:`_MAX_REPLY` long."""
    descriptor = stream.fileno()
    received = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError
            chunk = os.read(descriptor, 1024 * 1024)
            if not chunk:
                raise EOFError("the rendering worker exited")
            received += chunk
            if received.endswith(b"\n"):
                return bytes(received)
            if len(received) > _MAX_REPLY:
                raise ValueError("the rendering worker answered too much")


_WORKER = _RenderWorker()
atexit.register(_WORKER.close)


def serve() -> None:
    """The worker's loop: read a render request from stdin, answer one JSON line on stdout.

    Runs in its own process (see the module docstring); a request is
    ``length + pickle`` from ARK itself, the answer is data.
    """
    _limit_memory()
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    answers.write(_READY)
    answers.flush()
    while True:
        header = requests.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return  # ARK closed the pipe: it is done, or gone
        request = pickle.loads(requests.read(_LENGTH.unpack(header)[0]))
        # A render that outlives ARK (killed mid-render) ends here instead.
        _limit_cpu(RENDER_SECONDS + 2)
        answer: dict[str, Any]
        try:
            text = _render(
                _workspace_environment(Path(request["root"])),
                request["name"],
                request["origin"],
                {**request["context"], "style": request["style"]},
                max_output=MAX_OUTPUT,
            )
            answer = {"text": text}
        except TemplateError as error:
            answer = {
                "error": {"template": error.template, "line": error.line, "reason": error.reason}
            }
        except Exception as error:  # loading or compiling failed in a way Jinja does not name
            reason = f"{type(error).__name__}: {error}"
            answer = {"error": {"template": request["name"], "line": None, "reason": reason}}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + WORKER_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: the time limit still holds


def _limit_cpu(seconds: float) -> None:
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(used.ru_utime + used.ru_stime + seconds)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, OSError, ValueError):
        pass


__all__ = [
    "MAX_OUTPUT",
    "RENDER_SECONDS",
    "TEMPLATE_NAMES",
    "WORKSPACE_TEMPLATES",
    "Rendered",
    "TemplateError",
    "Templates",
    "check_python",
]
