"""Candidate values for one parameter, written as Python literals.

The values come from what is known of the parameter, most telling first:
its default; values of its annotation's type (``int``, ``str | None``,
``list[str]``, ``Literal[...]``, ``dict[str, int]``...); without an
annotation, values of the kind its name suggests (``width`` a number,
``path`` paths, ``url`` URLs, ``year`` years) or a mixed bag. Every value
is a literal :func:`ast.literal_eval` reads, or, for a parameter that takes
a callable (``Callable[...]``, ``func``, ``callback``, ``key_func``), a
built-in function without effects named as it is (``str``, ``len``), so
that the sandbox can make it and a test can write it; or a constant or enum
member of the target's module that the parameter asks for
(:mod:`~ark_lsp.generate.characterize.module_values`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Protocol

from ark_lsp.generate.characterize.driver import CALLABLE_VALUES, MADE_INPUTS, VALUE_CONSTANTS
from ark_lsp.generate.characterize.module_values import ModuleValues
from ark_lsp.models import ParameterKind


class Named(Protocol):
    """A parameter, or a test's column: what candidates are chosen by."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> ParameterKind: ...

    @property
    def default(self) -> str | None: ...


_POOLS: dict[str, tuple[str, ...]] = {
    "int": ("0", "1", "2", "-1", "10", "255", "-7", "3", "100000"),
    "float": ("0.0", "1.0", "0.5", "-2.5", "3.75", "100.0"),
    "complex": ("0j", "(1+2j)"),
    "str": (
        "'abc'",
        "''",
        "'Hello, World!'",
        "'  two words  '",
        "'line one\\nline two'",
        "'a/b/c.txt'",
        "'*.py'",
        "'x'",
        "'ünïcödé'",
        "'http://user@example.com:8080/a/b?q=1&r=two#top'",
        "'/usr/local/../lib/./python3'",
        "'<p class=\"x\">Tom &amp; Jerry</p>'",
        "'a=1&b=2;c'",
        "'CamelCase_snake-kebab'",
        "'3.14'",
        "'\\t\\x00\\u2603'",
    ),
    "bytes": ("b'abc'", "b''", "b'\\x00\\xff'", "b'hello world'", "b'aGVsbG8='", "b'=3D\\r\\n'"),
    "bool": ("True", "False"),
    "None": ("None",),
    "list": ("[1, 2, 3]", "[]", "['a', 'b']", "[3, 1, 2]"),
    "tuple": ("(1, 2)", "()", "('a', 'b')"),
    "set": ("{1, 2}", "set()"),
    "dict": ("{'a': 1}", "{}", "{'x': 'y', 'n': 2}"),
    "Callable": CALLABLE_VALUES,
    "datetime": (
        "datetime.datetime(2024, 1, 31, 12, 30)",
        "datetime.datetime(2000, 2, 29, 0, 0)",
        "datetime.datetime(2024, 1, 31, 12, 30, tzinfo=datetime.timezone.utc)",
        "datetime.datetime(1999, 12, 31, 23, 59, 59, 999999)",
    ),
    "date": ("datetime.date(2024, 1, 31)", "datetime.date(2000, 2, 29)", "datetime.date(1, 1, 1)"),
    "time": ("datetime.time(12, 30)", "datetime.time(0, 0)", "datetime.time(23, 59, 59, 999999)"),
    "timedelta": (
        "datetime.timedelta(days=1)",
        "datetime.timedelta(0)",
        "datetime.timedelta(seconds=-90)",
        "datetime.timedelta(days=400, seconds=3)",
    ),
    "Decimal": ("decimal.Decimal('1.5')", "decimal.Decimal('0')", "decimal.Decimal('-2.25')"),
    "Fraction": ("fractions.Fraction(1, 3)", "fractions.Fraction(0, 1)"),
    "UUID": ("uuid.UUID('12345678-1234-5678-1234-567812345678')",),
    "Path": ("pathlib.Path('a/b/c.txt')", "pathlib.Path('/usr/local/lib')", "pathlib.Path('.')"),
}
_POOLS["PurePath"] = _POOLS["PosixPath"] = _POOLS["PurePosixPath"] = _POOLS["Path"]
_ANY = (
    "1",
    "'abc'",
    "0",
    "''",
    "[1, 2]",
    "None",
    "2.5",
    "-1",
    "('a', 1)",
    "{'k': 1}",
    "True",
    "['one\\n', 'two\\n']",
    "b'abc'",
)
_CONTAINERS = {
    "list": "list",
    "List": "list",
    "Sequence": "list",
    "MutableSequence": "list",
    "Iterable": "list",
    "Collection": "list",
    "Iterator": "list",
    "tuple": "tuple",
    "Tuple": "tuple",
    "set": "set",
    "Set": "set",
    "AbstractSet": "set",
    "MutableSet": "set",
    "frozenset": "set",
    "FrozenSet": "set",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
    "MutableMapping": "dict",
}
_ALIASES = {
    "AnyStr": "str",
    "Text": "str",
    "bytearray": "bytes",
    "SupportsInt": "int",
    "callable": "Callable",
}

_CALLABLE_WORDS = re.compile(
    r"(^|_)(func|function|fn|callback|callable|cb|predicate|pred|transform|transformer"
    r"|converter|factory|hook|handler|keyfunc|wrapped)($|_)|^key_?func"
)
_STR_WORDS = re.compile(
    r"(^|_)(s|str|string|text|name|path|file|filename|dir|directory|pattern|pat|prefix|suffix"
    r"|sep|word|line|lines|char|chars|url|title|label|message|msg|fmt|format|template|encoding"
    r"|errors|mode|root|ext|head|tail|source|src|dst|dest|target|p)($|_)"
)
_INT_WORDS = re.compile(
    r"(^|_)(n|i|j|k|count|size|width|height|index|idx|num|number|length|len|level|depth|start"
    r"|stop|end|step|pos|offset|limit|max|min|maxsplit|tabsize|indent|precision|base|times"
    r"|year|month|day|hour|minute|second|port|bits)($|_)"
)
_FLOAT_WORDS = re.compile(
    r"(^|_)(x|y|z|r|g|b|h|v|l|a|value|ratio|factor|rate|amount|angle|weight|scale|alpha"
    r"|temperature|t|fraction|q|c)($|_)"
)
_BOOL_WORDS = re.compile(
    r"(^|_)(flag|strict|verbose|reverse|quiet|force|recursive|ignore|fold|keepends)($|_)"
    r"|^(is|has|should|allow|use|keep|enable|drop|break|fix)_"
)
_LIST_WORDS = re.compile(
    r"(^|_)(items|seq|sequence|lst|list|values|elements|iterable|data|args|parts|names|paths"
    r"|words|rows|numbers|xs)($|_)"
)
_DICT_WORDS = re.compile(r"(^|_)(mapping|dict|d|options|params|headers|env|kwargs|config)($|_)")


def is_value(text: str) -> bool:
    """Whether ``text`` is a value a test may write.

    A literal, a built-in the driver names, or a value of the standard library made
    of those (``datetime.date(2024, 1, 31)``, see :data:`MADE_INPUTS`).
    """
    if text in CALLABLE_VALUES:
        return True
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return _is_plain(node)


def _is_plain(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        return (
            ast.unparse(node.func) in MADE_INPUTS
            and all(_is_plain(argument) for argument in node.args)
            and all(k.arg is not None and _is_plain(k.value) for k in node.keywords)
        )
    if isinstance(node, ast.Attribute):
        return ast.unparse(node) in VALUE_CONSTANTS
    try:
        ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _split_union(annotation: str) -> list[str]:
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return [annotation]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _split_union(ast.unparse(node.left)) + _split_union(ast.unparse(node.right))
    if isinstance(node, ast.Subscript):
        head = ast.unparse(node.value).rsplit(".", 1)[-1]
        inner = node.slice
        parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        if head == "Optional":
            return [*_split_union(ast.unparse(parts[0])), "None"]
        if head == "Union":
            return [kind for part in parts for kind in _split_union(ast.unparse(part))]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _split_union(node.value)  # a string annotation
    return [annotation]


def _type_name(annotation: str) -> str:
    """The type an annotation names, without its arguments: ``Color`` of ``Color``."""
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return annotation
    return ast.unparse(node.value if isinstance(node, ast.Subscript) else node)


def _values_for_type(annotation: str) -> list[str] | None:
    """Literals of an annotation's type; None when the type has no literals ARK knows."""
    values: list[str] = []
    for part in _split_union(annotation):
        try:
            node = ast.parse(part, mode="eval").body
        except SyntaxError:
            return None
        head = ast.unparse(node.value if isinstance(node, ast.Subscript) else node)
        head = _ALIASES.get(head.rsplit(".", 1)[-1], head.rsplit(".", 1)[-1])
        if head in ("None", "NoneType"):
            values.append("None")
        elif head == "Literal" and isinstance(node, ast.Subscript):
            inner = node.slice
            choices = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            values += [ast.unparse(choice) for choice in choices]
        elif head in _CONTAINERS:
            values += _container_values(_CONTAINERS[head], node)
        elif head in _POOLS:
            values += _POOLS[head]
        elif head in ("Any", "object"):
            values += _ANY
        else:
            return None
    return values


def _container_values(container: str, node: ast.expr) -> list[str]:
    if not isinstance(node, ast.Subscript):
        return list(_POOLS[container])
    inner = node.slice
    parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
    elements = [_values_for_type(ast.unparse(p)) or list(_ANY) for p in parts]
    if container == "dict" and len(elements) == 2:
        keys, values = elements
        return [
            "{}",
            f"{{{keys[0]}: {values[0]}}}",
            f"{{{keys[-1]}: {values[-1]}, {keys[0]}: {values[0]}}}",
        ]
    variadic = isinstance(parts[-1], ast.Constant) and parts[-1].value is Ellipsis
    if container == "tuple" and not variadic:
        rows = [[values[0] for values in elements], [values[-1] for values in elements]]
        return [sequence("tuple", row) for row in rows]
    items = elements[0]
    return [
        sequence(container, items[:3]),
        sequence(container, []),
        sequence(container, items[-1:]),
    ]


def sequence(container: str, items: list[str]) -> str:
    """A literal of ``container`` holding ``items``."""
    joined = ", ".join(items)
    if container == "list":
        return f"[{joined}]"
    if container == "tuple":
        return f"({joined},)" if len(items) == 1 else f"({joined})"
    return f"{{{joined}}}" if items else "set()"


_DOMAIN_STRINGS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(r"url|uri|href|link|netloc|query|fragment|scheme"),
        (
            "'http://user:pw@example.com:8080/a/b;p?q=1&r=two#top'",
            "'https://example.org/'",
            "'mailto:jane@example.com'",
            "'//host/path?x'",
            "'a%20b%2Fc'",
            "'x=1&y=2&x=3'",
        ),
    ),
    (
        re.compile(r"mail|addr|sender|recipient|from|to$"),
        (
            "'Jane Doe <jane@example.com>'",
            "'jane@example.com'",
            "'\"Doe, Jane\" <jane.doe@mail.example.org>, bob@example.net'",
            "'undisclosed-recipients:;'",
        ),
    ),
    (
        re.compile(r"path|file|dir|folder|root"),
        (
            "'/usr/local/../lib/./python3'",
            "'a/b/c.txt'",
            "'C:\\\\Users\\\\name\\\\file.txt'",
            "'~/notes.md'",
            "'.hidden'",
            "'//server/share/x'",
        ),
    ),
    (re.compile(r"date|time"), ("'Mon, 20 Nov 1995 19:12:08 -0500'", "'1995-11-20T19:12:08'")),
    (
        re.compile(r"^ip|host|address|network|net$"),
        ("'192.168.0.1'", "'::1'", "'10.0.0.0/8'", "'2001:db8::/32'", "'example.com'"),
    ),
    (re.compile(r"pat|glob|wild"), ("'*.py'", "'[a-c]?.txt'", "'[!x]*'", "'a*b'", "'**/x'")),
    (re.compile(r"html|markup|xml"), ("'<p class=\"x\">Tom &amp; Jerry &#62; &gt</p>'",)),
)


_DOMAIN_NUMBERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"year"), ("2024", "1900", "2000", "2023", "1")),
    (re.compile(r"month"), ("1", "2", "12", "13", "0")),
    (re.compile(r"day"), ("1", "29", "31", "0")),
    (re.compile(r"hour"), ("0", "23", "24")),
    (re.compile(r"minute|second"), ("0", "59", "60")),
    (re.compile(r"port"), ("80", "8080", "65536")),
)


def _domain_numbers(name: str) -> list[str]:
    """Numbers of the kind a parameter's name asks for: years for ``year``, months for ``month``."""
    return [
        value for pattern, values in _DOMAIN_NUMBERS if pattern.search(name) for value in values
    ]


def _domain_strings(name: str) -> list[str]:
    """Strings of the kind a parameter's name asks for: URLs for ``url``, paths for ``path``."""
    found: list[str] = []
    for pattern, values in _DOMAIN_STRINGS:
        if pattern.search(name):
            found += values
    return found


def _values_for_name(name: str) -> list[str]:
    lowered = name.lower()
    # The last word names what it is: a function_name is a name, a name_func a function.
    last = lowered.rsplit("_", 1)[-1]
    if last != lowered and not _CALLABLE_WORDS.search(last) and not _BOOL_WORDS.search(lowered):
        for pattern, kind in ((_STR_WORDS, "str"), (_INT_WORDS, "int")):
            if pattern.fullmatch(last):
                return list(_POOLS[kind])
    for pattern, kind in (
        (_CALLABLE_WORDS, "Callable"),
        (_BOOL_WORDS, "bool"),
        (_INT_WORDS, "int"),
        (_STR_WORDS, "str"),
        (_FLOAT_WORDS, "float"),
        (_LIST_WORDS, "list"),
        (_DICT_WORDS, "dict"),
    ):
        if pattern.search(lowered):
            values = list(_POOLS[kind])
            if kind == "float":
                values += ["0", "1"]  # many numeric parameters take ints as well
            return values
    return list(_ANY)


def candidates(
    parameter: Named,
    annotation: str | None,
    named: ModuleValues | None = None,
    edges: Sequence[str] = (),
) -> list[str]:
    """Values to try for a parameter, most telling first (its default leads).

    ``named``: the target module's constants, enum members and instances,
    which come next when the parameter's name or annotation asks for them;
    ``edges``: the values at the edges of the function's comparisons of it
    (:mod:`~ark_lsp.generate.characterize.boundaries`), next, those of the
    parameter's kind where its other values show one.
    """
    values: list[str] = []
    default = parameter.default
    if default is not None and is_value(default):
        values.append(default)
    if annotation and named is not None:
        annotation = named.expand(annotation)
    types = [_type_name(part) for part in _split_union(annotation)] if annotation else []
    members = named.members_of(types) if named is not None else []
    instances = named.instances_of(types) if named is not None else []
    values += members + instances
    if named is not None:
        values += named.constants_for(parameter.name)
    typed = _values_for_type(annotation) if annotation else None
    if typed is None and (members or instances):
        # An enum's or a class's parameter: its members, or an instance, are all it
        # takes (and None, if the union has it).
        typed = ["None"] if "None" in types else []
    if typed is None and default is not None and is_value(default) and default != "None":
        kind = _kind_of(default)
        typed = list(_POOLS.get(kind, ()))
        if kind in ("int", "float"):
            typed += ["-1", "2"]
    if typed is None:
        typed = _values_for_name(parameter.name)
    values += [edge for edge in edges if _same_kind(edge, typed)]
    if "'abc'" in typed:  # a string parameter: the kind its name asks for, early
        typed = typed[:1] + _domain_strings(parameter.name.lower()) + typed[1:]
    if "0" in typed and "'abc'" not in typed:  # a number: the same
        typed = _domain_numbers(parameter.name.lower()) + typed
    values += typed
    if parameter.kind is ParameterKind.VAR_POSITIONAL:
        element = [v for v in values if v != "None"]
        values = ["()", f"({element[0]},)", f"({element[0]}, {element[-1]})"] if element else ["()"]
    return list(dict.fromkeys(values))


def _kind_of(value: str) -> str:
    """The pool a value's kind has: ``int`` of ``1``, ``timedelta`` of ``datetime.timedelta(0)``."""
    if value in CALLABLE_VALUES:
        return "Callable"
    node = ast.parse(value, mode="eval").body
    if isinstance(node, ast.Call):
        return ast.unparse(node.func).rsplit(".", 1)[-1]
    if isinstance(node, ast.Attribute):  # datetime.timezone.utc
        return ""
    return type(ast.literal_eval(node)).__name__


def _same_kind(value: str, pool: Sequence[str]) -> bool:
    """Whether ``value`` is of the kind a parameter's pool shows: a string, a number, any."""
    quoted = value[:1] in ("'", '"')
    if "'abc'" in pool and "0" not in pool:
        return quoted
    if "0" in pool and "'abc'" not in pool:
        return not quoted
    return True


__all__ = ["Named", "candidates", "is_value", "sequence"]
