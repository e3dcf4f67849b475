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
_POSITIONAL_ONLY = ParameterKind.POSITIONAL_ONLY
_POSITIONAL_OR_KEYWORD = ParameterKind.POSITIONAL_OR_KEYWORD


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
        # An index builds tens of thousands of these: the common cases (an
        # ASCII file, one-line decorators and bases) take no helper calls.
        source = self._source
        line, end_line = node.lineno, node.end_lineno or node.lineno
        if source.is_ascii:
            span = Span(line, node.col_offset, end_line, node.end_col_offset or 0)
        else:
            span = source.span(node)
        node_type = type(node)
        is_class = node_type is ast.ClassDef
        text = self._text
        parent = scope.parent
        return Symbol(
            name=node.name,
            qualname=scope.qualname,
            kind=scope.kind,
            span=span,
            name_span=self._name_span(node, span),
            complexity=complexity,
            rank=_RANKS[complexity] if 0 <= complexity <= 40 else cc_rank(complexity),
            is_async=node_type is ast.AsyncFunctionDef,
            signature=None if is_class else self._signature(node.args, node.returns),  # type: ignore[union-attr]
            bases=tuple([text(base) for base in node.bases]) if is_class else (),  # type: ignore[union-attr]
            decorators=tuple([text(d) for d in node.decorator_list]),
            docstring=_first_docstring_line(node),
            parent=parent.qualname or None if parent else None,
        )

    def _name_span(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, span: Span
    ) -> Span:
        source = self._source
        line = node.lineno
        lines = source.lines
        line_text = lines[line - 1] if 0 < line <= len(lines) else b""
        name = node.name.encode()
        offset = node.col_offset + _KEYWORD_WIDTH[type(node)]
        if not line_text.startswith(name, offset):  # unusual spacing after the keyword
            keyword = _DEFINITION_KEYWORD.search(line_text, node.col_offset)
            if keyword is None or not line_text.startswith(name, keyword.end()):
                return span
            offset = keyword.end()
        start = offset if source.is_ascii else source.column(line, offset)
        return Span(line, start, line, start + len(node.name))

    def _signature(self, args: ast.arguments, returns: ast.expr | None) -> Signature:
        parameter = self._parameter
        posonly = len(args.posonlyargs)
        positional = args.posonlyargs + args.args if posonly else args.args
        defaults = args.defaults
        first_default = len(positional) - len(defaults)
        parameters = [
            parameter(
                arg,
                _POSITIONAL_ONLY if index < posonly else _POSITIONAL_OR_KEYWORD,
                defaults[index - first_default] if index >= first_default else None,
            )
            for index, arg in enumerate(positional)
        ]
        if args.vararg is not None:
            parameters.append(parameter(args.vararg, ParameterKind.VAR_POSITIONAL, None))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            parameters.append(parameter(arg, ParameterKind.KEYWORD_ONLY, kw_default))
        if args.kwarg is not None:
            parameters.append(parameter(args.kwarg, ParameterKind.VAR_KEYWORD, None))
        return Signature(
            parameters=tuple(parameters),
            returns=None if returns is None else self._text(returns),
        )

    def _parameter(self, arg: ast.arg, kind: ParameterKind, default: ast.expr | None) -> Parameter:
        annotation = arg.annotation
        if annotation is None and default is None:
            return Parameter(arg.arg, kind)
        text = self._text
        return Parameter(
            arg.arg,
            kind,
            None if annotation is None else text(annotation),
            None if default is None else text(default),
        )

    def _text(self, node: ast.expr) -> str:
        """The source text of an expression, as written."""
        line = node.lineno
        if (node.end_lineno or line) == line:
            # Source.text, without its calls: most signatures' parts are one-line.
            lines = self._source.lines
            raw = lines[line - 1] if 0 < line <= len(lines) else b""
            return raw[node.col_offset : node.end_col_offset or 0].decode("utf-8", "replace")
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
