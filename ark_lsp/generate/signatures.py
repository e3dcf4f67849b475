"""Signatures read from the text of a ``def``'s parameters or from its parsed arguments.

Stubs take them from ``--params``; characterization tests from the
functions they test.
"""

from __future__ import annotations

import ast

from ark_lsp.models import Parameter, ParameterKind, Signature


def signature_from_text(parameters: str, returns: str | None = None) -> Signature:
    """Parse parameters written as in a ``def`` (``"text: str, width: int = 70, *, sep"``).

    Raises :class:`ValueError` with the parser's words when they are not valid.
    """
    try:
        tree = ast.parse(f"def _({parameters}) -> {returns or 'None'}: pass")
    except SyntaxError as error:
        raise ValueError(f"invalid parameters {parameters!r}: {error.msg}") from None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return signature_of(function.args, function.returns if returns else None)


def signature_of(args: ast.arguments, returns: ast.expr | None) -> Signature:
    """A :class:`Signature` from a parsed ``def``'s arguments."""

    def parameter(arg: ast.arg, kind: ParameterKind, default: ast.expr | None) -> Parameter:
        return Parameter(
            arg.arg,
            kind,
            ast.unparse(arg.annotation) if arg.annotation is not None else None,
            ast.unparse(default) if default is not None else None,
        )

    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    parameters = [
        parameter(
            arg,
            ParameterKind.POSITIONAL_ONLY
            if index < len(args.posonlyargs)
            else ParameterKind.POSITIONAL_OR_KEYWORD,
            defaults[index],
        )
        for index, arg in enumerate(positional)
    ]
    if args.vararg is not None:
        parameters.append(parameter(args.vararg, ParameterKind.VAR_POSITIONAL, None))
    parameters += [
        parameter(arg, ParameterKind.KEYWORD_ONLY, default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        parameters.append(parameter(args.kwarg, ParameterKind.VAR_KEYWORD, None))
    return Signature(tuple(parameters), ast.unparse(returns) if returns is not None else None)


__all__ = ["signature_from_text", "signature_of"]
