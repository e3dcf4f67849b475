"""What class a function's local variable holds, as far as its bindings in the text say.

A hover on ``loader.load()`` inside a function needs the class of
``loader``. When every binding of the name in the function that holds the
place says the same class (``loader = Loader(...)``, ``loader: Loader``, a
parameter annotated ``Loader``), the lookup can go on from that class
without inference. A builtin container or text (``{...}``, ``[...]``,
``"..."``, ``*args``, ``**kwargs``) is :data:`BUILTIN`. Anything else (a
loop target, a call's result, two bindings that disagree) is unknown: the
caller may ask something slower (jedi).

The same reading types an attribute of a class's instances
(:func:`attribute_class`: ``self.loader = Loader(...)`` in its methods,
``self.loader: Loader``, ``loader: Loader`` in its body) and a module-level
object (:func:`module_object_class`).

Only the holding function's own lines are parsed, never the whole module,
so that a hover costs a fraction of a millisecond here.
"""

from __future__ import annotations

import ast
import bisect
import functools
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ark_lsp.models import ModuleReport, Symbol, SymbolKind

BUILTIN = "<builtin>"
"""The variable holds a builtin container, number or text: no class of ARK's to show."""

IMPORTED = "<imported>"
"""The name is bound by an import in the function: what it names is the import's."""

_BUILTIN_VALUES = (
    ast.Dict,
    ast.List,
    ast.Set,
    ast.Tuple,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.JoinedStr,
)


@dataclass(frozen=True, slots=True)
class LocalClass:
    """What a local variable holds: a class named in the text, or :data:`BUILTIN`."""

    name: str
    """The class as the function's text names it (``Loader``, ``models.Field``) or BUILTIN."""
    called: bool
    """Whether the class is called (``Loader()``): the name must then resolve to a class."""


@dataclass(frozen=True, slots=True)
class LocalBinding:
    """How a name is bound in the function that holds a place."""

    local: bool
    """Whether the function binds it at all (else it is the module's, or a closure's)."""
    bound: LocalClass | None
    """The one class every binding agrees on; None when they disagree or one cannot tell."""


NOT_LOCAL = LocalBinding(local=False, bound=None)
UNKNOWN_LOCAL = LocalBinding(local=True, bound=None)


def local_class(report: ModuleReport, lines: Sequence[str], name: str, line: int) -> LocalBinding:
    """How ``name`` is bound in the innermost function holding ``line`` (1-based).

    Functions nested in one another are looked through from the inside out:
    a name the inner function does not bind may be the outer one's. Code in
    a class's own body sees the names that body binds first; a method's code
    does not (Python skips class scopes for the functions in them).
    """
    if 1 <= line <= len(lines) and _binds_inline(lines[line - 1], name):
        return UNKNOWN_LOCAL  # a lambda's parameter or a comprehension's variable on the line
    inner = _innermost(report, line)
    if inner is not None and inner.kind is SymbolKind.CLASS and line > inner.name_span.line:
        binding = _class_binding(lines, inner, name)
        if binding.local:
            return binding
    for function in holding_functions(report, line):
        text = _dedented(lines, function.name_span.line, function.span.end_line)
        if _never_bound_in(text, name):
            continue  # sympy's 900-line solve() need not be walked for each call it makes
        tree = _parsed_function(text)
        if tree is None:
            return UNKNOWN_LOCAL  # cannot read the function: the name may be its own
        binding = _binding_in(tree, name)
        if binding.local:
            return binding
    return NOT_LOCAL


def _binds_inline(text: str, name: str) -> bool:
    """Whether a lambda or a comprehension on the line ``text`` binds ``name``.

    Their scopes are their own (the function's parse does not read into a
    lambda), and module-level code has no function to parse: the line that
    holds the place says it, erring towards yes.
    """
    if name not in text:
        return False
    escaped = re.escape(name)
    return re.search(rf"\blambda\b[^:]*\b{escaped}\b[^:]*:", text) is not None or (
        re.search(rf"\bfor\b[^:]*?\b{escaped}\b[^:]*?\bin\b", text) is not None
        and re.search(r"[\[({]", text) is not None
    )


def _innermost(report: ModuleReport, line: int) -> Symbol | None:
    """The innermost function or class whose span holds ``line``."""
    inner: Symbol | None = None
    for symbol in report.symbols:
        if symbol.span.line <= line <= symbol.span.end_line and (
            inner is None or symbol.span.line >= inner.span.line
        ):
            inner = symbol
    return inner


def _class_binding(lines: Sequence[str], owner: Symbol, name: str) -> LocalBinding:
    """How the body of the class ``owner`` binds ``name`` itself (its methods' code aside)."""
    tree = _parsed_class(_dedented(lines, owner.name_span.line, owner.span.end_line))
    if tree is None:
        return UNKNOWN_LOCAL
    found: list[LocalClass | None] = []
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if statement.name == name:
                found.append(None)  # a method or a nested class: what it is is for inference
        else:
            for node in _class_level_nodes(statement):
                found.extend(_bindings_of(node, name))
    return _agreed(found)


def holding_functions(report: ModuleReport, line: int) -> list[Symbol]:
    """The functions whose bodies hold ``line``, innermost first."""
    holding = [
        symbol
        for symbol in report.symbols
        if symbol.kind is not SymbolKind.CLASS and symbol.span.line <= line <= symbol.span.end_line
    ]
    return sorted(holding, key=lambda symbol: symbol.span.line, reverse=True)


def _never_bound_in(text: str, name: str) -> bool:
    """Whether a function's ``text`` cannot bind ``name``: it names it at most once, called.

    Every binding names it (a target, a parameter, an import, ``def``, ``as``,
    ``global``), and a call binds nothing; an attribute ``x.name`` is another name.
    """
    found = re.findall(rf"(?<![\w.])(?:(\w+)\s+)?{re.escape(name)}\b(\s*\(?)", text)
    if not found:
        return True
    (before, after), *more = found
    return not more and after.endswith("(") and before not in ("def", "class")


@functools.lru_cache(maxsize=32)
def _parsed_function(text: str) -> ast.FunctionDef | None:
    """The function a text defines; cached, as a hover asks of a function more than once."""
    try:
        module = ast.parse(text)
    except SyntaxError:  # half-typed, or the def line is not where the body starts
        return None
    node = module.body[0] if module.body else None
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None  # type: ignore[return-value]


def _binding_in(function: ast.FunctionDef, name: str) -> LocalBinding:
    found: list[LocalClass | None] = []
    arguments = function.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if argument.arg == name:
            found.append(_annotated(argument.annotation))
    for starred in (arguments.vararg, arguments.kwarg):
        if starred is not None and starred.arg == name:
            found.append(LocalClass(BUILTIN, called=False))
    for node in _own_nodes(function):
        if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
            return NOT_LOCAL  # the module's name, or an enclosing function's
        found.extend(_bindings_of(node, name))
    return _agreed(found)


def _agreed(found: Sequence[LocalClass | None]) -> LocalBinding:
    """What the bindings found say together: one class, unknown, or none at all."""
    if not found:
        return NOT_LOCAL
    first = found[0]
    if first is None or any(other != first for other in found[1:]):
        return UNKNOWN_LOCAL  # a binding ARK cannot read, or two that disagree
    return LocalBinding(local=True, bound=first)


def _own_nodes(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """The function's nodes, without the bodies of the functions and classes it defines."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue  # their names are bound here (yielded above); their bodies are their own
        pending.extend(ast.iter_child_nodes(node))


def _bindings_of(node: ast.AST, name: str) -> Iterator[LocalClass | None]:
    """What each binding of ``name`` in one node says it holds (None: cannot tell)."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                yield _value_class(node.value)
            elif _binds_within(target, name):
                yield None  # unpacked from something: its type is for inference
    elif isinstance(node, ast.AnnAssign):
        if isinstance(node.target, ast.Name) and node.target.id == name:
            yield _annotated(node.annotation)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        if any((alias.asname or alias.name.partition(".")[0]) == name for alias in node.names):
            yield LocalClass(IMPORTED, called=False)
    elif _binds_opaquely(node, name):
        yield None


def _binds_opaquely(node: ast.AST, name: str) -> bool:
    """Whether the node binds ``name`` to something whose class the text does not say."""
    if isinstance(node, ast.AugAssign | ast.NamedExpr):
        return isinstance(node.target, ast.Name) and node.target.id == name
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        return _binds_within(node.target, name)
    if isinstance(node, ast.withitem):
        return node.optional_vars is not None and _binds_within(node.optional_vars, name)
    if isinstance(node, ast.Delete):
        return any(_binds_within(target, name) for target in node.targets)
    if isinstance(node, ast.MatchMapping):
        return node.rest == name
    named = (
        ast.ExceptHandler,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.MatchAs,
        ast.MatchStar,
    )
    return isinstance(node, named) and getattr(node, "name", None) == name


def _binds_within(target: ast.expr, name: str) -> bool:
    """Whether assigning to ``target`` binds ``name`` (``x[0] = ...`` and ``x.a = ...`` do not)."""
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, ast.Starred):
        return _binds_within(target.value, name)
    if isinstance(target, ast.Tuple | ast.List):
        return any(_binds_within(element, name) for element in target.elts)
    return False


def _value_class(value: ast.expr) -> LocalClass | None:
    if isinstance(value, _BUILTIN_VALUES):
        return LocalClass(BUILTIN, called=False)
    if isinstance(value, ast.Constant):
        return LocalClass(BUILTIN, called=False) if value.value is not None else None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mod):
        left = value.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return LocalClass(BUILTIN, called=False)  # "%s" % ... is text
    if isinstance(value, ast.Call) and (dotted := _dotted(value.func)) is not None:
        return LocalClass(dotted, called=True)
    return None


def _annotated(annotation: ast.expr | None) -> LocalClass | None:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    dotted = _dotted(annotation) if annotation is not None else None
    return LocalClass(dotted, called=False) if dotted is not None else None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (owner := _dotted(node.value)) is not None:
        return f"{owner}.{node.attr}"
    return None


_LONGEST_STATEMENT = 40
"""Lines a module-level assignment may span before it is taken as unreadable."""


def _is_word_char(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] == "_")


_STRING_OR_COMMENT = re.compile(
    r'''"""(?:[^"\\]+|\\[\s\S]|"(?!""))*(?:"""|$)'''
    r"""|'''(?:[^'\\]+|\\[\s\S]|'(?!''))*(?:'''|$)"""
    r"""|"(?:[^"\\\n]+|\\[\s\S])*"?|'(?:[^'\\\n]+|\\[\s\S])*'?|#[^\n]*"""
)
"""A string literal (its prefix aside) or a comment, from where it starts; scanned from the
start of a text, each match starts where the tokenizer's would."""


def _blanked(found: re.Match[str]) -> str:
    return "\n".join(" " * len(part) for part in found.group().split("\n"))


@functools.lru_cache(maxsize=8)
def _split_lines(text: str) -> list[str]:
    """The lines of ``text`` (a list not to change); cached as :func:`_blanked_lines` is."""
    return text.split("\n")


@functools.lru_cache(maxsize=8)
def _blanked_lines(text: str) -> list[str]:
    """All the lines of ``text``, strings and comments blanked (a list not to change).

    Cached: a hover asks of one text more than once.
    """
    return _STRING_OR_COMMENT.sub(_blanked, text).split("\n")


def _code_lines(text: str, last: int) -> list[str]:
    """The lines of ``text`` up to line ``last`` (0-based), with strings and comments blanked.

    One scan of the text from its start; blanking keeps every line's length
    and lines, so a line still reads as the code it holds.
    """
    end = -1
    for _ in range(last + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    return _STRING_OR_COMMENT.sub(_blanked, text[:end]).split("\n")


def _naming_lines(text: str, name: str) -> list[int]:
    """The lines (0-based) of ``text`` that hold ``name`` as a whole word, in order."""
    naming: list[int] = []
    index, counted = 0, 0
    at = text.find(name)
    while at >= 0:  # str.find, not a regex: some hundred times faster on a long text
        end = at + len(name)
        if not _is_word_char(text, at - 1) and not _is_word_char(text, end):
            index += text.count("\n", counted, at)
            counted = at
            if not naming or naming[-1] != index:
                naming.append(index)
        at = text.find(name, end)
    return naming


def _dedented(lines: Sequence[str], first: int, last: int) -> str:
    """Lines ``first`` to ``last`` (1-based) of ``lines``, their common indentation removed."""
    return _dedented_part(_joined(lines), first, last)


@functools.lru_cache(maxsize=32)
def _dedented_part(text: str, first: int, last: int) -> str:
    """Cached: a hover reads a class or function more than once, and a long one's dedent costs."""
    own = (line.rstrip("\r") for line in _split_lines(text)[first - 1 : last])
    return textwrap.dedent("\n".join(own))


_JOINED: dict[int, tuple[Sequence[str], str]] = {}
"""The text of the last few line sequences read, by identity: a hover reads one more than once."""


def _joined(lines: Sequence[str]) -> str:
    """The text of ``lines``, the same string object for the same sequence while it is kept."""
    kept = _JOINED.get(id(lines))
    if kept is not None and kept[0] is lines:
        return kept[1]
    text = "".join(lines) if lines and lines[0].endswith("\n") else "\n".join(lines)
    if len(_JOINED) >= 16:
        _JOINED.pop(next(iter(_JOINED)))
    _JOINED[id(lines)] = (lines, text)  # the sequence is held: its id is not reused meanwhile
    return text


def in_body(bodies: Sequence[tuple[int, int]], line: int) -> bool:
    """Whether ``line`` is past the first line of one of ``bodies`` and not past its last.

    ``bodies`` are first and last lines, in order, none inside another.
    """
    at = bisect.bisect_left(bodies, (line, 0)) - 1
    return at >= 0 and bodies[at][0] < line <= bodies[at][1]


def module_rebinds(
    lines: Sequence[str], name: str, bodies: Callable[[], Sequence[tuple[int, int]]]
) -> bool:
    """Whether a module binds ``name`` at its top level but by ``def``, ``class`` or import.

    An assignment (unpacked too), an augmented one, ``:=``, a loop, ``with
    ... as``, ``except ... as``, ``del``, or a ``global`` declaration
    anywhere. ``bodies`` gives the first and last lines (1-based) of each
    module-level function and class, in order: a binding inside one is its
    own (a ``global`` one aside). Read from the text, erring towards yes;
    the common case (no such line) is one search.
    """
    if not name.isidentifier() or not lines:
        return False
    spans: Sequence[tuple[int, int]] | None = None
    for number, declares in _top_level_bindings(_joined(lines), name):
        if declares:
            return True  # ``global name``: some function rebinds the module's name
        spans = bodies() if spans is None else spans
        if not in_body(spans, number):
            return True
    return False


@functools.lru_cache(maxsize=8)
def _bindings_read(text: str) -> dict[str, tuple[tuple[int, bool], ...]]:
    """What :func:`_top_level_bindings` found in ``text`` so far, by name (the last texts')."""
    return {}


def _top_level_bindings(text: str, name: str) -> tuple[tuple[int, bool], ...]:
    """The lines (1-based) of ``text`` that may bind ``name`` but by def, class or import.

    Each with whether it declares it ``global`` (or ``nonlocal``); kept for
    the last few texts read.
    """
    read = _bindings_read(text)
    if name not in read:
        read[name] = _find_top_level_bindings(text, name)
    return read[name]


def _find_top_level_bindings(text: str, name: str) -> tuple[tuple[int, bool], ...]:
    escaped = re.escape(name)
    target = r"[ \t]*[\w.*]+[ \t]*"
    binding = re.compile(
        rf"^[ \t]*[(\[]?(?:{target},)*[ \t]*\*?{escaped}[ \t]*(?:,{target})*,?[ \t]*[)\]]?"
        rf"[ \t]*(?::[^=\n]*)?=(?!=)"
        rf"|\b{escaped}[ \t]*(?::=|[-+*/%&|^@]=|<<=|>>=|\*\*=|//=)"
        rf"|\bfor\b[^\n#]*?\b{escaped}\b[^\n#]*?\bin\b|\bas[ \t]+{escaped}\b"
        rf"|\b(?:del|global|nonlocal)\b[^\n#]*\b{escaped}\b"
    )
    declared = re.compile(rf"\b(?:global|nonlocal)\b[^\n#]*\b{escaped}\b")
    naming = _naming_lines(text, name)
    if not naming:
        return ()
    raw = _split_lines(text)
    candidates = [index for index in naming if binding.search(raw[index])]
    if not candidates:
        return ()
    code = _blanked_lines(text)  # strings and comments blanked
    return tuple(
        (index + 1, declared.search(code[index]) is not None)
        for index in candidates
        if binding.search(code[index]) and not _in_import(code, index)
    )


_IMPORT_START = re.compile(r"^[ \t]*(?:from[ \t]+\S+[ \t]+)?import\b")


def _in_import(code: Sequence[str], index: int) -> bool:
    """Whether line ``index`` of ``code`` is (part of) an import statement."""
    if _IMPORT_START.match(code[index]):
        return True
    for before in range(index - 1, max(-1, index - _LONGEST_STATEMENT), -1):
        line = code[before]
        if _IMPORT_START.match(line):
            return ("(" in line and ")" not in line) or line.rstrip().endswith("\\")
        if ")" in line or not (line[:1].isspace() or line.rstrip().endswith("\\")):
            return False
    return False


def module_object_class(lines: Sequence[str], name: str) -> LocalBinding:
    """How a module binds ``name``, when its text binds it once, at the top level.

    A module-level object (``router = ConnectionRouter()``) is read only
    when its text has exactly that one binding of the name: any other
    binding anywhere (an indented one, a loop, ``as``, ``global``, ``del``)
    may rebind it, and leaves it unknown.
    """
    if not name.isidentifier():
        return NOT_LOCAL
    escaped = re.escape(name)
    assignment = re.compile(rf"[ \t]*{escaped}[ \t]*(?::[^=\n]*)?=(?!=)")
    other = re.compile(
        rf"\b(?:for|as|def|class|global|nonlocal|del)\b[^\n#]*\b{escaped}\b"
        rf"|\b{escaped}[ \t]*(?::=|[-+*/%&|^@]=|<<=|>>=|\*\*=|//=)"
        rf"|^[ \t]*{escaped}[ \t]*,|,[ \t]*{escaped}[ \t]*(?:,|=(?!=))"
    )
    # Only the lines naming it are read closely: a long module is one search of its text.
    text = _joined(lines)
    naming = _naming_lines(text, name)
    code: Sequence[str] = lines
    assigned = [index for index in naming if assignment.match(code[index])]
    if naming and (len(assigned) != 1 or any(other.search(code[index]) for index in naming)):
        # Prose names it too (``# for installed apps``, a docstring's ``apps = ...``):
        # read again with the module's comments and strings blanked.
        code = _blanked_lines(text)
        assigned = [index for index in naming if assignment.match(code[index])]
    if not assigned:
        return NOT_LOCAL
    if len(assigned) > 1 or any(other.search(code[index]) for index in naming):
        return UNKNOWN_LOCAL
    first = assigned[0]
    if lines[first][:1].isspace():
        return UNKNOWN_LOCAL  # in a block of the module's (if, try) or of a function
    for end in range(first + 1, min(len(lines), first + _LONGEST_STATEMENT) + 1):
        text = "\n".join(line.rstrip("\r\n") for line in lines[first:end])
        try:
            statement = ast.parse(text).body[0]
        except SyntaxError:
            continue
        found = list(_bindings_of(statement, name))
        return LocalBinding(local=True, bound=found[0] if len(found) == 1 else None)
    return UNKNOWN_LOCAL


def attribute_class(lines: Sequence[str], first: int, last: int, attribute: str) -> LocalBinding:
    """How the class on ``lines`` ``first`` to ``last`` (1-based) binds an instance's ``attribute``.

    Every binding counts: an assignment to ``self.attribute`` (to the first
    parameter of any of its methods), annotated or not, and one of
    ``attribute`` in the class's body (``attribute: Loader``). ``local`` is
    False when the class binds it nowhere; ``bound`` is None when a binding
    says no class (unpacked, looped over, ``setattr``, a method of that name)
    or two disagree.
    """
    text = _dedented(lines, first, last)
    tree = _parsed_class(text)
    if tree is None:
        return UNKNOWN_LOCAL
    naming = _lines_that_may_bind(text, attribute)
    found: list[LocalClass | None] = []
    for statement in tree.body:
        if naming is not None and not _holds_any(statement, naming):
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            if statement.name == attribute:
                found.append(None)  # a method or property: what it returns is for inference
            instance = _instance_name(statement)
            if instance is not None:
                for node in ast.walk(statement):
                    found.extend(_attribute_bindings(node, instance, attribute))
        else:
            for node in _class_level_nodes(statement):
                found.extend(_bindings_of(node, attribute))
        if None in found:
            return UNKNOWN_LOCAL  # one binding says no class: the rest cannot change that
    return _agreed(found)


def _lines_that_may_bind(text: str, attribute: str) -> list[int] | None:
    """The lines (1-based, in order) of a class's ``text`` that may bind ``attribute``.

    A binding spells the name out, or calls ``setattr``; only the statements
    holding such a line need walking (a large class's methods mostly do not).
    None when the text is not ASCII: the parser reads an identifier in its
    NFKC form, which a search of the text would miss.
    """
    if not text.isascii():
        return None
    named = _naming_lines(text, attribute) + _naming_lines(text, "setattr")
    return sorted(line + 1 for line in named)


def _holds_any(statement: ast.stmt, lines: Sequence[int]) -> bool:
    """Whether one of ``lines`` (1-based, in order) falls within ``statement``, decorators too."""
    first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
    at = bisect.bisect_left(lines, first)
    return at < len(lines) and lines[at] <= (statement.end_lineno or statement.lineno)


def class_rebinds(lines: Sequence[str], first: int, last: int, name: str) -> bool:
    """Whether the class on ``lines`` ``first`` to ``last`` (1-based) binds ``name`` but by def.

    An assignment in its body (``save = other``) or to its instances
    (``self.save = ...`` in a method, ``setattr(self, "save", ...)``) hides
    a method ``save`` of it or of its bases. A ``setattr`` with a name it
    computes does not: it is how ``__setstate__`` and ``**kwargs``
    constructors restore data attributes, and jedi and pyright take the
    ``def`` there too. One search of its text first; the class is parsed
    only when a line may be such a binding.
    """
    if not name.isidentifier():
        return True
    read = _class_bindings_read(_joined(lines))
    key = (first, last, name)
    if key not in read:
        read[key] = _class_rebinds(lines, first, last, name)
    return read[key]


@functools.lru_cache(maxsize=8)
def _class_bindings_read(text: str) -> dict[tuple[int, int, str], bool]:
    """What :func:`class_rebinds` found in the module ``text`` so far (the last texts')."""
    return {}


def _class_rebinds(lines: Sequence[str], first: int, last: int, name: str) -> bool:
    text = _dedented(lines, first, last)
    escaped = re.escape(name)
    maybe = re.compile(
        rf"^[ \t]*(?:\w+\.)?{escaped}[ \t]*(?::[^=\n]*)?(?:[-+*/%&|^@]|<<|>>|\*\*|//)?=(?!=)"
        rf"|\b(?:for|as|del)\b[^\n#]*\b{escaped}\b|\bsetattr\([ \t]*(?:self|cls)\b",
        re.MULTILINE,
    )
    if name not in text or maybe.search(text) is None:
        return False
    return _assigns(text, name)


def _assigns(text: str, name: str) -> bool:
    """Whether the class ``text`` defines binds ``name`` by assignment (or does not parse).

    In its body, or to its instances in its methods (a ``setattr`` on an
    instance counts only with a literal name).
    """
    tree = _parsed_class(text)
    if tree is None:
        return True
    naming = _lines_that_may_bind(text, name)
    names: set[str] = set()
    stored = (ast.Store, ast.Del)
    for statement in tree.body:
        if naming is not None and not _holds_any(statement, naming):
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            instance = _instance_name(statement)
            for node in ast.walk(statement) if instance is not None else ():
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.ctx, stored)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == instance
                ):
                    names.add(node.attr)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "setattr"
                    and _sets_on(node, instance)  # type: ignore[arg-type]
                ):
                    named = node.args[1] if len(node.args) > 1 else None
                    if isinstance(named, ast.Constant) and isinstance(named.value, str):
                        names.add(named.value)
        elif not isinstance(statement, ast.ClassDef):
            for node in _class_level_nodes(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, stored):
                    names.add(node.id)
                elif isinstance(node, ast.ExceptHandler) and node.name:
                    names.add(node.name)
                elif isinstance(node, ast.Import | ast.ImportFrom):
                    names.update((a.asname or a.name).partition(".")[0] for a in node.names)
    return name in names


def _sets_on(node: ast.AST, instance: str) -> bool:
    """Whether ``node``, if a ``setattr`` call, sets an attribute of ``instance`` itself."""
    if not isinstance(node, ast.Call):
        return True
    target = node.args[0] if node.args else None
    return isinstance(target, ast.Name) and target.id == instance


@functools.lru_cache(maxsize=32)
def _parsed_class(text: str) -> ast.ClassDef | None:
    """The class a text defines; cached, as a hover asks of a class more than once."""
    try:
        module = ast.parse(text)
    except SyntaxError:
        return None
    node = module.body[0] if module.body else None
    return node if isinstance(node, ast.ClassDef) else None


def _instance_name(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a method's instance has in it: its first parameter (``self``)."""
    positional = (*method.args.posonlyargs, *method.args.args)
    return positional[0].arg if positional else None


def _class_level_nodes(statement: ast.stmt) -> Iterator[ast.AST]:
    """A class-body statement's nodes, without the bodies of the classes it defines."""
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.ClassDef | ast.Lambda):
            continue
        pending.extend(ast.iter_child_nodes(node))


def _attribute_bindings(
    node: ast.AST, instance: str, attribute: str
) -> Iterator[LocalClass | None]:
    """What each binding of ``instance.attribute`` in one node says it holds (None: cannot tell)."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if _is_attribute(target, instance, attribute):
                yield _value_class(node.value)
            elif _assigns_attribute(target, instance, attribute):
                yield None
    elif isinstance(node, ast.AnnAssign):
        if _is_attribute(node.target, instance, attribute):
            yield _annotated(node.annotation)
    elif isinstance(node, ast.AugAssign):
        if _is_attribute(node.target, instance, attribute):
            yield None
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        if _assigns_attribute(node.target, instance, attribute):
            yield None
    elif isinstance(node, ast.withitem):
        if node.optional_vars is not None and _assigns_attribute(
            node.optional_vars, instance, attribute
        ):
            yield None
    elif isinstance(node, ast.Delete):
        if any(_assigns_attribute(target, instance, attribute) for target in node.targets):
            yield None
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "setattr"
        and _may_set(node.args, attribute)
    ):
        yield None


def _is_attribute(target: ast.expr, instance: str, attribute: str) -> bool:
    return (
        isinstance(target, ast.Attribute)
        and target.attr == attribute
        and isinstance(target.value, ast.Name)
        and target.value.id == instance
    )


def _assigns_attribute(target: ast.expr, instance: str, attribute: str) -> bool:
    """Whether assigning to ``target`` binds ``instance.attribute``, unpacked or not."""
    if _is_attribute(target, instance, attribute):
        return True
    if isinstance(target, ast.Starred):
        return _assigns_attribute(target.value, instance, attribute)
    if isinstance(target, ast.Tuple | ast.List):
        return any(_assigns_attribute(element, instance, attribute) for element in target.elts)
    return False


def _may_set(arguments: Sequence[ast.expr], attribute: str) -> bool:
    """Whether ``setattr(*arguments)`` may set ``attribute`` (a name it computes may be it)."""
    if len(arguments) < 2:
        return True
    name = arguments[1]
    return not (isinstance(name, ast.Constant) and name.value != attribute)


def attribute_bound_elsewhere(
    lines: Sequence[str], inside: Sequence[tuple[int, int]], attribute: str
) -> bool:
    """Whether a line of a module outside the ``inside`` spans (1-based) may bind ``x.attribute``.

    Read from the text (``x.attribute = ...``, ``+=``, unpacked, looped over,
    ``as``, ``del``, any ``setattr``), erring towards yes: a class's own
    reading of its attribute holds only if nothing else in its module binds it.
    """
    if not attribute.isidentifier():
        return True
    escaped = re.escape(attribute)
    binding = re.compile(
        rf"\.{escaped}[ \t]*(?::[^=\n]*)?(?:[-+*/%&|^@]|<<|>>|\*\*|//)?=(?!=)"
        rf"|\.{escaped}[ \t]*,[^\n]*=|\b(?:for|as|del)\b[^\n#]*\.{escaped}\b|\bsetattr\("
    )
    text = "".join(lines) if lines and lines[0].endswith("\n") else "\n".join(lines)
    for found in binding.finditer(text):
        line = text.count("\n", 0, found.start()) + 1
        if not any(first <= line <= last for first, last in inside):
            return True
    return False
