"""Security rules as data, and the lookup tables the walk matches them with.

A rule is a row: what to look for (``kind`` and ``pattern``), how bad it is
and which tiers it applies to. Most rules need nothing else: a ``call`` rule
names the callee by qualified name (``builtins.eval``, ``os.system``,
``subprocess.*``), which the collector resolves through the module's
imports, so matching costs a dict lookup per call. The few checks a pattern
cannot express are named by ``condition`` and implemented once, here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ark_lsp.models import Severity, Tier

SYNTAX_ERROR = "ARK000"
UNCHECKED_FILE = "ARK090"
"""A file ARK did not read (larger than ``max-file-size``): nothing in it was checked."""
FORBIDDEN_IMPORTS = "forbidden-imports"
"""Pattern of the import rule that applies each tier's ``forbidden_imports``."""

DOCS_URL = "https://ark-lsp.dev/rules/{rule}"
"""Where each rule's documentation lives (``{rule}`` is its id)."""


class RuleKind(enum.StrEnum):
    """What a rule's pattern is matched against."""

    CALL = "call"
    CALL_KWARG = "call-kwarg"
    IMPORT = "import"
    STATEMENT = "statement"


class Condition(enum.StrEnum):
    """Checks beyond the pattern, for the rules that need code."""

    NON_LITERAL_NAME = "non-literal-name"
    """The attribute name (second argument) is not a string literal."""
    SHELL_PROGRAM = "shell-program"
    """The program run (first or second argument) is a shell."""
    NON_LITERAL_MODULE = "non-literal-module"
    """The module name (first argument, or ``name=``) is not a string literal."""


@dataclass(frozen=True)
class Rule:
    """One rule of the validator."""

    id: str
    name: str
    description: str
    severity: Severity
    kind: RuleKind
    pattern: str
    """Qualified callee (``*`` ends a prefix), module, or statement name."""
    message: str
    keyword: str | None = None
    """For ``call-kwarg``: the keyword whose truthy literal value triggers the rule."""
    condition: Condition | None = None
    tiers: tuple[Tier, ...] = ()
    """Tiers the rule applies to; empty means every tier."""
    enabled: bool = True
    fix: str | None = None
    """What to do about it, in words."""
    builtin: bool = True

    def applies_to(self, tier: Tier) -> bool:
        """Whether the rule is checked in files of ``tier``."""
        return self.enabled and (not self.tiers or tier in self.tiers)


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "cmd", "cmd.exe"})

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "ARK000",
        "syntax-error",
        "The file cannot be parsed (nothing else in it is checked), or Python's compiler "
        "refuses it (a return outside a function, a duplicate argument): it cannot run.",
        Severity.ERROR,
        RuleKind.STATEMENT,
        "syntax-error",
        "syntax error",
        fix="Correct the syntax at the position shown.",
    ),
    Rule(
        "ARK001",
        "eval",
        "eval() runs arbitrary expressions given as text.",
        Severity.ERROR,
        RuleKind.CALL,
        "builtins.eval",
        "eval() evaluates arbitrary code",
        fix="Parse literals with ast.literal_eval(); dispatch on values, never evaluate code.",
    ),
    Rule(
        "ARK002",
        "exec",
        "exec() runs arbitrary statements given as text.",
        Severity.ERROR,
        RuleKind.CALL,
        "builtins.exec",
        "exec() executes arbitrary code",
        fix="Call the code directly, or look the behaviour up in a table of functions.",
    ),
    Rule(
        "ARK003",
        "compile",
        "compile() turns text into code objects that can then be run.",
        Severity.ERROR,
        RuleKind.CALL,
        "builtins.compile",
        "compile() builds code from text",
        fix="Parse with ast.parse() if the tree is all you need; never run compiled input.",
    ),
    Rule(
        "ARK004",
        "os-system",
        "os.system() and os.popen() hand their argument to a shell.",
        Severity.ERROR,
        RuleKind.CALL,
        "os.system",
        "os.system() runs its argument in a shell",
        fix="Use subprocess.run([...], check=False) with an argument list.",
    ),
    Rule(
        "ARK004",
        "os-popen",
        "os.system() and os.popen() hand their argument to a shell.",
        Severity.ERROR,
        RuleKind.CALL,
        "os.popen",
        "os.popen() runs its argument in a shell",
        fix="Use subprocess.run([...], capture_output=True, check=False) with an argument list.",
    ),
    Rule(
        "ARK004",
        "os-spawn-shell",
        "os.spawn*() and os.exec*() started with a shell program.",
        Severity.ERROR,
        RuleKind.CALL,
        "os.spawn*",
        "os.spawn*() starts a shell",
        condition=Condition.SHELL_PROGRAM,
        fix="Run the program itself with an argument list, not through a shell.",
    ),
    Rule(
        "ARK004",
        "os-exec-shell",
        "os.spawn*() and os.exec*() started with a shell program.",
        Severity.ERROR,
        RuleKind.CALL,
        "os.exec*",
        "os.exec*() starts a shell",
        condition=Condition.SHELL_PROGRAM,
        fix="Run the program itself with an argument list, not through a shell.",
    ),
    *(
        Rule(
            "ARK004",
            name,
            "These functions always hand their command to a shell.",
            Severity.ERROR,
            RuleKind.CALL,
            callee,
            f"{callee.rpartition('.')[2]}() runs its command in a shell",
            fix=replacement,
        )
        for name, callee, replacement in (
            (
                "subprocess-getoutput",
                "subprocess.getoutput",
                "Use subprocess.run([...], capture_output=True, text=True).stdout.",
            ),
            (
                "subprocess-getstatusoutput",
                "subprocess.getstatusoutput",
                "Use subprocess.run([...], capture_output=True, text=True) and its returncode.",
            ),
            (
                "asyncio-shell",
                "asyncio.create_subprocess_shell",
                "Use asyncio.create_subprocess_exec() with an argument list.",
            ),
        )
    ),
    *(
        Rule(
            "ARK004",
            name,
            "Python 2's shell family (os.popen2/3/4, the popen2 and commands modules) hands "
            "its command to a shell; code that still supports Python 2 calls it.",
            Severity.ERROR,
            RuleKind.CALL,
            callee,
            f"{callee}() runs its command in a shell",
            fix="Use subprocess.run([...], capture_output=True, check=False) with an argument "
            "list (subprocess.Popen for a process to talk to).",
        )
        for name, callee in (
            ("os-popen2", "os.popen2"),
            ("os-popen3", "os.popen3"),
            ("os-popen4", "os.popen4"),
            ("popen2-popen2", "popen2.popen2"),
            ("popen2-popen3", "popen2.popen3"),
            ("popen2-popen4", "popen2.popen4"),
            ("popen2-class-popen3", "popen2.Popen3"),
            ("popen2-class-popen4", "popen2.Popen4"),
            ("commands-getoutput", "commands.getoutput"),
            ("commands-getstatusoutput", "commands.getstatusoutput"),
        )
    ),
    Rule(
        "ARK005",
        "subprocess-shell",
        "A subprocess call with shell=True runs its command in a shell.",
        Severity.ERROR,
        RuleKind.CALL_KWARG,
        "subprocess.*",
        "subprocess call with shell=True runs its command in a shell",
        keyword="shell",
        fix="Pass the command as an argument list with shell=False.",
    ),
    Rule(
        "ARK006",
        "dunder-import",
        "__import__() imports a module named at run time. With a literal name "
        '(__import__("pydoc"), a lazy import) it imports what the text says and is not '
        "flagged.",
        Severity.ERROR,
        RuleKind.CALL,
        "builtins.__import__",
        "__import__() imports a module chosen at run time",
        condition=Condition.NON_LITERAL_MODULE,
        fix="Import the module statically, or choose among known modules from a table.",
    ),
    Rule(
        "ARK010",
        "forbidden-import",
        "The file's trust tier forbids importing this module.",
        Severity.ERROR,
        RuleKind.IMPORT,
        FORBIDDEN_IMPORTS,
        "import forbidden in this tier",
        fix="Move the code to a more trusted tier, or do without the module.",
    ),
    Rule(
        "ARK020",
        "global-statement",
        "A global statement makes functions rebind module state.",
        Severity.WARNING,
        RuleKind.STATEMENT,
        "global",
        "global statement rebinds module state",
        fix="Pass the value in and return it, or keep the state on an object.",
    ),
    Rule(
        "ARK021",
        "dynamic-setattr",
        "setattr()/delattr() with a computed attribute name.",
        Severity.WARNING,
        RuleKind.CALL,
        "builtins.setattr",
        "setattr() with a non-literal attribute name",
        condition=Condition.NON_LITERAL_NAME,
        fix="Assign the attribute directly, or check the name against an allow-list.",
    ),
    Rule(
        "ARK021",
        "dynamic-delattr",
        "setattr()/delattr() with a computed attribute name.",
        Severity.WARNING,
        RuleKind.CALL,
        "builtins.delattr",
        "delattr() with a non-literal attribute name",
        condition=Condition.NON_LITERAL_NAME,
        fix="Delete the attribute directly, or check the name against an allow-list.",
    ),
    Rule(
        "ARK022",
        "wildcard-import",
        "A wildcard import binds names nobody can see.",
        Severity.WARNING,
        RuleKind.STATEMENT,
        "wildcard-import",
        "wildcard import hides what it binds",
        fix="Import the names you use explicitly.",
    ),
    Rule(
        UNCHECKED_FILE,
        "file-not-checked",
        "The file is larger than max-file-size, so ARK did not read it: nothing in it was "
        "checked. `ark check` fails on it unless the rule is ignored for the file.",
        Severity.WARNING,
        RuleKind.STATEMENT,
        "file-too-large",
        "not checked: larger than max-file-size",
        fix="Raise max-file-size in [tool.ark] to check the file, or ignore ARK090 for it "
        "(per-file-ignores) if it needs no checking.",
    ),
)

DEFAULT_FORBIDDEN_IMPORTS: dict[Tier, tuple[str, ...]] = {
    Tier.SANDBOX: (
        "os",
        "sys",
        "subprocess",
        "socket",
        "shutil",
        "ctypes",
        "importlib",
        "pickle",
        "marshal",
        "builtins",
        "multiprocessing",
        "signal",
        "pty",
        "asyncio.subprocess",
    ),
    Tier.TESTING: (),
    Tier.TRUSTED: (),
    Tier.CORE: (),
}


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, compiled into the lookups the collector uses."""

    rules: tuple[Rule, ...] = DEFAULT_RULES
    forbidden_imports: dict[Tier, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_FORBIDDEN_IMPORTS)
    )
    calls: dict[str, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)
    call_prefixes: tuple[tuple[str, Rule], ...] = field(init=False, repr=False, compare=False)
    statements: dict[str, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)
    imports: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    builtin_callees: frozenset[str] | None = field(init=False, repr=False, compare=False)
    """Builtins some call rule names; ``None`` when a pattern covers them all."""

    def __post_init__(self) -> None:
        calls: dict[str, list[Rule]] = {}
        prefixes: list[tuple[str, Rule]] = []
        statements: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if not rule.enabled:
                continue
            if rule.kind in (RuleKind.CALL, RuleKind.CALL_KWARG):
                if rule.pattern.endswith("*"):
                    prefixes.append((rule.pattern[:-1], rule))
                else:
                    calls.setdefault(rule.pattern, []).append(rule)
            elif rule.kind is RuleKind.STATEMENT:
                statements.setdefault(rule.pattern, []).append(rule)
        object.__setattr__(self, "calls", {k: tuple(v) for k, v in calls.items()})
        object.__setattr__(self, "call_prefixes", tuple(prefixes))
        object.__setattr__(self, "statements", {k: tuple(v) for k, v in statements.items()})
        imports = tuple(r for r in self.rules if r.enabled and r.kind is RuleKind.IMPORT)
        object.__setattr__(self, "imports", imports)
        covers_all = any(
            "builtins.".startswith(prefix) or prefix.startswith("builtins.")
            for prefix, _ in prefixes
        )
        builtins = frozenset(
            pattern.removeprefix("builtins.")
            for pattern in calls
            if pattern.startswith("builtins.")
        )
        object.__setattr__(self, "builtin_callees", None if covers_all else builtins)

    def for_call(self, qualified: str) -> Iterable[Rule]:
        """Rules whose pattern matches a resolved callee."""
        yield from self.calls.get(qualified, ())
        for prefix, rule in self.call_prefixes:
            if qualified.startswith(prefix):
                yield rule

    def only(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> RuleSet:
        """The same rules, less those not selected or ignored (ids or id prefixes).

        ARK000 stays: a file that does not parse has nothing else to say.
        ARK090 stays unless ignored: selecting other rules does not make a
        file that was not read a file that was checked.
        """
        selected, ignored = tuple(select), tuple(ignore)
        if not selected and not ignored:
            return self

        def keep(rule: Rule) -> bool:
            if rule.id == SYNTAX_ERROR:
                return True
            if rule.id == UNCHECKED_FILE:
                return not rule.id.startswith(ignored)
            return (not selected or rule.id.startswith(selected)) and not rule.id.startswith(
                ignored
            )

        rules = tuple(rule if keep(rule) else replace(rule, enabled=False) for rule in self.rules)
        return RuleSet(rules=rules, forbidden_imports=self.forbidden_imports)


def with_current_built_ins(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """``rules`` with each built-in rule as this ARK defines it, switched on or off as it was.

    A database keeps the rule pack of the ARK that seeded it: a built-in
    rule that a newer ARK revised (ARK006 no longer flags a literal module
    name) is checked as revised. Of a built-in rule, only whether it is on
    is the user's to change.
    """
    current = {rule.name: rule for rule in DEFAULT_RULES}
    revised = []
    for rule in rules:
        definition = current.get(rule.name) if rule.builtin else None
        revised.append(rule if definition is None else replace(definition, enabled=rule.enabled))
    return tuple(revised)


def user_rule(raw: Mapping[str, Any]) -> Rule:
    """A workspace's own rule from its fields (``[[tool.ark.rules]]``, ``ark rules add``).

    Raises :class:`ValueError` naming what is missing or wrong, in the
    words the user writes it with.
    """
    try:
        rule_id, pattern, kind_text = str(raw["id"]), str(raw["pattern"]), raw["kind"]
    except KeyError as missing:
        raise ValueError(f"{missing} is required") from None
    kind = _one_of("kind", kind_text, _USER_KINDS)
    if kind is RuleKind.CALL_KWARG and not raw.get("keyword"):
        raise ValueError("a call-kwarg rule needs a keyword")
    message = str(raw.get("message", f"{pattern} is not allowed here"))
    return Rule(
        id=rule_id,
        name=str(raw.get("name", rule_id.lower())),
        description=str(raw.get("description", message)),
        severity=_one_of("severity", raw.get("severity", "error"), tuple(Severity)),
        kind=kind,
        pattern=pattern,
        message=message,
        keyword=raw.get("keyword"),
        tiers=tuple(_one_of("tiers", tier, tuple(Tier)) for tier in raw.get("tiers", ())),
        fix=raw.get("fix"),
        builtin=False,
    )


_USER_KINDS = (RuleKind.CALL, RuleKind.CALL_KWARG, RuleKind.IMPORT)
"""What a rule of the user's own can match; statements need code."""

_Choice = TypeVar("_Choice", bound=enum.StrEnum)


def _one_of(field_name: str, value: object, choices: tuple[_Choice, ...]) -> _Choice:
    for choice in choices:
        if value == choice.value:
            return choice
    words = [choice.value for choice in choices]
    either = f"{', '.join(words[:-1])} or {words[-1]}"
    raise ValueError(f"{field_name}: {value!r} is not {either}")


def import_is_forbidden(module: str, forbidden: Iterable[str]) -> str | None:
    """The forbidden module that ``module`` is, or is inside of."""
    for banned in forbidden:
        if module == banned or module.startswith(banned + "."):
            return banned
    return None


def names_a_rule(prefix: str, known: Iterable[str]) -> bool:
    """Whether some rule id in ``known`` is ``prefix`` or starts with it (``ARK0``: yes)."""
    return any(rule_id.startswith(prefix) for rule_id in known)


def unknown_rule_id(prefix: str, known: Iterable[str], *, exact: bool = False) -> str | None:
    """Why ``prefix`` selects nothing, naming the nearest id there is; None when it names a rule.

    ``no rule ARK999 (did you mean ARK090?)``; case aside, ``ark001`` is
    close to ``ARK001`` and said so. ``exact``: a whole id is wanted, not a prefix.
    """
    ids = sorted(set(known))
    if prefix in ids or (not exact and names_a_rule(prefix, ids)):
        return None
    starting = [rule_id for rule_id in ids if rule_id.startswith(prefix)]
    if starting:  # a prefix where a whole id is wanted
        return f"no rule {prefix} (a whole id is wanted, such as {starting[0]})"
    nearest = _nearest(prefix.upper(), ids)
    hint = f" (did you mean {nearest}?)" if nearest else ""
    return f"no rule {prefix}{hint}"


def _nearest(wanted: str, ids: Iterable[str]) -> str | None:
    """The id most like ``wanted`` (case aside), the longer common start breaking ties."""
    import difflib  # only for an id that is wrong, not at every start

    def likeness(rule_id: str) -> tuple[float, int]:
        upper = rule_id.upper()
        ratio = difflib.SequenceMatcher(None, wanted, upper).ratio()
        shared = 0
        while shared < min(len(wanted), len(upper)) and wanted[shared] == upper[shared]:
            shared += 1
        return ratio, shared

    scored = [(likeness(rule_id), rule_id) for rule_id in ids]
    best = max(scored, key=lambda pair: pair[0], default=None)
    return best[1] if best is not None and best[0][0] >= 0.5 else None
