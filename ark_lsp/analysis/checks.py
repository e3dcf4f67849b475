"""Turning what the walk recorded into rule violations.

The collector notes every call whose callee is rooted in a plain name, the
names each scope binds, and the statements rules care about; this module
resolves callees to qualified names through the scopes' imports and the
module's namespace where the call runs (so ``import subprocess as sp;
sp.run`` is ``subprocess.run``, a module-level ``def eval`` is not the
builtin below it, and a name bound by alternative imports may be either),
matches them against the rule set, and drops what a ``# ark: ignore`` or
``# noqa`` comment suppresses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeGuard

from ark_lsp.analysis.fixes import FixContext, fix_for_call
from ark_lsp.models import Severity, SymbolKind, Tier, Violation
from ark_lsp.rules import (
    FORBIDDEN_IMPORTS,
    SHELLS,
    Condition,
    Rule,
    RuleKind,
    RuleSet,
    import_is_forbidden,
)

if TYPE_CHECKING:
    from ark_lsp.analysis.bindings import ModuleBindings, Position
    from ark_lsp.analysis.flow import ModuleFlow
    from ark_lsp.analysis.scopes import RecordedCall, Scope
    from ark_lsp.analysis.source import Source

_SUPPRESSION = re.compile(
    rb"#\s*(?:ark:\s*ignore(?:\[(?P<ark>[A-Za-z0-9,\s]*)\])?|noqa(?::\s*(?P<noqa>[A-Za-z0-9,\s]+))?)",
    re.IGNORECASE,
)


class Namespace(NamedTuple):
    """The module's namespace, and where in the walked statements module-level code runs."""

    bindings: ModuleBindings
    flow: ModuleFlow


def resolve_name(
    scope: Scope, identifier: str, at: Position, namespace: Namespace
) -> tuple[str, ...]:
    """What a bare name may refer to: qualified names, none if it is a variable of the code's own.

    A function's names are local wherever they are bound in it; a class's
    only once bound, so ``eval(x)`` above ``eval = ...`` in a class body
    still calls the builtin. Past the function and class scopes, the
    module's namespace answers: as it stands where module-level code runs,
    or as the module left it for a function.
    """
    current = scope
    deferred = False
    line = at[0]
    while current.parent is not None:
        # A class body's names are not visible from the functions inside it.
        if not (deferred and current.kind is SymbolKind.CLASS):
            targets = current.imported.get(identifier)
            if targets is not None:
                return targets
            bound_at = current.bound.get(identifier)
            if bound_at is not None and (deferred or _runs_later(current) or bound_at <= line):
                return ()
        deferred = deferred or _runs_later(current)
        current = current.parent
    if deferred:
        return namespace.bindings.resolve_later(identifier)
    return namespace.bindings.resolve(identifier, namespace.flow.site(at))


def _runs_later(scope: Scope) -> bool:
    """Whether the scope's code runs when called, not where it is written."""
    return scope.kind in (SymbolKind.FUNCTION, SymbolKind.METHOD) or type(scope.node) is ast.Lambda


def resolve_callee(scope: Scope, func: ast.expr, namespace: Namespace) -> tuple[str, ...]:
    """The qualified names a call's callee may resolve to, if it names something importable."""
    attributes: list[str] = []
    while type(func) is ast.Attribute:
        attributes.append(func.attr)
        func = func.value
    if type(func) is not ast.Name:
        return ()
    roots = resolve_name(scope, func.id, (func.lineno, func.col_offset), namespace)
    if not attributes or not roots:
        return roots
    attributes.reverse()
    suffix = "." + ".".join(attributes)
    return tuple(root + suffix for root in roots)


def candidate_calls(
    calls: Iterable[RecordedCall],
    imported: set[str],
    namespace: ModuleBindings,
    builtin_roots: frozenset[str] | None,
) -> Iterator[tuple[Scope, ast.Call]]:
    """The calls that may resolve to a rule's callee, without resolving them.

    Only a root name bound by an import (in the scopes walked, ``imported``,
    or the module's), or a builtin some rule names (``builtin_roots``; None
    when a rule names them all), can resolve to a rule's pattern; most calls
    (``self.save()``, ``len(x)``, a local helper) are neither, and are passed
    over with a set lookup.
    """
    if builtin_roots is None:
        yield from ((scope, call) for scope, call, _, _ in calls)
        return
    module_imported = namespace.imported
    for scope, call, root, _ in calls:
        if root in imported or root in module_imported or root in builtin_roots:
            yield scope, call


def call_violations(
    source: Source,
    calls: Iterable[tuple[Scope, ast.Call]],
    rules: RuleSet,
    tier: Tier,
    namespace: Namespace,
    context: FixContext,
) -> Iterator[Violation]:
    """Violations of the call rules among the recorded calls, with their fixes.

    A callee that may be any of several things (a name bound by alternative
    imports) breaks a rule when any of them does; a rule is reported once a call.
    """
    if not rules.calls and not rules.call_prefixes:
        return
    for scope, call in calls:
        broken: set[str] = set()
        for qualified in resolve_callee(scope, call.func, namespace):
            for rule in rules.for_call(qualified):
                if rule.id in broken or not rule.applies_to(tier):
                    continue
                verdict = _triggered(rule, call)
                if verdict is not None:
                    broken.add(rule.id)
                    severity, message = verdict
                    fix = fix_for_call(
                        rule.id, call, source, context, _meaning(scope, call, namespace)
                    )
                    yield Violation(rule.id, severity, message, source.span(call), fix)


def _meaning(
    scope: Scope, call: ast.Call, namespace: Namespace
) -> Callable[[str], tuple[str, ...]]:
    """What a name would refer to in place of the call's callee."""
    at = (call.lineno, call.col_offset)
    return lambda identifier: resolve_name(scope, identifier, at, namespace)


def _triggered(rule: Rule, call: ast.Call) -> tuple[Severity, str] | None:
    """The severity and message a matching call earns under ``rule``, if any."""
    if rule.kind is RuleKind.CALL_KWARG:
        value = _keyword_value(call, rule.keyword) if rule.keyword else None
        if value is None:
            return None
        if type(value) is ast.Constant:
            return (rule.severity, rule.message) if value.value else None
        if isinstance(value, ast.List | ast.Tuple | ast.Set):
            return (rule.severity, rule.message) if value.elts else None
        if type(value) is ast.Dict:
            return (rule.severity, rule.message) if value.keys else None
        # Not a literal: it may be true at run time, which is worth a look.
        return Severity.WARNING, f"{rule.keyword}= is not a literal; {rule.message} when true"
    severity = _severity_for_condition(rule, call)
    return None if severity is None else (severity, rule.message)


def _severity_for_condition(rule: Rule, call: ast.Call) -> Severity | None:
    if rule.condition is Condition.NON_LITERAL_NAME:
        if len(call.args) < 2:
            return None
        return None if _is_text(call.args[1]) else rule.severity
    if rule.condition is Condition.NON_LITERAL_MODULE:
        named = call.args[0] if call.args else _keyword_value(call, "name")
        return None if _is_text(named) else rule.severity
    if rule.condition is Condition.SHELL_PROGRAM:
        programs = [
            arg.value
            for arg in call.args[:2]
            if type(arg) is ast.Constant and isinstance(arg.value, str)
        ]
        is_shell = any(p.replace("\\", "/").rsplit("/", 1)[-1] in SHELLS for p in programs)
        return rule.severity if is_shell else None
    return rule.severity


def _keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_text(node: ast.expr | None) -> TypeGuard[ast.Constant]:
    """Whether ``node`` is a string literal."""
    return type(node) is ast.Constant and isinstance(node.value, str)


def import_violations(
    source: Source,
    node: ast.Import | ast.ImportFrom,
    targets: list[str],
    rules: RuleSet,
    tier: Tier,
) -> Iterator[Violation]:
    """Import rules (ARK010 and the workspace's own) and ARK022 for a wildcard."""
    for rule in rules.imports:
        if not rule.applies_to(tier):
            continue
        tier_policy = rule.pattern == FORBIDDEN_IMPORTS
        modules = rules.forbidden_imports.get(tier, ()) if tier_policy else (rule.pattern,)
        for target in targets:
            banned = import_is_forbidden(target, modules)
            if banned is not None:
                message = (
                    f"import of {banned} is forbidden in the {tier} tier"
                    if tier_policy
                    else rule.message
                )
                yield Violation(rule.id, rule.severity, message, source.span(node))
                break
    if type(node) is ast.ImportFrom and any(alias.name == "*" for alias in node.names):
        yield from statement_violations(source, node, "wildcard-import", rules, tier)


def statement_violations(
    source: Source, node: ast.stmt, pattern: str, rules: RuleSet, tier: Tier
) -> Iterator[Violation]:
    """Violations of the statement rules named ``pattern`` at ``node``."""
    for rule in rules.statements.get(pattern, ()):
        if rule.applies_to(tier):
            yield Violation(rule.id, rule.severity, rule.message, source.span(node))


class Comments(Protocol):
    """Where :func:`suppressed` reads a line and its comment."""

    def line_bytes(self, line: int) -> bytes:
        """The 1-based line."""

    def comment_on(self, line: int) -> bytes | None:
        """The comment token on a line, if there is one (text in strings is not)."""


def suppressed(comments: Comments, violation: Violation) -> bool:
    """Whether the violation's first line carries a comment that silences it."""
    if b"#" not in comments.line_bytes(violation.span.line):
        return False
    comment = comments.comment_on(violation.span.line)  # a real comment, not text in a string
    if comment is None:
        return False
    for match in _SUPPRESSION.finditer(comment):
        listed = match.group("ark") if match.group("ark") is not None else match.group("noqa")
        if listed is None:
            return True  # a bare ark-ignore or noqa comment silences every rule
        codes = {code.strip().decode().upper() for code in listed.split(b",") if code.strip()}
        if not codes or violation.rule in codes:
            return True
    return False
