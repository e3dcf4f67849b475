"""Settings layer over layer: the user's, the workspace's as far as it is trusted, the editor's.

The layers, lowest first: the defaults; the user's ``config.toml``
(:func:`ark_lsp.trust.user_config_file`); the workspace's ``[tool.ark]``;
what the editor sends. A workspace is a repository somebody else may have
written, so only its safe settings apply at once; its privileged ones
(:data:`~ark_lsp.config.privileged.PRIVILEGED_KEYS`, and template
overrides) wait until the user trusts it. The user's own layers are always
trusted. An invalid value never stops the tool: it is reported in
:attr:`LoadedSettings.problems` and the lower layer's value applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ark_lsp.config.decoding import resolve
from ark_lsp.config.options import RawOption, RawOptions, read_options
from ark_lsp.config.paths import STATE_DIR, resolves_inside
from ark_lsp.config.privileged import (
    PRIVILEGED_KEYS,
    USER_ONLY_KEYS,
    PrivilegedRequest,
    TrustDecision,
    decide_trust,
    privileged_request,
)
from ark_lsp.config.sections import Settings
from ark_lsp.files import read_contained
from ark_lsp.trust import TrustStore, user_config_file

_NO_WORKSPACE = TrustDecision(trusted=True, reason="no workspace settings")


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus what was wrong with their source, for the user to see."""

    settings: Settings
    problems: tuple[str, ...] = ()
    source: Path | None = None
    request: PrivilegedRequest = field(default_factory=PrivilegedRequest)
    """The privileged settings the workspace asks for, applied or not."""
    trust: TrustDecision = _NO_WORKSPACE
    ignored: tuple[str, ...] = ()
    """Privileged keys of the workspace left out because it is not trusted."""
    layers: tuple[RawOptions, ...] = ()
    """What each layer said, lowest first (the workspace's in full, before trust filtered it)."""

    @property
    def workspace_templates(self) -> bool:
        """Whether the workspace's ``.ark/templates/`` overrides are in force."""
        return self.trust.trusted and bool(self.request.templates)

    def ignored_note(self, root: Path) -> str | None:
        """One line saying what was ignored and how to trust the workspace, if anything was."""
        if not self.ignored:
            return None
        how = (
            "trust the folder in VS Code"
            if self.trust.restricted
            else f"review them, then run `ark trust {root}`"
        )
        return (
            f"{root} is not trusted ({self.trust.reason}): ignored its privileged settings "
            f"{', '.join(self.ignored)}; {how}"
        )


def settings_from_mapping(
    raw: Mapping[str, Any], *, base: Settings | None = None, where: str = "tool.ark"
) -> LoadedSettings:
    """Apply one layer, ``raw``, over ``base``; bad or unknown keys become problems, not errors."""
    options = read_options(raw, where)
    settings, problems = resolve(options, base or Settings())
    return LoadedSettings(
        settings=settings, problems=options.problems + problems, layers=(options,)
    )


def _read_toml(
    path: Path, within: Path | None = None
) -> tuple[Mapping[str, Any] | None, str | None]:
    """A TOML file's tables, or why it cannot be read; ``(None, None)`` when it is absent.

    ``within``: a folder the file must be a regular file inside (a workspace's).
    """
    try:
        if within is None:
            raw = path.read_bytes()
        else:
            # A repository's pyproject.toml may be a FIFO, a device or a link out of it;
            # capped at the default size, its own setting being what is read here.
            raw = read_contained(path, [within], Settings.max_file_size)
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"{path}: cannot read ({error}); using defaults"
    return _parse_toml(PyprojectText(str(path), raw))


@dataclass(frozen=True)
class PyprojectText:
    """A workspace's ``pyproject.toml`` as read from elsewhere than its root: a commit's.

    The quality gate judges a change by its base commit's settings, never by
    the working tree's or the change's own.
    """

    where: str
    """How problems name it: ``1a2b3c4:pyproject.toml``."""
    data: bytes | None
    """Its bytes; None when there is no such file (the defaults apply)."""


def _workspace_section(
    pyproject: Path, problems: list[str], text: PyprojectText | None = None
) -> Mapping[str, Any]:
    if text is None:
        data, problem = _read_toml(pyproject, within=pyproject.parent)
        where = str(pyproject)
    else:
        data, problem = _parse_toml(text)
        where = text.where
    if problem:
        problems.append(problem)
    section = (data or {}).get("tool", {}).get("ark", {})
    if not isinstance(section, Mapping):
        problems.append(f"{where}: [tool.ark] must be a table; using defaults")
        return {}
    return section


def _parse_toml(text: PyprojectText) -> tuple[Mapping[str, Any] | None, str | None]:
    if text.data is None:
        return None, None
    # Imported only when there is a file to parse: most starts have no settings file.
    import tomllib

    try:
        return tomllib.loads(text.data.decode("utf-8")), None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return None, f"{text.where}: cannot read ({error}); using defaults"


def _repository_database(root: Path, value: Any, problems: list[str]) -> bool:
    """Whether a workspace may put its index where ``value`` says: inside its own ``.ark/``."""
    if not isinstance(value, str):
        return True  # the decoder reports the type
    location = root / Path(value)  # an absolute value replaces root
    state = root / STATE_DIR
    if value.startswith("~") or not (
        resolves_inside(state, root) and resolves_inside(location, state)
    ):
        problems.append(
            f"tool.ark.database: {value!r} is outside the workspace's {STATE_DIR}/ folder; "
            "a workspace keeps its index there (set another place in your own settings)"
        )
        return False
    return True


def _as_trusted(
    root: Path, workspace: RawOptions, trust: TrustDecision, problems: list[str]
) -> RawOptions:
    """The workspace's options that apply: privileged ones only when trusted, never user-only."""

    def applies(option: RawOption) -> bool:
        if option.path[0] in PRIVILEGED_KEYS and not trust.trusted:
            return False  # said once, by LoadedSettings.ignored_note
        if option.name in USER_ONLY_KEYS:
            problems.append(
                f"{option.key}: only your own settings choose weaker isolation "
                "(your config.toml, the editor's settings, --weak-isolation); ignored"
            )
            return False
        return option.path != ("database",) or _repository_database(root, option.value, problems)

    return workspace.keeping(applies)


def load_settings(
    root: Path,
    *,
    layers: Sequence[tuple[str, Mapping[str, Any]]] = (),
    editor_trust: bool | None = None,
    store: TrustStore | None = None,
    pyproject: PyprojectText | None = None,
) -> LoadedSettings:
    """The settings in force in the workspace at ``root``, layer over layer.

    ``layers`` are the user's own (initialization options, editor settings),
    applied last, as ``(where, table)`` pairs. ``editor_trust`` is the
    editor's word on the folder (VS Code's workspace trust), when it has one.
    ``pyproject`` stands in for ``root/pyproject.toml`` (a commit's version
    of it); its privileged settings apply only as the user trusted them.
    """
    problems: list[str] = []
    read: list[RawOptions] = []
    settings = Settings()

    def apply(options: RawOptions, *before: str) -> None:
        nonlocal settings
        settings, invalid = resolve(options, settings)
        problems.extend((*before, *options.problems, *invalid))

    user_file = user_config_file()
    user_data, problem = _read_toml(user_file)
    if problem:
        problems.append(problem)
    if user_data:
        read.append(read_options(user_data, where=str(user_file)))
        apply(read[-1])

    pyproject_file = root / "pyproject.toml"
    workspace = read_options(_workspace_section(pyproject_file, problems, pyproject))
    read.append(workspace)
    request = privileged_request(root, workspace)
    trust = decide_trust(root, request, editor_trust=editor_trust, store=store)
    left_out: list[str] = []
    applied = _as_trusted(root, workspace, trust, left_out)
    apply(applied, *left_out)

    for where, raw in layers:
        if raw:
            read.append(read_options(raw, where))
            apply(read[-1])
    return LoadedSettings(
        settings=settings,
        problems=tuple(problems),
        source=pyproject_file if pyproject is None and pyproject_file.exists() else None,
        request=request,
        trust=trust,
        ignored=() if trust.trusted else request.keys,
        layers=tuple(read),
    )
