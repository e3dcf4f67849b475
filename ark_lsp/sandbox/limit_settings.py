"""Which setting raises each limit of the sandbox: the one table every message about one reads.

A run a limit killed is reported by ``ark run`` and ``ark test`` (which
have command-line options), by the editor (whose settings are the top
layer, over the workspace's), by ``ark history`` and by the quality gate;
each says how to raise the limit from this table, so a message never names a
setting that would not have helped. Runs of code (``ark run``, a function,
the characterization tests' runs) and runs of a whole test suite (``ark
test``, the gate's runs of the tests) have a wall-clock limit and a memory
limit each: ``timeout`` and ``suite-timeout``, ``memory`` and
``suite-memory``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ark_lsp.sandbox.models import KilledBy

SANDBOX_TABLE = "[tool.ark.sandbox]"
EDITOR_PREFIX = "ark.sandbox."
"""The editor's settings are ``ark.`` and the camelCase of the ``[tool.ark]`` keys."""


@dataclass(frozen=True)
class LimitSetting:
    """What raises one limit: its key in ``[tool.ark.sandbox]`` and its command-line option."""

    key: str
    """The key, as ``pyproject.toml`` spells it."""
    option: str | None = None
    """The option of ``ark run`` and ``ark test`` that sets it for one command, if any."""
    suite_key: str | None = None
    """The key that sets it for runs of a test suite, where that is another one."""

    def setting(self, *, suite: bool) -> str:
        """The key that raises the limit of a run of code, or of a suite when ``suite``."""
        return (self.suite_key or self.key) if suite else self.key


LIMIT_SETTINGS: Mapping[KilledBy, LimitSetting] = MappingProxyType(
    {
        KilledBy.TIMEOUT: LimitSetting("timeout", "--timeout", suite_key="suite-timeout"),
        KilledBy.MEMORY: LimitSetting("memory", "--memory", suite_key="suite-memory"),
        KilledBy.PIDS: LimitSetting("pids"),
    }
)


def editor_setting(key: str) -> str:
    """The editor's name of a ``[tool.ark.sandbox]`` key (``ark.sandbox.suiteTimeout``)."""
    first, *rest = key.split("-")
    return EDITOR_PREFIX + first + "".join(word.capitalize() for word in rest)


def how_to_raise(
    killed: KilledBy, *, suite: bool, options: bool = False, editor: bool = False
) -> str | None:
    """How to raise the limit that ``killed`` the run, or None when no limit did.

    ``suite`` says the run was a test suite's; ``options`` that the command
    that ran it takes the limits as options too (``ark run``, ``ark test``);
    ``editor`` that the editor ran it, whose setting overrides the workspace's.
    """
    limit = LIMIT_SETTINGS.get(killed)
    if limit is None:
        return None
    key = limit.setting(suite=suite)
    where = f"`{key}` in {SANDBOX_TABLE}"
    if options and limit.option:
        return f"raise it with {limit.option} or {where}"
    if editor:
        return f"raise `{editor_setting(key)}` in the editor's settings or {where}"
    return f"raise {where}"


__all__ = ["LIMIT_SETTINGS", "LimitSetting", "editor_setting", "how_to_raise"]
