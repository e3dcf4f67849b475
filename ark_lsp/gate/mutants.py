"""Mutants of the changed lines of a function: small faults a good test notices.

Why ARK's own mutators and not a library. The gate needs mutants of chosen
lines only, each run in ARK's sandbox (docker or bubblewrap) with a timeout,
many mutants per sandbox start. Of the two well-kept Python mutation tools:

- **mutmut 3** rewrites the whole package into a ``mutants/`` folder with
  every mutant of every function compiled in behind a trampoline, runs
  pytest through its own CLI (forking per mutant, with CPU-time limits
  derived from its own baseline) and keeps its state in that folder. It
  picks mutants by function, not by line, and needs itself, libcst and
  textual inside the sandbox.
- **cosmic-ray** keeps a session database (SQLAlchemy), runs a test command
  per mutant as a subprocess with a timeout (counted as killed, as here),
  and can filter mutants by a git diff; but it is a CLI with a distributor
  and a dozen dependencies (aiohttp, gitpython, stevedore, ...) that would
  all have to be in the sandbox.

Neither runs "these mutants, in this sandbox session" without installing it
into every sandbox image and environment and driving its CLI there. The
operators themselves are small, so ARK makes its mutants here, on the host,
from the standard library's :mod:`ast`, and the gate's driver applies them
one at a time in one sandbox run (see :mod:`ark_lsp.gate.sandbox_driver`).

The operators, the classic ones of the mutation-testing literature (and of
mutmut and cosmic-ray), each a fault a test of the line should notice:

- ``comparison``: ``<`` -> ``<=``, ``<=`` -> ``<``, ``>`` -> ``>=``,
  ``>=`` -> ``>`` (boundaries), ``==`` <-> ``!=``, ``is`` <-> ``is not``,
  ``in`` <-> ``not in``;
- ``boolean-operator``: ``and`` <-> ``or``;
- ``arithmetic-operator``: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``,
  ``%`` -> ``*``, ``**`` -> ``*``, ``<<`` <-> ``>>``, ``&`` <-> ``|``,
  ``^`` -> ``&``, in expressions and augmented assignments (``+=`` -> ``-=``);
- ``constant``: an integer ``n`` -> ``n + 1`` (off by one), ``True`` <-> ``False``;
- ``return-value``: ``return x`` -> ``return None``;
- ``negated-condition``: the test of ``if``, ``elif``, ``while``, a conditional
  expression or a comprehension's ``if`` -> ``not (test)``;
- ``removed-call``: a call made for its effect (an expression statement) -> ``None``.

Only code inside functions is mutated, and only at nodes that start on a
changed line; decorators, default values, annotations and f-strings are left
alone. A mutant replaces the source of one node (so the rest of the line,
comments included, stays) and must still parse.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ark_lsp.gate.functions import FunctionSpan, function_spans, innermost

_COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
    ast.And: "and", ast.Or: "or",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^",
}  # fmt: skip

OPERATORS = (
    "comparison",
    "boolean-operator",
    "arithmetic-operator",
    "constant",
    "return-value",
    "negated-condition",
    "removed-call",
)


@dataclass(frozen=True)
class Mutant:
    """One small fault in a changed line, and the lines of the file it rewrites."""

    path: str
    line: int
    """Where the mutated code starts."""
    column: int
    operator: str
    """One of :data:`OPERATORS`."""
    description: str
    """What changed, for a person: ``< -> <=``."""
    qualname: str
    """The function the mutant is in."""
    first: int
    last: int
    """The lines of the file the mutant rewrites, 1-based and inclusive."""
    text: str
    """The new text of lines ``first`` to ``last``, line ends included."""
    original: str
    """The source of line ``line`` as it was, stripped."""

    @property
    def mutated(self) -> str:
        """The mutated source of line ``line``, stripped: what a person would see changed."""
        lines = self.text.splitlines()
        offset = self.line - self.first
        return lines[offset].strip() if 0 <= offset < len(lines) else self.text.strip()

    @property
    def key(self) -> str:
        """An id unique among the mutants of one change."""
        return f"{self.path}:{self.line}:{self.column}:{self.operator}:{self.description}"


@dataclass(frozen=True)
class _Site:
    """A node to rewrite, and what to put in its place."""

    node: ast.expr | ast.stmt
    operator: str
    description: str
    replacement: str


def _symbol(op: ast.AST) -> str:
    return _SYMBOLS.get(type(op), type(op).__name__)


def _swapped(node: ast.AST, field: str, new: object) -> ast.AST:
    changed = copy.copy(node)
    setattr(changed, field, new)
    return changed


def _expression(node: ast.AST) -> str:
    return f"({ast.unparse(node)})"


def _conditions(node: ast.AST) -> list[ast.expr]:
    """The conditions a node tests: an ``if``'s, a loop's, a comprehension's filters."""
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        return [node.test]
    if isinstance(node, ast.comprehension):
        return list(node.ifs)
    return []


def _sites(node: ast.AST, source: str) -> Iterator[_Site]:
    """The mutants of one node of ``source``."""
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            flipped = _COMPARISONS.get(type(op))
            if flipped is not None:
                ops = [*node.ops[:index], flipped(), *node.ops[index + 1 :]]
                yield _Site(node, "comparison", f"{_symbol(op)} -> {_symbol(flipped())}",
                            _expression(_swapped(node, "ops", ops)))  # fmt: skip
    elif isinstance(node, ast.BoolOp):
        other: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield _Site(node, "boolean-operator", f"{_symbol(node.op)} -> {_symbol(other)}",
                    _expression(_swapped(node, "op", other)))  # fmt: skip
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        replaced = _ARITHMETIC.get(type(node.op))
        if replaced is not None:
            changed = _swapped(node, "op", replaced())
            text = _expression(changed) if isinstance(node, ast.BinOp) else ast.unparse(changed)
            suffix = "=" if isinstance(node, ast.AugAssign) else ""
            description = f"{_symbol(node.op)}{suffix} -> {_symbol(replaced())}{suffix}"
            yield _Site(node, "arithmetic-operator", description, text)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            yield _Site(node, "constant", f"{node.value} -> {not node.value}", str(not node.value))
        elif isinstance(node.value, int):
            yield _Site(node, "constant", f"{node.value} -> {node.value + 1}", str(node.value + 1))
    elif isinstance(node, ast.Return):
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            yield _Site(value, "return-value", "return value -> None", "None")
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield _Site(node.value, "removed-call", "call removed", "None")
    for test in _conditions(node):
        segment = ast.get_source_segment(source, test)
        if segment:
            yield _Site(test, "negated-condition", "condition negated", f"(not ({segment}))")


def _skipped_fields(node: ast.AST) -> frozenset[str]:
    """Fields whose code does not run with the function's body, or cannot be rewritten."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return frozenset({"decorator_list", "args", "returns", "type_params"})
    if isinstance(node, ast.AnnAssign):
        return frozenset({"annotation", "target"})
    if isinstance(node, ast.arg):
        return frozenset({"annotation"})
    return frozenset()


def _walk_function(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """The nodes of a function's body, leaving out what :func:`_skipped_fields` names."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.JoinedStr):
            continue  # positions inside f-strings are not reliable before Python 3.12
        yield node
        skipped = _skipped_fields(node)
        for name, value in ast.iter_fields(node):
            if name in skipped:
                continue
            children = value if isinstance(value, list) else [value]
            pending.extend(child for child in children if isinstance(child, ast.AST))


def _splice(
    lines: list[bytes], node: ast.expr | ast.stmt, replacement: str
) -> tuple[int, int, str]:
    """The lines ``node`` spans, and their text with ``replacement`` in the node's place.

    Columns are UTF-8 byte offsets, so the lines are cut as bytes.
    """
    first, last = node.lineno, node.end_lineno or node.lineno
    head = lines[first - 1][: node.col_offset]
    tail = lines[last - 1][node.end_col_offset :]
    return first, last, (head + replacement.encode() + tail).decode("utf-8")


def mutants_of(path: str, source: bytes, changed: Collection[int]) -> list[Mutant]:
    """The mutants of ``source``'s functions at nodes starting on ``changed`` lines.

    In source order. A file that is not UTF-8 or does not parse has none. A
    mutant is checked to parse only when chosen (:func:`parses`): there may be
    hundreds of candidates in a large change.
    """
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return []
    lines = source.splitlines(keepends=True)
    spans = function_spans(tree)
    found: list[Mutant] = []
    seen: set[str] = set()
    for function in _functions(tree):
        for node in _walk_function(function):
            for site in _sites(node, text):
                mutant = _mutant(path, lines, spans, site, changed)
                if mutant is not None and mutant.key not in seen:
                    seen.add(mutant.key)
                    found.append(mutant)
    found.sort(key=lambda m: (m.line, m.column, OPERATORS.index(m.operator), m.description))
    return found


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function; a nested one is walked as part of the one around it."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node)


def _mutant(
    path: str,
    lines: list[bytes],
    spans: tuple[FunctionSpan, ...],
    site: _Site,
    changed: Collection[int],
) -> Mutant | None:
    node = site.node
    line = node.lineno
    if line not in changed:
        return None
    first, last, new = _splice(lines, node, site.replacement)
    function = innermost(spans, line)
    return Mutant(
        path=path,
        line=line,
        column=node.col_offset,
        operator=site.operator,
        description=site.description,
        qualname=function.qualname if function else "",
        first=first,
        last=last,
        text=new,
        original=lines[line - 1].decode("utf-8").strip(),
    )


def parses(source: bytes, mutant: Mutant) -> bool:
    """Whether ``source`` with ``mutant`` applied is still Python."""
    lines = source.splitlines(keepends=True)
    mutated = (
        b"".join(lines[: mutant.first - 1]) + mutant.text.encode() + b"".join(lines[mutant.last :])
    )
    try:
        ast.parse(mutated)
    except (SyntaxError, ValueError):
        return False
    return True
