"""Parameter names and types read off a call's arguments.

``compute(total_price, user.name, get_rate(), [1, 2], count + 1)`` becomes
``compute(total_price, name, rate, items, count)``: a name is kept, an
attribute gives its last part, a call its function's noun, a literal a name
for its kind, an operation its left operand's name. A value looked up by a
key is named by the key, as ``options["timeout"]`` is: ``kwargs.get("timeout")``
gives ``timeout``, ``os.environ.get("HOME")`` and ``os.getenv("HOME")``
``home``, ``getattr(obj, "size")`` ``size``; looked up by anything else, by
its container (``options.get(key)`` gives ``option``). A method named by a
bare verb, which says what is done and not what comes of it, gives
``<verb>_result`` (``text.strip()``, ``file.read()``). Names are made unique
and never shadow a builtin or a keyword.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re

_VERB_PREFIXES = (
    "get_",
    "make_",
    "load_",
    "read_",
    "fetch_",
    "build_",
    "create_",
    "compute_",
    "calculate_",
    "find_",
    "parse_",
    "to_",
    "as_",
)
_CALL_NAMES = {
    "len": "length",
    "str": "text",
    "repr": "text",
    "int": "number",
    "float": "value",
    "bool": "flag",
    "list": "items",
    "tuple": "items",
    "set": "items",
    "sorted": "items",
    "dict": "mapping",
    "open": "file",
    "range": "numbers",
}
_LOOKUPS = frozenset({"get", "pop", "setdefault", "getlist", "getone"})
"""Methods of mappings that return the value at their first argument, a key."""
_KEY_READERS = {"getenv": 0, "getattr": 1}
"""Functions that return the value at a key, and which argument the key is."""
_BARE_VERBS = frozenset(
    {
        "apply",
        "build",
        "calculate",
        "call",
        "compute",
        "copy",
        "create",
        "decode",
        "encode",
        "execute",
        "fetch",
        "find",
        "format",
        "get",
        "join",
        "load",
        "lower",
        "lstrip",
        "make",
        "match",
        "parse",
        "pop",
        "process",
        "read",
        "readline",
        "recv",
        "render",
        "replace",
        "rstrip",
        "run",
        "search",
        "send",
        "split",
        "strip",
        "upper",
    }
)
"""Method names that say what is done, not what comes of it: a poor name for the result."""
_LITERAL_NAMES: dict[type, str] = {
    str: "text",
    bytes: "data",
    bool: "flag",
    int: "number",
    float: "value",
    complex: "value",
}
_BUILTIN_NAMES = frozenset(dir(builtins))
_NOT_AN_IDENTIFIER = re.compile(r"\W+")


def _singular(name: str) -> str:
    if name.endswith("ies") and len(name) > 4:
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss") and len(name) > 2:
        return name[:-1]
    return f"{name}_item"


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return _NOT_AN_IDENTIFIER.sub("_", name).strip("_")


def name_for(node: ast.expr, class_name: str | None = None) -> str:
    """A parameter name for an argument expression; ``arg`` when nothing better is known."""
    candidate = _raw_name(node, class_name)
    candidate = _snake(candidate) if candidate else ""
    if not candidate or not candidate.isidentifier():
        return "arg"
    if keyword.iskeyword(candidate) or candidate in _BUILTIN_NAMES:
        return f"{candidate}_value"
    return candidate


def last_name(node: ast.expr) -> str | None:
    """The name an expression ends in: ``f`` of ``f``, ``g`` of ``a.b.g``; None otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _raw_name(node: ast.expr, class_name: str | None) -> str:
    if isinstance(node, ast.Name):
        if node.id in ("self", "cls"):
            return _snake(class_name) if class_name else "obj"
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _result_name(node, class_name)
    if isinstance(node, ast.Subscript):
        container = _raw_name(node.value, class_name)
        key = node.slice
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and key.value.isidentifier()
        ):
            return key.value
        return _singular(container) if container else ""
    if isinstance(node, ast.Constant):
        return _LITERAL_NAMES.get(type(node.value), "value")
    if isinstance(node, ast.JoinedStr):
        return "text"
    if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.ListComp | ast.SetComp):
        return "items"
    if isinstance(node, ast.GeneratorExp):
        return "items"
    if isinstance(node, ast.Dict | ast.DictComp):
        return "mapping"
    if isinstance(node, ast.Lambda):
        return "callback"
    if isinstance(node, ast.BinOp):
        return _raw_name(node.left, class_name)
    if isinstance(node, ast.UnaryOp):
        return _raw_name(node.operand, class_name)
    if isinstance(node, ast.Compare | ast.BoolOp):
        return "condition"
    if isinstance(node, ast.Await):
        return _raw_name(node.value, class_name)
    return ""


def _result_name(call: ast.Call, class_name: str | None) -> str:
    """A name for what a call returns: the key it looks up, else its function's noun."""
    called = last_name(call.func) or ""
    lookup = isinstance(call.func, ast.Attribute) and called in _LOOKUPS
    if lookup or called in _KEY_READERS:
        position = _KEY_READERS.get(called, 0)
        key = call.args[position] if len(call.args) > position else None
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            named = _snake(key.value)
            if named.isidentifier():
                return named
        if lookup:
            assert isinstance(call.func, ast.Attribute)
            container = _raw_name(call.func.value, class_name)
            return _singular(container) if container else ""
    if called in _CALL_NAMES:
        return _CALL_NAMES[called]
    for prefix in _VERB_PREFIXES:
        if called.startswith(prefix) and len(called) > len(prefix):
            return called[len(prefix) :]
    if called in _BARE_VERBS:
        return f"{called}_result"
    return called


def unique(names: list[str], taken: set[str] | None = None) -> list[str]:
    """Make names unique in order: ``text, text`` becomes ``text, text2``."""
    seen = set(taken or ())
    result = []
    for name in names:
        candidate, number = name, 2
        while candidate in seen:
            candidate, number = f"{name}{number}", number + 1
        seen.add(candidate)
        result.append(candidate)
    return result


def literal_type(node: ast.expr) -> str | None:
    """The type of a literal argument, as an annotation; None when it is not a literal."""
    if isinstance(node, ast.Constant):
        if node.value is None or node.value is Ellipsis:
            return None
        return type(node.value).__name__
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.List | ast.Set):
        inner = _common(node.elts)
        container = "list" if isinstance(node, ast.List) else "set"
        return f"{container}[{inner}]" if inner else container
    if isinstance(node, ast.Tuple):
        parts = [literal_type(e) for e in node.elts]
        if parts and all(parts):
            return f"tuple[{', '.join(p for p in parts if p)}]"
        return "tuple"
    if isinstance(node, ast.Dict):
        keys = _common([k for k in node.keys if k is not None])
        values = _common(node.values)
        return f"dict[{keys}, {values}]" if keys and values else "dict"
    return None


def _common(elements: list[ast.expr]) -> str | None:
    kinds = {literal_type(e) for e in elements}
    if len(kinds) == 1:
        (kind,) = kinds
        return kind
    return None


__all__ = ["last_name", "literal_type", "name_for", "unique"]
