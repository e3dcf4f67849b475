"""What a workspace may set only once its user trusts it, and whether it is trusted.

A workspace is a repository somebody else may have written. Its safe
settings apply at once; its privileged ones (:data:`PRIVILEGED_KEYS`, and
template overrides in ``.ark/templates/``) wait until the user trusts it
(see :mod:`ark_lsp.trust`); a few (:data:`USER_ONLY_KEYS`) no workspace
may set at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.config.options import RawOptions
from ark_lsp.config.paths import WORKSPACE_TEMPLATES
from ark_lsp.trust import TrustStore

PRIVILEGED_KEYS = frozenset({"database", "jobs", "sandbox"})
"""Settings a workspace may set only once its user trusts it.

Each decides where ARK writes, what runs on the machine and with which
limits (``sandbox`` is the whole ``[tool.ark.sandbox]`` table): a
repository that could set them could turn ARK against its user.
"""

USER_ONLY_KEYS = frozenset({"sandbox.weak_isolation"})
"""Settings no workspace may set, trusted or not: only the user's own layers."""


@dataclass(frozen=True)
class PrivilegedRequest:
    """What a workspace's own files ask for that only its user may grant."""

    settings: tuple[tuple[str, str], ...] = ()
    """``(dotted key, value as JSON)`` pairs, e.g. ``("sandbox.backend", '"local"')``."""
    templates: tuple[tuple[str, str], ...] = ()
    """``(workspace-relative path, sha256)`` of each file in ``.ark/templates/``."""

    def __bool__(self) -> bool:
        return bool(self.settings or self.templates)

    @property
    def keys(self) -> tuple[str, ...]:
        """What is asked for, as the user would look it up: ``sandbox.backend``, a template."""
        return tuple(key for key, _ in self.settings) + tuple(path for path, _ in self.templates)

    @property
    def fingerprint(self) -> str:
        """Changes whenever any privileged value or template changes."""
        text = json.dumps([self.settings, self.templates])
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TrustDecision:
    """Whether a workspace's privileged settings apply, and why."""

    trusted: bool
    reason: str
    restricted: bool = False
    """The editor keeps the folder in a restricted mode: nothing of it runs at all."""
    vouched: bool = False
    """The user said so (``ark trust``, the editor's trust), not only that nothing privileged
    is asked: what installing the workspace's dependencies on its own needs."""


_TEMPLATE_LISTING_CAP = 200
_TEMPLATE_HASH_CAP = 1024 * 1024


def _template_files(root: Path) -> tuple[tuple[str, str], ...]:
    """Each entry under ``.ark/templates/`` with a digest of what it holds.

    Bounded, and following no link: a link is listed by where it points (a
    folder linked elsewhere is not walked), a special file by its kind, a
    file too large to be a template by its size.
    """
    folder = root / WORKSPACE_TEMPLATES
    found: list[tuple[str, str]] = []
    for path in (folder.parent, folder):
        if path.is_symlink():
            return ((path.relative_to(root).as_posix(), "link:" + os.readlink(path)),)
    if not folder.is_dir():
        return ()
    for parent, folders, files in os.walk(folder):
        for name in sorted(folders + files):
            path = Path(parent) / name
            try:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    digest = "link:" + os.readlink(path)
                elif stat.S_ISDIR(info.st_mode):
                    continue
                elif not stat.S_ISREG(info.st_mode):
                    digest = f"special:{stat.S_IFMT(info.st_mode):o}"
                elif info.st_size > _TEMPLATE_HASH_CAP:
                    digest = f"size:{info.st_size}"
                else:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
            found.append((path.relative_to(root).as_posix(), digest))
            if len(found) >= _TEMPLATE_LISTING_CAP:
                return tuple(sorted(found))
    return tuple(sorted(found))


def privileged_request(root: Path, workspace: RawOptions) -> PrivilegedRequest:
    """The privileged settings a workspace's ``[tool.ark]`` and its templates ask for."""
    pairs = [
        (option.name, json.dumps(option.value, default=str, sort_keys=True))
        for option in workspace
        if option.path[0] in PRIVILEGED_KEYS
    ]
    return PrivilegedRequest(settings=tuple(sorted(pairs)), templates=_template_files(root))


def decide_trust(
    root: Path,
    request: PrivilegedRequest,
    *,
    editor_trust: bool | None = None,
    store: TrustStore | None = None,
) -> TrustDecision:
    """Whether ``root``'s privileged settings apply: the editor's word, else ``ark trust``'s."""
    if editor_trust is False:
        return TrustDecision(False, "VS Code keeps it in restricted mode", restricted=True)
    if editor_trust:
        return TrustDecision(True, "the editor trusts the folder", vouched=True)
    record = (store or TrustStore()).find(root)
    if not request:
        return TrustDecision(True, "it asks for nothing privileged", vouched=record is not None)
    if record is None:
        return TrustDecision(False, "never trusted")
    if record.fingerprint != request.fingerprint:
        return TrustDecision(
            False, f"its privileged settings changed since you trusted it on {record.trusted_at}"
        )
    return TrustDecision(True, f"trusted with `ark trust` on {record.trusted_at}", vouched=True)
