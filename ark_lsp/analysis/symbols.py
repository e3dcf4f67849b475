"""The :class:`Symbol` record of each function and class a module defines.

Built after the walk, once every definition's complexity is known. Signature
parts, bases and decorators are the source text as written; only an
expression spanning several lines is rebuilt with ``ast.unparse``.
"""

from __future__ import annotations

import ast
import math
import re

from ark_lsp.analysis.scopes import Scope
from ark_lsp.analysis.source import Source
from ark_lsp.models import Parameter, ParameterKind, Signature, Span, Symbol

_DEFINITION_KEYWORD = re.compile(rb"(?:def|class)\s+")
_KEYWORD_WIDTH = {
    ast.FunctionDef: len("def "),
    ast.AsyncFunctionDef: len("async def "),
    ast.ClassDef: len("class "),
}


def _rank(complexity: int) -> str:
    step = math.ceil(complexity / 10) or 1
    return chr(min(step - (1 if complexity <= 5 else 0), 5) + ord("A"))


_RANKS = [_rank(score) for score in range(41)]


def cc_rank(complexity: int) -> str:
    """Rank a complexity score A (simple) to F (error-prone), as radon does."""
    if complexity < 0:
        raise ValueError("complexity cannot be negative")
    return _RANKS[complexity] if complexity <= 40 else "F"


class SymbolBuilder:
    """Builds the :class:`Symbol` of each definition in one module's source."""

    __slots__ = ("_source",)

    def __init__(self, source: Source) -> None:
        self._source = source

    def build(
        self,
        scope: Scope,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        complexity: int,
    ) -> Symbol:
        assert scope.kind is not None
        span = self._source.span(node)
        is_class = isinstance(node, ast.ClassDef)
        return Symbol(
            name=node.name,
            qualname=scope.qualname,
            kind=scope.kind,
            span=span,
            name_span=self._name_span(node, span),
            complexity=complexity,
            rank=cc_rank(complexity),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            signature=None if is_class else self._signature(node.args, node.returns),  # type: ignore[union-attr]
            bases=tuple(self._text(base) for base in node.bases) if is_class else (),  # type: ignore[union-attr]
            decorators=tuple(self._text(d) for d in node.decorator_list),
            docstring=_first_docstring_line(node),
            parent=scope.parent.qualname or None if scope.parent else None,
        )

    def _name_span(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, span: Span
    ) -> Span:
        line_text = self._source.line_bytes(node.lineno)
        name = node.name.encode()
        offset = node.col_offset + _KEYWORD_WIDTH[type(node)]
        if not line_text.startswith(name, offset):  # unusual spacing after the keyword
            keyword = _DEFINITION_KEYWORD.search(line_text, node.col_offset)
            if keyword is None or not line_text.startswith(name, keyword.end()):
                return span
            offset = keyword.end()
        start = self._source.column(node.lineno, offset)
        return Span(node.lineno, start, node.lineno, start + len(node.name))

    def _signature(self, args: ast.arguments, returns: ast.expr | None) -> Signature:
        parameters: list[Parameter] = []
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += args.defaults
        for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
            kind = (
                ParameterKind.POSITIONAL_ONLY
                if index < len(args.posonlyargs)
                else ParameterKind.POSITIONAL_OR_KEYWORD
            )
            parameters.append(self._parameter(arg, kind, default))
        if args.vararg is not None:
            parameters.append(self._parameter(args.vararg, ParameterKind.VAR_POSITIONAL, None))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            parameters.append(self._parameter(arg, ParameterKind.KEYWORD_ONLY, kw_default))
        if args.kwarg is not None:
            parameters.append(self._parameter(args.kwarg, ParameterKind.VAR_KEYWORD, None))
        return Signature(
            parameters=tuple(parameters),
            returns=None if returns is None else self._text(returns),
        )

    def _parameter(self, arg: ast.arg, kind: ParameterKind, default: ast.expr | None) -> Parameter:
        return Parameter(
            name=arg.arg,
            kind=kind,
            annotation=None if arg.annotation is None else self._text(arg.annotation),
            default=None if default is None else self._text(default),
        )

    def _text(self, node: ast.expr) -> str:
        """The source text of an expression, as written."""
        if (node.end_lineno or node.lineno) == node.lineno:
            return self._source.text(node)
        try:
            return ast.unparse(node)
        except RecursionError:
            return "..."


def _first_docstring_line(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
) -> str | None:
    if not node.body:
        return None
    first = node.body[0]
    if not (
        type(first) is ast.Expr
        and type(first.value) is ast.Constant
        and isinstance(first.value.value, str)
    ):
        return None
    for line in first.value.value.splitlines():
        if stripped := line.strip():
            return stripped
    return None
