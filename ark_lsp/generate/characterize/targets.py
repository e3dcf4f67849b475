"""What tests can be generated for: a file's functions, its classes' methods and properties."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from ark_lsp.analysis import module_name
from ark_lsp.generate.characterize.boundaries import edge_values
from ark_lsp.generate.naming import last_name
from ark_lsp.generate.signatures import signature_of
from ark_lsp.models import Parameter, ParameterKind, Signature


@dataclass(frozen=True)
class Target:
    """A function or method to characterize."""

    name: str
    qualname: str
    """``name``, or ``Class.name`` for a method."""
    signature: Signature
    """Without the ``self``/``cls`` of a method."""
    line: int
    docstring: str | None = None
    class_name: str | None = None
    binding: str = "function"
    """``function``, ``method`` (called on an instance), ``property`` (read on one),
    ``staticmethod`` or ``classmethod``."""
    is_async: bool = False
    depends_on: tuple[str, ...] = ()
    """What its results depend on besides its arguments: ``time``, ``random``, ``os.getcwd``."""
    constructor: Signature | None = None
    """For a method: the parameters of its class's own ``__init__``, without ``self``."""
    returns_nothing: bool = False
    """No ``return`` in it gives a value, nor does it yield: a call is only ever ``None``,
    which type checkers refuse to compare (mypy's func-returns-value)."""
    abstract: bool = False
    """It is called on an instance of a class with abstract methods, which cannot be made."""
    edges: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per parameter, the values at the edges of the comparisons its body makes of it."""
    deprecated: bool = False
    """It warns that it is deprecated, is decorated so, or its docstring says so."""
    object_parameters: frozenset[str] = frozenset()
    """Parameters annotated with classes of the workspace only (or ``None``): a literal
    passed there is a misuse, and a ``TypeError`` it raises pins nothing."""
    reads_command_line: str | None = None
    """What of the process's command line or input it reads (``sys.argv``), if any: in a
    test its results would be pytest's."""

    @property
    def on_instance(self) -> bool:
        """Whether it is called (or read) on an instance of its class, made first."""
        return self.binding in _ON_INSTANCE

    @property
    def test_name(self) -> str:
        """The stem of its tests' names: ``dedent``, ``text_wrapper_wrap``.

        A name's trailing underscore (``raise_``, kept off a keyword) is not
        carried into ``test_raise__raises``.
        """
        name = self.name.rstrip("_") or self.name
        if self.class_name is None:
            return name
        return f"{_snake(self.class_name)}_{name}"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", name).lower()


_UNSTABLE_MODULES = frozenset({"random", "time", "secrets"})
_UNSTABLE_CALLS = frozenset(
    {
        "os.getcwd",
        "os.getcwdb",
        "os.environ",
        "os.getenv",
        "os.getpid",
        "os.urandom",
        "os.times",
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.datetime.utcnow",
        "datetime.date.today",
        "uuid.uuid1",
        "uuid.uuid4",
    }
)
"""What reads the clock, chance or the process's surroundings: any name of a module of
:data:`_UNSTABLE_MODULES`, these names of others (``datetime.date(2024, 1, 31)`` is a value)."""


def _bound_modules(tree: ast.Module) -> dict[str, str]:
    """What each top-level import binds: ``{"rnd": "random", "randint": "random.randint"}``."""
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _depends_on(
    node: ast.FunctionDef | ast.AsyncFunctionDef, bound: dict[str, str]
) -> tuple[str, ...]:
    """The sources of time, randomness or environment a function's body reads directly.

    Its body only: a parameter annotated ``datetime`` reads no clock (marshmallow's
    ``rfcformat(datetime)`` had every result left out).
    """
    found: list[str] = []
    for child in (inner for statement in node.body for inner in ast.walk(statement)):
        if not isinstance(child, ast.Attribute | ast.Name):
            continue
        target = _bound_name(child, bound)
        if target is None:
            continue
        module = target.split(".")[0]
        name = module if module in _UNSTABLE_MODULES else target
        if (module in _UNSTABLE_MODULES or target in _UNSTABLE_CALLS) and name not in found:
            found.append(name)
    return tuple(found)


def _of_classes(annotation: str, classes: Mapping[str, ast.ClassDef]) -> bool:
    """Whether an annotation names classes of ``classes`` only (``Headers | None`` too)."""
    try:
        node = ast.parse(annotation, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    names = _union_names(node)
    return names is not None and bool(names & set(classes)) and names <= {*classes, "None"}


def _union_names(node: ast.expr) -> set[str] | None:
    """The plain names a union of them is made of; None for anything else (``list[X]``)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _union_names(node.left), _union_names(node.right)
        return None if left is None or right is None else left | right
    if isinstance(node, ast.Subscript) and last_name(node.value) in ("Optional", "Union"):
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        found: set[str] = {"None"} if last_name(node.value) == "Optional" else set()
        for part in parts:
            names = _union_names(part)
            if names is None:
                return None
            found |= names
        return found
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "Headers"
        try:
            return _union_names(ast.parse(node.value, mode="eval").body)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
    if isinstance(node, ast.Constant) and node.value is None:
        return {"None"}
    name = last_name(node)
    return {name} if name else None


_COMMAND_LINE = frozenset({"sys.argv", "sys.stdin", "sys.orig_argv", "fileinput.input"})
_ARGUMENT_PARSING = frozenset({"parse_args", "parse_known_args", "parse_intermixed_args"})


def _reads_command_line(
    node: ast.FunctionDef | ast.AsyncFunctionDef, bound: dict[str, str]
) -> str | None:
    """What of the command line or standard input the function's body reads, if any.

    ``sys.argv``, ``sys.stdin``, ``input()``, or an argument parser's ``parse_args()``
    with no arguments (jmespath's ``jp.main``: a test's result depended on how pytest
    was started).
    """
    for child in (inner for statement in node.body for inner in ast.walk(statement)):
        if isinstance(child, ast.Attribute | ast.Name):
            name = _bound_name(child, bound)
            if name in _COMMAND_LINE:
                return name
        if isinstance(child, ast.Call) and not child.args and not child.keywords:
            called = last_name(child.func)
            if isinstance(child.func, ast.Name) and called == "input":
                return "input()"
            if isinstance(child.func, ast.Attribute) and called in _ARGUMENT_PARSING:
                return f"{called}()"
    return None


def _bound_name(node: ast.expr, bound: dict[str, str]) -> str | None:
    """The dotted name an attribute chain reads through a module's imports, if it is one."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _bound_name(node.value, bound)
        return None if owner is None else f"{owner}.{node.attr}"
    return None


_SKIPPED_DECORATORS = frozenset({"abstractmethod", "overload", "setter", "deleter", "getter"})
"""Nothing to run (an abstract method, an overload), or a property's other parts."""


def _is_property(decorators: set[str]) -> bool:
    """Whether a decorator makes an attribute read on an instance.

    ``property``, ``cached_property``, toolz's ``instanceproperty``, pyramid's ``reify``.
    """
    return any(name.endswith("property") or name == "reify" for name in decorators)


_ON_INSTANCE = ("method", "property")
"""The bindings of a method or property: reached through an instance of its class."""


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    called = (d.func if isinstance(d, ast.Call) else d for d in node.decorator_list)
    return {name for name in map(last_name, called) if name}


def constructor(
    node: ast.ClassDef, classes: Mapping[str, ast.ClassDef], seen: frozenset[str] = frozenset()
) -> Signature | None:
    """The parameters a class's ``__init__`` takes after ``self``; None if it has none.

    Without one of its own, its ``__new__``'s after ``cls`` (MarkupSafe's
    ``Markup(base, encoding, errors)``, a ``str`` subclass), the one its
    fields make (a dataclass, a ``NamedTuple``, a pydantic model), else the
    ``__init__`` of its first base that the module defines and that has one
    (``class Words(Parser): ...``).
    """
    made = {
        item.name: item
        for item in node.body
        if isinstance(item, ast.FunctionDef)
        and item.name in ("__init__", "__new__")
        and item.args.args
    }
    found = made.get("__init__") or made.get("__new__")
    if found is not None:
        signature = signature_of(found.args, None)
        return Signature(signature.parameters[1:], None)
    fields = _fields(node, classes, seen)
    if fields is not None:
        return Signature(tuple(fields), None)
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            inherited = constructor(classes[base.id], classes, seen | {node.name})
            if inherited is not None:
                return inherited
    return None


_FIELD_DECORATORS = frozenset({"dataclass", "define", "frozen", "mutable"})
"""Decorators that make ``__init__`` from the class's annotated fields: dataclasses', attrs'."""
_FIELD_BASES = {
    "NamedTuple": ParameterKind.POSITIONAL_OR_KEYWORD,
    "BaseModel": ParameterKind.KEYWORD_ONLY,
}
"""Bases that do the same, and how the fields are passed (a pydantic model's by keyword)."""


def _fields(
    node: ast.ClassDef, classes: Mapping[str, ast.ClassDef], seen: frozenset[str]
) -> list[Parameter] | None:
    """The parameters the generated ``__init__`` of a class with fields takes; None for others.

    The annotated names of its body in order (not ``ClassVar``, not a
    ``field(init=False)``), after those of a base in the module that has fields.
    """
    kind = next((_FIELD_BASES[n] for b in node.bases if (n := last_name(b)) in _FIELD_BASES), None)
    for decorator in node.decorator_list:
        called = decorator.func if isinstance(decorator, ast.Call) else decorator
        if last_name(called) in _FIELD_DECORATORS:
            keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
            by_keyword = any(_is_true(k.value) for k in keywords if k.arg == "kw_only")
            kind = ParameterKind.KEYWORD_ONLY if by_keyword else ParameterKind.POSITIONAL_OR_KEYWORD
    if kind is None:
        return None
    inherited: list[Parameter] = []
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            inherited = _fields(classes[base.id], classes, seen | {node.name}) or []
            break
    own = [
        Parameter(
            item.target.id,
            kind,
            ast.unparse(item.annotation),
            ast.unparse(item.value) if item.value is not None else None,
        )
        for item in node.body
        if isinstance(item, ast.AnnAssign)
        and isinstance(item.target, ast.Name)
        and not _CLASS_VARIABLE.match(ast.unparse(item.annotation))
        and not _left_out_of_init(item.value)
    ]
    names = {parameter.name for parameter in own}
    return [p for p in inherited if p.name not in names] + own


_CLASS_VARIABLE = re.compile(r"(typing\.)?ClassVar\b")


def _is_true(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def _left_out_of_init(value: ast.expr | None) -> bool:
    """Whether a field's value is ``field(init=False)`` (or attrs' ``field(init=False)``)."""
    return (
        isinstance(value, ast.Call)
        and last_name(value.func) in ("field", "attrib", "ib")
        and any(
            k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in value.keywords
        )
    )


def _target(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    owner: ast.ClassDef | None,
    bound: dict[str, str],
    classes: Mapping[str, ast.ClassDef],
) -> Target | None:
    class_name = owner.name if owner else None
    decorators = _decorator_names(node)
    if decorators & _SKIPPED_DECORATORS:
        return None
    signature = signature_of(node.args, node.returns)
    binding = "function"
    if class_name is not None:
        if "staticmethod" in decorators:
            binding = "staticmethod"
        elif _is_property(decorators):
            binding = "property"
            signature = Signature((), signature.returns)
        else:
            binding = "classmethod" if "classmethod" in decorators else "method"
            if not signature.parameters:
                return None  # no self: not callable as a method
            signature = Signature(signature.parameters[1:], signature.returns)
    elif _is_property(decorators):
        return None
    return Target(
        name=node.name,
        qualname=f"{class_name}.{node.name}" if class_name else node.name,
        signature=signature,
        line=node.lineno,
        docstring=ast.get_docstring(node),
        class_name=class_name,
        binding=binding,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        depends_on=_depends_on(node, bound),
        constructor=constructor(owner, classes) if owner and binding in _ON_INSTANCE else None,
        returns_nothing=binding != "property" and _returns_nothing(node),
        abstract=owner is not None and binding in _ON_INSTANCE and is_abstract(owner),
        edges=tuple(edge_values(node, frozenset(p.name for p in signature.parameters)).items()),
        deprecated=_deprecated(node, decorators),
        reads_command_line=_reads_command_line(node, bound),
        object_parameters=frozenset(
            p.name
            for p in signature.parameters
            if p.annotation and _of_classes(p.annotation, classes)
        ),
    )


_DEPRECATION_WARNING = re.compile(r"Deprecat\w*Warning$|^Removed\w*Warning$")
"""``DeprecationWarning`` and the warnings projects derive from it, named so: django's
``RemovedInDjango60Warning``, marshmallow's ``RemovedInMarshmallow4Warning``."""
_DEPRECATED_NOTE = re.compile(
    r"^\s*(?:\.\. deprecated::|deprecated\b)", re.IGNORECASE | re.MULTILINE
)


def _deprecated(node: ast.FunctionDef | ast.AsyncFunctionDef, decorators: set[str]) -> bool:
    """Whether the function says it is deprecated: sortedcontainers' ``SortedDict.iloc``."""
    if "deprecated" in decorators:
        return True
    if _DEPRECATED_NOTE.search(ast.get_docstring(node) or ""):
        return True
    return any(
        _DEPRECATION_WARNING.search(last_name(child) or "")
        for child in ast.walk(node)
        if isinstance(child, ast.Name | ast.Attribute)
    )


def is_abstract(node: ast.ClassDef) -> bool:
    """Whether the class declares abstract methods (pyparsing's ``ParserElement``)."""
    return any(
        _decorator_names(item) & {"abstractmethod", "abstractproperty"}
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _rebound(tree: ast.Module) -> dict[str, int]:
    """The last line at which the module's top level assigns each name."""
    lines: dict[str, int] = {}
    for statement in tree.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
            if isinstance(statement, ast.AnnAssign | ast.AugAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                lines[target.id] = statement.lineno
    return lines


def _returns_nothing(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether no ``return`` of the function (not of those nested in it) gives a value."""
    if node.returns is not None and ast.unparse(node.returns) not in ("None", "'None'"):
        return False
    pending: list[ast.AST] = list(node.body)
    while pending:
        child = pending.pop()
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue  # a scope of its own
        if isinstance(child, ast.Yield | ast.YieldFrom):
            return False
        if isinstance(child, ast.Return) and not (
            child.value is None
            or (isinstance(child.value, ast.Constant) and child.value.value is None)
        ):
            return False
        pending.extend(ast.iter_child_nodes(child))
    return True


def classes_of(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """The module's top-level classes, by name."""
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def parsed_module(source: str | ast.Module) -> ast.Module | None:
    """The module's tree (``source`` parsed, or as given); None when it does not parse.

    One generation parses the module once, for its targets and its values.
    """
    if isinstance(source, ast.Module):
        return source
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def find_targets(
    source: str | ast.Module,
    name: str | None = None,
    bases: Mapping[str, ast.ClassDef] | None = None,
) -> list[Target]:
    """The public functions, methods and properties of public classes (or ``name``).

    ``source`` is a module's text, or its tree. ``name`` may be ``function``,
    ``Class.method`` or ``Class`` (its methods); a named private function is
    found too. ``bases``: classes of other modules the module's classes derive
    from, by the name the module imports them as (:func:`imported_bases`).
    """
    tree = parsed_module(source)
    if tree is None:
        return []
    found: list[Target] = []
    bound = _bound_modules(tree)
    classes = {**(bases or {}), **classes_of(tree)}
    rebound = _rebound(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # pyparsing's `delimited_list = replaced_by_pep8(...)` after its def: what
            # the module's name holds, and a test imports, is no longer the def.
            replaced = rebound.get(node.name, 0) > node.lineno
            wanted = node.name == name if name else not node.name.startswith("_") and not replaced
            target = _target(node, None, bound, classes) if wanted else None
            if target is not None:
                found.append(target)
        elif isinstance(node, ast.ClassDef):
            class_wanted = name == node.name or (name is None and not node.name.startswith("_"))
            for item in node.body:
                if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if name and name == f"{node.name}.{item.name}":
                    wanted = True
                else:
                    wanted = class_wanted and not item.name.startswith("_")
                target = _target(item, node, bound, classes) if wanted else None
                if target is not None:
                    found.append(target)
    return found


def target_at(
    text: str, line: int, bases: Mapping[str, ast.ClassDef] | None = None
) -> Target | None:
    """The function or method whose ``def`` (or decorator) lines include ``line``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    bound = _bound_modules(tree)
    candidates: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            candidates.append((node, None))
        elif isinstance(node, ast.ClassDef):
            candidates += [
                (item, node)
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    for node, owner in candidates:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        body_start = node.body[0].lineno if node.body else node.lineno
        if first <= line <= max(node.lineno, body_start - 1):
            return _target(node, owner, bound, {**(bases or {}), **classes_of(tree)})
    return None


def imported_bases(
    tree: ast.Module, relative: str, read: Callable[[str], str | None]
) -> dict[str, ast.ClassDef]:
    """The classes of other modules of the workspace the module's classes derive from.

    itsdangerous' ``TimestampSigner(Signer)`` has no ``__init__`` of its own:
    ``Signer``'s, in ``signer.py``, says how to make one, and without it every
    method was a skeleton. Found through the module's ``from`` imports
    (relative, or absolute within its own top-level package); ``read`` gives a
    workspace file's text by its path relative to the root, None if it cannot.
    """
    local = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    wanted = {
        base.id
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for base in node.bases
        if isinstance(base, ast.Name) and base.id not in local
    }
    found: dict[str, ast.ClassDef] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        for alias in node.names:
            bound = alias.asname or alias.name
            if bound not in wanted or bound in found:
                continue
            for path in _module_files(relative, node.module, node.level):
                text = read(path)
                other = parsed_module(text) if text is not None else None
                if other is not None:
                    classes = classes_of(other)
                    if alias.name in classes:
                        found[bound] = classes[alias.name]
                    break
    return found


def _module_files(relative: str, module: str | None, level: int) -> list[str]:
    """Where the module a ``from`` import names may be, relative to the workspace root."""
    path = PurePosixPath(relative)
    own, is_package = module_name(relative)
    parts = own.split(".") if own else []
    # The folder holding the top-level package: "src" of src/pkg/mod.py, "" of pkg/mod.py.
    depth = len(parts) - (0 if is_package else 1)
    package_folder = path.parent
    for _ in range(depth):
        package_folder = package_folder.parent
    if level:
        package = parts if is_package else parts[:-1]
        if level - 1 > len(package):
            return []
        target = package[: len(package) - (level - 1)] + (module.split(".") if module else [])
    elif module and parts and module.split(".")[0] == parts[0]:
        target = module.split(".")
    else:
        return []  # another distribution's module: not the workspace's to read
    if not target:
        return []
    folder = package_folder.joinpath(*target)
    return [f"{folder.as_posix()}.py", (folder / "__init__.py").as_posix()]


__all__ = [
    "Target",
    "classes_of",
    "constructor",
    "find_targets",
    "imported_bases",
    "is_abstract",
    "target_at",
]
