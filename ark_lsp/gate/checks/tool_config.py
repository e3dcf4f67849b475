"""ARK's own configuration files for mypy and pylint, carrying over the base's safe options.

The gate never lets a tool read a repository's configuration: mypy's
``plugins``, pylint's ``init-hook``, ``load-plugins`` and
``extension-pkg-allow-list`` execute code. What a project decided about
strictness is still worth keeping, so the options that only say what to
report (``strict``, ``disallow_untyped_defs``, ``disable``,
``max-line-length``, per-module ``ignore_errors``...) are read from the
*base* commit's configuration, each value checked against what it may be,
and written into a file of ARK's making. Anything not on these lists is left
out: options that load or run code, name paths, write reports, or hold
regular expressions (pylint compiles them with Python's backtracking ``re``).
"""

from __future__ import annotations

import configparser
import fnmatch
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ark_lsp.gate.tree_files import ini_sections, toml_tables, tool_table

# --- mypy ---------------------------------------------------------------------------------------

_MYPY_MODULE_FLAGS = frozenset({
    "allow_redefinition", "allow_untyped_globals", "check_untyped_defs",
    "disallow_any_decorated", "disallow_any_explicit", "disallow_any_expr",
    "disallow_any_generics", "disallow_any_unimported", "disallow_incomplete_defs",
    "disallow_subclassing_any", "disallow_untyped_calls", "disallow_untyped_decorators",
    "disallow_untyped_defs", "extra_checks", "follow_untyped_imports", "ignore_errors",
    "ignore_missing_imports", "implicit_optional", "implicit_reexport", "local_partial_types",
    "strict_bytes", "strict_equality", "strict_optional", "warn_no_return", "warn_return_any",
    "warn_unreachable", "warn_unused_ignores",
})  # fmt: skip
"""Flags that say what to report, per module or for all."""

_MYPY_GLOBAL_FLAGS = _MYPY_MODULE_FLAGS | frozenset({
    "allow_redefinition_new", "disable_bytearray_promotion", "disable_memoryview_promotion",
    "explicit_package_bases", "namespace_packages", "strict", "warn_redundant_casts",
})  # fmt: skip

_MYPY_LISTS = frozenset({"always_false", "always_true", "disable_error_code", "enable_error_code"})

_MYPY_FORCED = {"ignore_missing_imports": "True"}
"""The gate checks without the project's environment (``--no-site-packages``): a third-party
import missing is no fault of the change."""

_MYPY_FILES = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")
"""Where mypy looks for its configuration, in its own order."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_WORD = re.compile(r"[A-Za-z0-9_-]+")
_MODULE_PATTERN = re.compile(r"[A-Za-z0-9_.*]+")
_PYTHON_VERSION = re.compile(r"3\.\d{1,2}")


def mypy_config(base: Path) -> str:
    """The text of ARK's mypy configuration (INI) for a change whose base tree is ``base``."""
    options, overrides = _base_mypy_options(base)
    parser = configparser.ConfigParser(interpolation=None)
    parser["mypy"] = {**options, **_MYPY_FORCED}
    for patterns, module_options in overrides:
        section = f"mypy-{','.join(patterns)}"
        if not parser.has_section(section):
            parser.add_section(section)
        parser[section].update(module_options)
    return _ini_text(parser)


def annotations_required(tree: Path, module: str) -> bool:
    """Whether mypy, configured as in ``tree``, reports a function of ``module`` left unannotated.

    ``disallow_untyped_defs`` (or ``strict``) for all modules, unless an
    override for the module turns it off or ignores the module's errors;
    overrides apply in the order written.
    """
    options, overrides = _base_mypy_options(tree)
    required = options.get("disallow_untyped_defs", options.get("strict")) == "True"
    ignored = options.get("ignore_errors") == "True"
    for patterns, module_options in overrides:
        if any(_names_module(pattern, module) for pattern in patterns):
            required = module_options.get("disallow_untyped_defs", str(required)) == "True"
            ignored = module_options.get("ignore_errors", str(ignored)) == "True"
    return required and not ignored


def _names_module(pattern: str, module: str) -> bool:
    """Whether a mypy override's module pattern (``pkg.*``, ``a.*.b``) covers ``module``."""
    if pattern.endswith(".*") and module == pattern[:-2]:
        return True
    return fnmatch.fnmatchcase(module, pattern)


def _base_mypy_options(
    base: Path,
) -> tuple[dict[str, str], list[tuple[list[str], dict[str, str]]]]:
    """The safe global and per-module options of the base's mypy configuration."""
    for name in _MYPY_FILES:
        if name == "pyproject.toml":
            section = tool_table(toml_tables(base, name), "mypy")
            if isinstance(section, dict):
                return _mypy_from_toml(section)
            continue
        parser = ini_sections(base, name)
        if parser is None or (name == "setup.cfg" and not parser.has_section("mypy")):
            continue
        return _mypy_from_ini(parser)
    return {}, []


def _mypy_from_toml(
    section: Mapping[str, Any],
) -> tuple[dict[str, str], list[tuple[list[str], dict[str, str]]]]:
    overrides: list[tuple[list[str], dict[str, str]]] = []
    for override in section.get("overrides", ()):
        if not isinstance(override, dict):
            continue
        module = override.get("module")
        modules = [module] if isinstance(module, str) else module
        patterns = _module_patterns(modules if isinstance(modules, list) else [])
        if patterns:
            overrides.append((patterns, _mypy_options(override, _MYPY_MODULE_FLAGS)))
    return _mypy_options(section, _MYPY_GLOBAL_FLAGS), overrides


def _mypy_from_ini(
    parser: configparser.ConfigParser,
) -> tuple[dict[str, str], list[tuple[list[str], dict[str, str]]]]:
    options = _mypy_options(parser["mypy"], _MYPY_GLOBAL_FLAGS) if "mypy" in parser else {}
    overrides: list[tuple[list[str], dict[str, str]]] = []
    for name in parser.sections():
        if name.startswith("mypy-"):
            patterns = _module_patterns(name.removeprefix("mypy-").split(","))
            if patterns:
                overrides.append((patterns, _mypy_options(parser[name], _MYPY_MODULE_FLAGS)))
    return options, overrides


def _module_patterns(values: Iterable[object]) -> list[str]:
    """Module patterns (``pkg.*``) that are nothing else: they become INI section names."""
    patterns = [value.strip() for value in values if isinstance(value, str)]
    return patterns if patterns and all(_MODULE_PATTERN.fullmatch(p) for p in patterns) else []


def _mypy_options(section: Mapping[str, Any], flags: frozenset[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for raw_key, value in section.items():
        key = raw_key.replace("-", "_")
        text: str | None = None
        if key in flags:
            text = _flag(value)
        elif key in _MYPY_LISTS:
            text = _words(value, ", ")
        elif key == "python_version":
            version = str(value).strip()
            text = version if _PYTHON_VERSION.fullmatch(version) else None
        elif key == "follow_imports":
            text = value if value in ("normal", "silent", "skip", "error") else None
        if text is not None:
            options[key] = text
    return options


# --- pylint -------------------------------------------------------------------------------------

_PYLINT_NUMBERS = frozenset({
    "docstring-min-length", "limit-inference-results", "max-args", "max-attributes",
    "max-bool-expr", "max-branches", "max-line-length", "max-locals", "max-module-lines",
    "max-nested-blocks", "max-parents", "max-positional-arguments", "max-public-methods",
    "max-returns", "max-statements", "min-public-methods", "min-similarity-lines",
})  # fmt: skip
_PYLINT_WORDS = frozenset({
    "additional-builtins", "allowed-redefined-builtins", "bad-names", "disable", "enable",
    "good-names", "ignored-classes", "ignored-modules",
})  # fmt: skip
_PYLINT_FLAGS = frozenset({
    "allow-global-unused-variables", "allow-wildcard-with-all", "analyse-fallback-blocks",
    "check-quote-consistency", "ignore-comments", "ignore-docstrings", "ignore-imports",
    "ignore-mixin-members", "ignore-none", "ignore-on-opaque-inference", "ignore-signatures",
    "init-import", "suggestion-mode",
})  # fmt: skip
_PYLINT_NAME = re.compile(r"[A-Za-z0-9_.*-]+")

_PYLINT_FORCED = {
    "load-plugins": "",
    "unsafe-load-any-extension": "no",
    "extension-pkg-allow-list": "",
    "extension-pkg-whitelist": "",
    "persistent": "no",
    "jobs": "1",
    "reports": "no",
    "score": "no",
}
"""No plugin, no C extension of the project, nothing written, one process."""

_PYLINT_FILES = (
    "pylintrc", "pylintrc.toml", ".pylintrc", ".pylintrc.toml",
    "pyproject.toml", "setup.cfg", "tox.ini",
)  # fmt: skip
"""Where pylint looks for its configuration, in its own order."""


_PYLINT_OFF = ("import-error", "no-name-in-module")
"""pylint runs without the project's environment (and the tree's modules out of the import
system): what an import finds there is ARK's, or nothing, and no fault of the change."""


def pylint_config(base: Path) -> str:
    """The text of ARK's pylint configuration (INI) for a change whose base tree is ``base``."""
    options = _base_pylint_options(base)
    disabled = [word for word in options.get("disable", "").split(",") if word]
    options["disable"] = ",".join(dict.fromkeys([*disabled, *_PYLINT_OFF]))
    if "enable" in options:
        enabled = options["enable"].split(",")
        options["enable"] = ",".join(w for w in enabled if w and w not in _PYLINT_OFF)
    parser = configparser.ConfigParser(interpolation=None)
    parser["MAIN"] = {**options, **_PYLINT_FORCED}
    return _ini_text(parser)


def _base_pylint_options(base: Path) -> dict[str, str]:
    """The safe options of the base's pylint configuration, flattened as pylint reads them."""
    for name in _PYLINT_FILES:
        if name.endswith(".toml"):
            pylint = tool_table(toml_tables(base, name), "pylint")
            if isinstance(pylint, dict):
                return _pylint_options(
                    item
                    for value in pylint.values()
                    if isinstance(value, dict)
                    for item in value.items()
                )
            continue
        parser = ini_sections(base, name)
        if parser is None:
            continue
        shared = name in ("setup.cfg", "tox.ini")  # only their pylint.* sections are pylint's
        sections = [s for s in parser.sections() if not shared or s.startswith("pylint.")]
        if sections:
            return _pylint_options(item for s in sections for item in parser[s].items())
    return {}


def _pylint_options(items: Iterable[tuple[str, Any]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for raw_key, value in items:
        key = raw_key.removeprefix("--").replace("_", "-")
        text: str | None = None
        if key in _PYLINT_NUMBERS:
            text = str(value).strip() if re.fullmatch(r"\d{1,6}", str(value).strip()) else None
        elif key in _PYLINT_WORDS:
            text = _words(value, ",", _PYLINT_NAME)
        elif key in _PYLINT_FLAGS:
            flag = _flag(value)
            text = None if flag is None else "yes" if flag == "True" else "no"
        elif key == "py-version":
            version = str(value).strip()
            text = version if re.fullmatch(r"3(\.\d{1,2})?", version) else None
        if text is not None:
            options[key] = text
    return options


# --- code style ---------------------------------------------------------------------------------

BLACK_LINE_LENGTH = 88
FLAKE8_LINE_LENGTH = 79
"""pycodestyle's limit: a ``[flake8]`` section that sets no ``max-line-length`` holds to it."""

_QUOTE_STYLES = {"single": "'", "double": '"'}


@dataclass(frozen=True)
class CodeStyle:
    """How a project's formatter and linters want its code written, where its configuration says.

    Read as data (TOML and INI), never run: a repository's settings say no more
    than this.
    """

    line_length: int = BLACK_LINE_LENGTH
    quote: str | None = None
    """``'`` or ``"`` when a formatter decides string quotes: ruff's ``format.quote-style``
    (a ``[format]`` table without it: ruff's double), black's unless
    ``skip-string-normalization``; ``None`` where the files' own habit decides."""
    single_line_imports: bool = False
    """isort's ``force-single-line``: ruff's ``lint.isort`` (or the older ``isort``) table,
    or isort's own configuration."""


def code_style(tree: Path) -> CodeStyle:
    """What ``tree``'s configuration says of line length, string quotes and imports.

    ruff's settings from the file ruff reads (``.ruff.toml``, ``ruff.toml``,
    then ``pyproject.toml``'s ``[tool.ruff]``), then black's; either
    configured without a ``line-length`` means their 88. Else flake8's
    ``max-line-length`` (``.flake8``, ``setup.cfg``, ``tox.ini``), 79 when its
    section sets none, then pylint's, then 88.
    """
    pyproject = toml_tables(tree, "pyproject.toml")
    ruff = next(
        (
            table
            for table in (
                toml_tables(tree, ".ruff.toml"),
                toml_tables(tree, "ruff.toml"),
                tool_table(pyproject, "ruff"),
            )
            if isinstance(table, dict)
        ),
        None,
    )
    black = tool_table(pyproject, "black")
    black = black if isinstance(black, dict) else None
    found = _length(ruff, "line-length") or _length(black, "line-length")
    if not found and (ruff is not None or black is not None):
        found = BLACK_LINE_LENGTH
    for name in (".flake8", "setup.cfg", "tox.ini"):
        if not found and (parser := ini_sections(tree, name)) and parser.has_section("flake8"):
            flake8 = dict(parser["flake8"])
            found = _length(flake8, "max-line-length") or FLAKE8_LINE_LENGTH
    found = found or _length(_base_pylint_options(tree), "max-line-length")
    return CodeStyle(
        line_length=found or BLACK_LINE_LENGTH,
        quote=_quote(ruff, black),
        single_line_imports=_single_line_imports(tree, ruff, pyproject),
    )


def line_length(tree: Path) -> int:
    """The line length ``tree``'s formatter or linter holds its code to (see :func:`code_style`)."""
    return code_style(tree).line_length


def _quote(ruff: dict[str, Any] | None, black: dict[str, Any] | None) -> str | None:
    """The string quote a configured formatter writes; ``None`` if none decides it."""
    formatting = (ruff or {}).get("format")
    if isinstance(formatting, dict):
        style = formatting.get("quote-style", "double")
        return _QUOTE_STYLES.get(style) if isinstance(style, str) else None
    if black is not None:
        return None if _flag(black.get("skip-string-normalization")) == "True" else '"'
    return None


def _single_line_imports(
    tree: Path, ruff: dict[str, Any] | None, pyproject: dict[str, Any] | None
) -> bool:
    """Whether ruff's isort settings, or isort's own, force one imported name a statement."""
    lint = (ruff or {}).get("lint")
    for isort in (lint.get("isort") if isinstance(lint, dict) else None, (ruff or {}).get("isort")):
        if isinstance(isort, dict) and "force-single-line" in isort:
            return _flag(isort["force-single-line"]) == "True"
    isort = tool_table(pyproject, "isort")
    if isinstance(isort, dict):
        return _flag(isort.get("force_single_line")) == "True"
    for name, section in ((".isort.cfg", "settings"), ("setup.cfg", "isort"), ("tox.ini", "isort")):
        parser = ini_sections(tree, name)
        if parser is not None and parser.has_section(section):
            return _flag(parser[section].get("force_single_line")) == "True"
    return False


def _length(table: object, key: str) -> int | None:
    """A line length from a table, when it is a plausible one."""
    value = table.get(key) if isinstance(table, dict) else None
    text = str(value).strip() if isinstance(value, int | str) else ""
    return int(text) if re.fullmatch(r"\d{2,3}", text) and int(text) >= 40 else None


# --- values -------------------------------------------------------------------------------------


def _flag(value: object) -> str | None:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return str(value.strip().lower() in _TRUE)
    return None


def _words(value: object, separator: str, shape: re.Pattern[str] = _WORD) -> str | None:
    """A list of plain words (message ids, error codes, names); ``None`` if any is more."""
    if isinstance(value, str):
        items = re.split(r"[,\s]+", value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = [part for item in value for part in re.split(r"[,\s]+", item)]
    else:
        return None
    words = [item for item in items if item]
    return separator.join(words) if all(shape.fullmatch(word) for word in words) else None


def _ini_text(parser: configparser.ConfigParser) -> str:
    buffer = io.StringIO()
    parser.write(buffer)
    return buffer.getvalue()
