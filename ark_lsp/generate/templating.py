"""The Jinja2 templates generated code is rendered from, and their workspace overrides.

ARK ships ``function.py.j2``, ``class.py.j2``, ``module.py.j2`` and
``test.py.j2`` in this package. A workspace overrides any of them with a
file of the same name in ``.ark/templates/``; those are rendered in Jinja2's
:class:`~jinja2.sandbox.SandboxedEnvironment`, because a template found in a
checked-out repository is code somebody else wrote. Both environments use
:class:`~jinja2.StrictUndefined` (a misspelt variable is an error, not an
empty string) and no autoescaping (the output is Python, not HTML).

A template that cannot be loaded, fails to render or renders text that is
not Python raises :class:`TemplateError`, whose message names the template,
where it came from and the line.
"""

from __future__ import annotations

import ast
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2.exceptions import SecurityError

from ark_lsp.config import WORKSPACE_TEMPLATES
from ark_lsp.generate.style import Style

TEMPLATE_NAMES = ("function.py.j2", "class.py.j2", "module.py.j2", "test.py.j2")

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
    return environment


@jinja2.pass_context
def _quoted(context: jinja2.runtime.Context, text: str) -> str:
    style: Style = context["style"]
    return style.quoted(str(text))


@jinja2.pass_context
def _literal(context: jinja2.runtime.Context, source: str) -> str:
    style: Style = context["style"]
    return style.literal(str(source))


_BUILTIN_LOADER = jinja2.FileSystemLoader(_BUILTIN_FOLDER)


class Templates:
    """The templates in force for one workspace (the built-in ones where it has none)."""

    def __init__(self, root: Path | None = None) -> None:
        """Use ``root``'s ``.ark/templates/`` overrides, if any; built-ins only for ``None``."""
        self.folder = root / WORKSPACE_TEMPLATES if root is not None else None
        self._builtin = _environment(jinja2.Environment, _BUILTIN_LOADER)
        self._workspace: jinja2.Environment | None = None
        if self.folder is not None and self.folder.is_dir():
            # A workspace template may include or extend a built-in one.
            loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(self.folder), _BUILTIN_LOADER])
            self._workspace = _environment(jinja2.sandbox.SandboxedEnvironment, loader)

    def origin(self, name: str) -> str:
        """``builtin``, or the path of the workspace file that overrides ``name``."""
        if self.folder is not None and self._workspace is not None:
            candidate = self.folder / name
            if candidate.is_file():
                return str(candidate)
        return "builtin"

    def render(self, name: str, context: Mapping[str, Any], style: Style) -> Rendered:
        """Render template ``name`` and check that the output is Python.

        ``style`` is available to the template as ``style`` and through the
        ``quoted`` filter (a string literal in the file's quote style).
        """
        origin = self.origin(name)
        environment = self._builtin if origin == "builtin" else self._workspace
        assert environment is not None
        try:
            template = environment.get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateError(name, origin, None, "no such template") from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                error.name or name, origin, error.lineno, f"syntax error: {error.message}"
            ) from None
        try:
            text = template.render({**context, "style": style})
        except jinja2.TemplateError as error:
            line = _template_line(error, template.filename)
            raise TemplateError(name, origin, line, _reason(error)) from None
        except Exception as error:  # a filter or attribute raising inside the template
            line = _template_line(error, template.filename)
            raise TemplateError(name, origin, line, f"{type(error).__name__}: {error}") from None
        text = _tidy(text)
        check_python(text, name, origin)
        return Rendered(text=text, template=name, origin=origin)


def _reason(error: jinja2.TemplateError) -> str:
    if isinstance(error, jinja2.UndefinedError):
        return f"undefined variable: {error.message}"
    if isinstance(error, SecurityError):
        return f"not allowed in a workspace template: {error.message}"
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
            shown = f": {lines[error.lineno - 1].strip()!r}"
        raise TemplateError(
            name,
            origin,
            None,
            f"rendered invalid Python ({error.msg} at line {error.lineno} of the output{shown})",
        ) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise TemplateError(name, origin, None, f"rendered invalid Python ({error})") from None


__all__ = [
    "TEMPLATE_NAMES",
    "WORKSPACE_TEMPLATES",
    "Rendered",
    "TemplateError",
    "Templates",
    "check_python",
]
