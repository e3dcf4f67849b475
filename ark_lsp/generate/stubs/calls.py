"""The context for a stub, read off a call of a name that is not defined.

Given a position in a file, :func:`undefined_call_at` finds the call whose
callee name is under it, makes sure nothing defines that name (a cheap look
at the tree first, then jedi, which follows imports, star imports and base
classes), and builds a :class:`~ark_lsp.generate.stubs.specs.FunctionSpec`:
parameters named from the arguments, types jedi infers for them, a return
type when the result is used where a type is known, ``async`` when it is
awaited. A plain name's stub goes after the top-level definition holding the
call (before the statement, for a call at module level); ``self.name(...)``
and ``obj.name(...)`` on an instance of a workspace class become a method of
that class, in whichever file defines it.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ark_lsp.analysis.source import Source, read_source
from ark_lsp.generate.naming import literal_type, name_for, unique
from ark_lsp.generate.stubs.specs import FunctionSpec
from ark_lsp.models import Parameter, ParameterKind, Signature, Span

if TYPE_CHECKING:
    import jedi

logger = logging.getLogger(__name__)

_BUILTINS = frozenset(dir(builtins))
_TYPING_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "FrozenSet": "frozenset",
    "Tuple": "tuple",
    "Type": "type",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class UndefinedCall:
    """A call of something nothing defines, and the stub that would define it."""

    spec: FunctionSpec
    span: Span
    """The callee's name in the call."""
    where: Literal["after", "before"] = "after"
    line: int = 0
    """For a function: the top-level statement's last (``after``) or first (``before``) line."""
    class_name: str | None = None
    """For a method: the class to add it to."""
    class_file: Path | None = None
    """For a method: the file defining that class (``None``: the file of the call)."""
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name to define."""
        return self.spec.name

    @property
    def is_method(self) -> bool:
        """Whether the stub is a method of a class."""
        return self.class_name is not None


class _Tree:
    """A parsed file with parent links and code-point columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.source: Source = read_source(text)
        self.module = ast.parse(self.source.parse_input)
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.module):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def span(self, node: ast.expr) -> Span:
        return self.source.span(node)

    def callee_span(self, call: ast.Call) -> Span | None:
        function = call.func
        if isinstance(function, ast.Name):
            return self.span(function)
        if isinstance(function, ast.Attribute):
            end = self.span(function)
            return Span(
                end.end_line, end.end_column - len(function.attr), end.end_line, end.end_column
            )
        return None

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        found = []
        while node in self.parents:
            node = self.parents[node]
            found.append(node)
        return found

    def top_level(self, node: ast.AST) -> ast.stmt:
        chain = [node, *self.ancestors(node)]
        top = next(n for n in chain if self.parents.get(n) is self.module)
        assert isinstance(top, ast.stmt)
        return top


def _bound_names(module: ast.Module) -> set[str]:
    """Every name the file binds anywhere; a call of one of them is not of an undefined name."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Global | ast.Nonlocal):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            names.add("*")
    return names


def _module_namespace(module: ast.Module) -> set[str]:
    """Names usable in annotations at the top of the file: imports, classes, aliases."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _call_at(tree: _Tree, line: int, column: int) -> tuple[ast.Call, Span] | None:
    best: tuple[ast.Call, Span] | None = None
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Call):
            continue
        span = tree.callee_span(node)
        if span is None or span.line != line or not span.column <= column <= span.end_column:
            continue
        best = (node, span)  # ast.walk is breadth-first: a later match is the inner one
    return best


def _enclosing_class(tree: _Tree, call: ast.Call, receiver: str) -> ast.ClassDef | None:
    """The class whose method holds the call, when ``receiver`` is that method's first parameter."""
    chain = tree.ancestors(call)
    for index, node in enumerate(chain):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            owner = chain[index + 1] if index + 1 < len(chain) else None
            arguments = [*node.args.posonlyargs, *node.args.args]
            if isinstance(owner, ast.ClassDef) and arguments and arguments[0].arg == receiver:
                return owner
            return None
    return None


def _defines(cls: ast.ClassDef, name: str) -> bool:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def _qualname(tree: _Tree, cls: ast.ClassDef) -> str:
    names = [cls.name]
    names += [n.name for n in tree.ancestors(cls) if isinstance(n, ast.ClassDef)]
    return ".".join(reversed(names))


class CallContext:
    """Reads one file's calls with jedi; make one per request."""

    def __init__(self, text: str, path: Path | None, root: Path | None) -> None:
        """``path`` is the file on disk (None for an unsaved buffer), ``root`` its workspace."""
        self.tree = _Tree(text)
        self.path = path
        self.root = root
        self._script: jedi.Script | None = None

    def script(self) -> jedi.Script:
        """The jedi script of the file, made on first use (jedi is slow to import)."""
        if self._script is None:
            import jedi

            project = jedi.Project(path=self.root) if self.root is not None else None
            self._script = jedi.Script(self.tree.text, path=self.path, project=project)
        return self._script

    def _jedi(self, method: str, span: Span) -> list[Any]:
        """``goto`` the name starting a span, or ``infer`` the expression ending it."""
        line, column = (
            (span.line, span.column) if method == "goto" else (span.end_line, span.end_column)
        )
        try:
            found: list[Any] = getattr(self.script(), method)(line, column)
        except Exception:  # jedi fails on some half-typed code; then it knows nothing
            logger.debug("jedi %s failed at %s", method, span, exc_info=True)
            return []
        return found

    def undefined_call_at(self, line: int, column: int, typed: bool) -> UndefinedCall | None:
        """The undefined call under a position (1-based line, code-point column), if any."""
        found = _call_at(self.tree, line, column)
        if found is None:
            return None
        call, span = found
        function = call.func
        if isinstance(function, ast.Name):
            name = function.id
            bound = _bound_names(self.tree.module)
            if name in _BUILTINS or name in bound or self._jedi("goto", span):
                return None
            return self._function(call, span, name, typed)
        if isinstance(function, ast.Attribute):
            return self._method(call, span, function, typed)
        return None

    def _function(self, call: ast.Call, span: Span, name: str, typed: bool) -> UndefinedCall:
        top = self.tree.top_level(call)
        spec, notes = self._spec(call, name, typed, first=None)
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return UndefinedCall(spec, span, "after", top.end_lineno or top.lineno, notes=notes)
        first = min([top.lineno, *(d.lineno for d in getattr(top, "decorator_list", []))])
        return UndefinedCall(spec, span, "before", first, notes=notes)

    def _method(
        self, call: ast.Call, span: Span, function: ast.Attribute, typed: bool
    ) -> UndefinedCall | None:
        name = function.attr
        receiver = function.value
        if isinstance(receiver, ast.Name):
            own = _enclosing_class(self.tree, call, receiver.id)
            if own is not None:
                if _defines(own, name) or self._jedi("goto", span):
                    return None
                first = "cls" if receiver.id == "cls" else "self"
                spec, notes = self._spec(call, name, typed, first=first, owner=own.name)
                if first == "cls":
                    spec = dataclasses.replace(spec, decorators=("classmethod",))
                return UndefinedCall(spec, span, class_name=_qualname(self.tree, own), notes=notes)
        # obj.name(...): only for an instance of a class this workspace defines.
        if self.root is None or self._jedi("goto", span):
            return None
        receiver_span = self.tree.span(receiver)
        for inferred in self._jedi("infer", receiver_span):
            module_path = inferred.module_path
            if inferred.type != "instance" or module_path is None:
                continue
            module_path = Path(module_path)
            if not module_path.is_relative_to(self.root):
                continue
            class_name = inferred.full_name.removeprefix(f"{inferred.module_name}.")
            spec, notes = self._spec(call, name, typed, first="self")
            return UndefinedCall(
                spec,
                span,
                class_name=class_name,
                class_file=None if module_path == self.path else module_path,
                notes=notes,
            )
        return None

    def _spec(
        self,
        call: ast.Call,
        name: str,
        typed: bool,
        first: str | None,
        owner: str | None = None,
    ) -> tuple[FunctionSpec, tuple[str, ...]]:
        namespace = _module_namespace(self.tree.module) | _BUILTINS
        parameters: list[Parameter] = []
        untyped: list[str] = []
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        star = next((a for a in call.args if isinstance(a, ast.Starred)), None)
        # Positional arguments after a *star are swallowed by *args.
        if star is not None:
            positional = call.args[: call.args.index(star)]
        keywords = [k for k in call.keywords if k.arg is not None]
        names = unique(
            [name_for(a, owner) for a in positional],
            taken={k.arg for k in keywords if k.arg} | {first or ""},
        )
        for argument, parameter_name in zip(positional, names, strict=True):
            annotation = self._type(argument, namespace) if typed else None
            if typed and annotation is None:
                untyped.append(parameter_name)
            parameters.append(
                Parameter(parameter_name, ParameterKind.POSITIONAL_OR_KEYWORD, annotation)
            )
        if star is not None:
            parameters.append(Parameter("args", ParameterKind.VAR_POSITIONAL))
        for item in keywords:
            assert item.arg is not None
            annotation = self._type(item.value, namespace) if typed else None
            if typed and annotation is None:
                untyped.append(item.arg)
            kind = (
                ParameterKind.KEYWORD_ONLY
                if star is not None
                else ParameterKind.POSITIONAL_OR_KEYWORD
            )
            parameters.append(Parameter(item.arg, kind, annotation))
        if any(k.arg is None for k in call.keywords):
            parameters.append(Parameter("kwargs", ParameterKind.VAR_KEYWORD))
        if first is not None:
            parameters.insert(0, Parameter(first, ParameterKind.POSITIONAL_OR_KEYWORD))
        is_async, returns = self._result_context(call) if typed else (self._awaited(call), None)
        notes: tuple[str, ...] = ()
        if untyped:
            notes = (f"no type inferred for {', '.join(untyped)}",)
        line = call.lineno
        where = f"{self.path.name}:{line}" if self.path is not None else f"line {line}"
        spec = FunctionSpec(
            name=name,
            signature=Signature(tuple(parameters), returns),
            details=(f"Generated by ARK from the call at {where}.",),
            is_async=is_async,
        )
        return spec, notes

    def _type(self, argument: ast.expr, namespace: set[str]) -> str | None:
        literal = literal_type(argument)
        if literal is not None:
            return literal
        inferred = self._jedi("infer", self.tree.span(argument))
        hints: list[str] = []
        for item in inferred:
            if item.type != "instance":
                return None
            hint = _usable_hint(item, namespace)
            if hint is None:
                return None
            if hint not in hints:
                hints.append(hint)
        if not hints or len(hints) > 3:
            return None
        return " | ".join(hints)

    def _awaited(self, call: ast.Call) -> bool:
        return isinstance(self.tree.parents.get(call), ast.Await)

    def _result_context(self, call: ast.Call) -> tuple[bool, str | None]:
        """Whether the call is awaited, and the type its result must have where it is used."""
        expression: ast.AST = call
        is_async = self._awaited(call)
        if is_async:
            expression = self.tree.parents[call]
        parent = self.tree.parents.get(expression)
        if isinstance(parent, ast.AnnAssign) and parent.value is expression:
            return is_async, ast.unparse(parent.annotation)
        if isinstance(parent, ast.Return):
            owner = next(
                (
                    n
                    for n in self.tree.ancestors(parent)
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                ),
                None,
            )
            if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef) and owner.returns:
                return is_async, ast.unparse(owner.returns)
            return is_async, None
        if isinstance(parent, ast.If | ast.While | ast.IfExp | ast.Assert) and (
            getattr(parent, "test", None) is expression
        ):
            return is_async, "bool"
        if isinstance(parent, ast.BoolOp) or (
            isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
        ):
            return is_async, "bool"
        if isinstance(parent, ast.Expr):
            return is_async, "None"
        return is_async, None


def _usable_hint(item: Any, namespace: set[str]) -> str | None:
    """A jedi type as an annotation this file can write without new imports; None if none."""
    try:
        hint = str(item.get_type_hint())
    except Exception:  # jedi raises for types it cannot describe
        hint = ""
    for alias, builtin in _TYPING_ALIASES.items():
        hint = re.sub(rf"\b{alias}\[", f"{builtin}[", hint)
    if hint and all(word in namespace for word in _IDENTIFIER.findall(hint)):
        return hint
    name = str(item.name)
    if item.module_name == "builtins" or name in namespace:
        return name
    return None


def undefined_call_at(
    text: str, line: int, column: int, *, path: Path | None, root: Path | None, typed: bool
) -> UndefinedCall | None:
    """The undefined call at a position of ``text``, or None (also when the text does not parse)."""
    try:
        context = CallContext(text, path, root)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return context.undefined_call_at(line, column, typed)


def calls_of(text: str, name: str) -> list[tuple[int, int]]:
    """Where ``text`` calls ``name`` (as ``name(...)``): 1-based lines and code-point columns."""
    try:
        tree = _Tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = []
    for node in ast.walk(tree.module):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            span = tree.span(node.func)
            found.append((span.line, span.column))
    return sorted(found)


__all__ = ["CallContext", "UndefinedCall", "calls_of", "undefined_call_at"]
