"""The tables of a generated test file: rows from observations, and the imports they need.

A :class:`Block` is one target's tests as ``test.py.j2`` sees them: its
columns, the call under test, and tables of returned values, result types
and raised exceptions, chosen from the characterization to run the most
lines with the fewest rows; or a skipped skeleton when nothing could be
observed. :class:`Imports` gathers the names the rows refer to.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import re
import sys
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ark_lsp.generate.characterize import testfile
from ark_lsp.generate.characterize.driver import CALL_TIMEOUT, MADE_INPUTS, VALUE_CONSTANTS
from ark_lsp.generate.characterize.observe import Characterization, Observation
from ark_lsp.generate.characterize.samples import Plan, arguments, make_cases
from ark_lsp.generate.characterize.targets import Target
from ark_lsp.generate.characterize.untrusted import one_line
from ark_lsp.generate.style import Style

MAX_VALUE_ROWS = 24
"""Rows of returned values per function: the ones that run the most lines first."""
MAX_RAISE_ROWS = 6
MAX_TYPE_ROWS = 6
SKELETON_ROWS = 3


@dataclass
class Block:
    """One target's tests, as the test template sees them."""

    name: str
    columns: list[str]
    call: str
    expected: str = "expected"
    expected_type: str = "expected_type"
    error: str = "error"
    returns: list[list[str]] = field(default_factory=list)
    raises: list[list[str]] = field(default_factory=list)
    types: list[list[str]] = field(default_factory=list)
    skeleton: list[list[str]] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    qualname: str = ""
    spare: list[list[str]] = field(default_factory=list)
    """Skeleton rows, for when every observed row has to go."""
    statement: str = ""
    """The call as a statement of its own (in ``pytest.raises``): a property read is
    assigned to ``_``, or linters take it for an expression with no effect."""
    returns_nothing: bool = False
    """The target never returns a value: its rows are calls that run without raising,
    made as statements (type checkers refuse to compare what a call of it gives)."""
    after: bool = False
    """The rows' expected values are the states the calls leave the instance in: the test
    makes it (:attr:`made`, named :attr:`instance`), calls :attr:`after_call`, compares."""
    instance: str = "instance"
    made: str = ""
    after_call: str = ""

    @property
    def rows(self) -> int:
        return len(self.returns) + len(self.raises) + len(self.types) + len(self.skeleton)

    @property
    def code(self) -> str:
        """The code the block writes besides its names: its call and its tables' cells."""
        if not self.rows:
            return ""  # a target left alone writes nothing, and needs no import
        tables = (self.returns, self.raises, self.types, self.skeleton)
        return " ".join([self.call, *(cell for table in tables for row in table for cell in row)])

    @property
    def test_names(self) -> tuple[str, ...]:
        """The test functions the block renders, in the file's order (no rows, no test)."""
        names = [f"test_{self.name}"] if self.returns or self.skeleton else []
        if self.types:
            names.append(f"test_{self.name}_result_type")
        if self.raises:
            names.append(f"test_{self.name}_raises")
        return tuple(names)


class Imports:
    """The names a test file needs, gathered while its blocks are made."""

    def __init__(
        self,
        module: str,
        taken: Collection[str] = (),
        present: Collection[str] = (),
        local: Collection[str] = (),
        bindings: Mapping[str, str] | None = None,
    ) -> None:
        """``taken``: names the test file binds to something else; ``present``: to the same.

        ``local``: names its functions bind for themselves (``attrs = ...`` in
        a test), which an import of the module's own would be hidden by:
        linters warn of each such local, so those are named through the module.
        ``bindings``: what each of the file's top-level names is bound to
        (:func:`testfile.module_bindings`), so that a class the file already
        names is named so, and a module whose name it binds to something else
        is imported under another.
        """
        self.module = module
        self.taken = frozenset(taken)
        self.present = frozenset(present)
        self.local = frozenset(local) - self.present
        self.bindings = dict(bindings or {})
        self.from_module: list[str] = []
        self.from_others: dict[str, list[str]] = {}
        """Names of other modules the file already imports names from, joined to those."""
        self.modules: list[str] = []
        self.aliases: dict[str, str] = {}
        """Modules imported under another name (``import datetime as datetime_module``)."""
        self.pytest = True
        self.any = False

    def own(self, name: str) -> str:
        """How a test names the module's own ``name``: imported, or through the module.

        Through the module too when pytest would collect the name imported into the
        test module (jinja2's ``tests.py`` defines ``test_boolean``, ``test_defined``...),
        or when the name is a builtin's, which an import would hide (jmespath's
        ``ast.slice``: pylint's W0622), or when the file imports the module itself under
        a name and does not import this one (``from sqlparse import utils``: its tests
        call ``utils.split_unquoted_newlines``, and so do ARK's).
        """
        through_module = name not in self.present and any(
            source == self.module for source in self.bindings.values()
        )
        if name in self.local or _collected_by_pytest(name) or name in _BUILTINS or through_module:
            return self._qualified(self.module, name)
        if name not in self.from_module and name not in self.present:
            self.from_module.append(name)
        return name

    def reference(self, observation: Observation) -> str:
        """How a test names the class of a raised exception or a result, or a value's maker."""
        if observation.module == "builtins":
            return observation.name
        outer, dot, inner = observation.name.partition(".")
        if observation.module == self.module and outer not in self.taken:
            return self.own(outer) + dot + inner  # ``Color.RED``: an enum's member
        return self._qualified(observation.module, observation.name)

    def of_module(self, module: str, name: str) -> str:
        """How a test names ``name`` of another module (``date`` of ``datetime``)."""
        return self._qualified(module, name)

    def _qualified(self, module: str, name: str) -> str:
        """``module.name``, unless the file binds the module's name to something else.

        ``from datetime import datetime`` in a test file makes ``datetime.datetime``
        an attribute of the class: a class the file names already is named as
        it names it, any other name of that module through the file's own alias
        of the module (``_sigs`` of ``import toolz._signatures as _sigs``), or
        an import of the module under another name (``datetime_module``).
        """
        named = f"{module}.{name}"
        for bound, source in self.bindings.items():
            if source == named:
                return bound
        for bound, source in self.bindings.items():
            if source == module and bound != module.split(".")[0]:
                return f"{bound}.{name}"  # ``import toolz._signatures as _sigs``: _sigs.name
        if self._joins_a_from_import(module, name):
            # ``from itsdangerous.exc import BadTimeSignature`` in the file: BadSignature
            # joins it, rather than ``import itsdangerous.exc`` beside it.
            names = self.from_others.setdefault(module, [])
            if name not in names:
                names.append(name)
            return name
        if module not in self.modules:
            self.modules.append(module)
        top = module.split(".")[0]
        if self.bindings.get(top, top) == top:
            return named
        if module not in self.aliases:
            alias = f"{module.replace('.', '_')}_module"
            while alias in self.bindings:
                alias += "_"
            self.aliases[module] = alias
        return f"{self.aliases[module]}.{name}"

    def _joins_a_from_import(self, module: str, name: str) -> bool:
        """Whether the file imports names from ``module`` and ``name`` is free to join them."""
        free = (
            name.isidentifier()
            and name not in self.bindings
            and name not in self.local
            and name not in self.taken
            and not _collected_by_pytest(name)
            and name not in self.from_module
            and all(
                name not in names for other, names in self.from_others.items() if other != module
            )
        )
        return free and any(
            source.rpartition(".")[0] == module for source in self.bindings.values() if source
        )

    def lines(
        self, used_in: str | None = None, width: int = 100, *, single_line: bool = False
    ) -> list[str]:
        """The import lines, grouped and sorted as isort and ruff would: stdlib, others, own.

        With ``used_in``, the blocks' code (:attr:`Block.code`), only the
        modules and names it uses: a table whose rows the rehearsal dropped
        leaves no import of the class it named behind. A ``from`` import
        longer than ``width`` takes one name a line; with ``single_line``
        (isort's ``force-single-line``) each name is a statement of its own.
        """
        own = self.module.split(".")[0]
        groups: list[list[str]] = [[], [], []]
        modules = {"pytest", *self.modules}
        from_module = self.from_module
        if used_in is not None:
            modules = {
                m
                for m in modules
                if m == "pytest" or _mentions(used_in, self.aliases.get(m, m), as_module=True)
            }
            from_module = [n for n in from_module if _mentions(used_in, n, as_module=False)]
        for name in sorted(modules):
            top = name.split(".")[0]
            section = 0 if top in sys.stdlib_module_names else 2 if top == own else 1
            alias = self.aliases.get(name)
            groups[section].append(f"import {name} as {alias}" if alias else f"import {name}")
        if self.any:
            groups[0].append("from typing import Any")
        for module, joined in sorted(self.from_others.items()):
            if used_in is not None:
                joined = [n for n in joined if _mentions(used_in, n, as_module=False)]
            if joined:
                top = module.split(".")[0]
                section = 0 if top in sys.stdlib_module_names else 2 if top == own else 1
                names = sorted(joined, key=_by_type)
                groups[section] += _from_imports(module, names, width, single_line)
        if from_module:
            names = sorted(from_module, key=_by_type)
            groups[2] += _from_imports(self.module, names, width, single_line)
        lines: list[str] = []
        for group in groups:
            if group:
                lines += [*([""] if lines else []), *group]
        return lines


def _from_imports(module: str, names: list[str], width: int, single_line: bool) -> list[str]:
    """``from module import ...`` of ``names``: one statement, or one a name."""
    if single_line:
        return [testfile.import_from(module, [name], width) for name in names]
    return [testfile.import_from(module, names, width)]


def _collected_by_pytest(name: str) -> bool:
    """Whether pytest's default ``python_functions`` or ``python_classes`` match ``name``."""
    return name.startswith(("test", "Test"))


def _mentions(code: str, name: str, *, as_module: bool) -> bool:
    """Whether ``code`` names ``name`` whole (a module: followed by an attribute)."""
    ending = r"\." if as_module else r"\b"
    return re.search(rf"(?<![\w.]){re.escape(name)}{ending}", code) is not None


def _by_type(name: str) -> tuple[int, str]:
    """The order isort gives imported names: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _call(target: Target, joined: str, imports: Imports, construction: str = "") -> str:
    """The target called with ``joined``; a method on an instance made with ``construction``."""
    if target.class_name is None:
        call = f"{imports.own(target.name)}({joined})"
    else:
        outer, dot, inner = target.class_name.partition(".")
        named = imports.own(outer) + dot + inner
        owner = f"{named}({construction})" if target.on_instance else named
        call = f"{owner}.{target.name}"
        if target.binding != "property":
            call += f"({joined})"
    return _awaited(target, call, imports)


def _awaited(target: Target, call: str, imports: Imports) -> str:
    """``call`` run to its end when the target is a coroutine function (``asyncio.run``)."""
    if not target.is_async:
        return call
    if "asyncio" not in imports.modules:
        imports.modules.append("asyncio")
    return f"asyncio.run({call})"


_BUILTINS = frozenset(dir(builtins))


def _column_names(target: Target, plan_: Plan, imports: Imports) -> list[str]:
    # "request" is pytest's own fixture: a parametrize column of that name stops collection.
    # The package's name may start a call (``attr._make.attrs(...)``). A name the file
    # binds at its top (``from itertools import count``) would be redefined (W0621).
    package = imports.module.partition(".")[0]
    taken = {target.name, target.class_name or "", "pytest", "asyncio", "Any", "request", package}
    taken |= {*imports.bindings, *imports.from_module}
    names = []
    for column in plan_.columns:
        name = column.name
        if name in _BUILTINS:  # a test's parameter ``type`` would hide the builtin (W0622)
            name = f"{name}_"
        while name in taken:
            name = f"{name}_arg"
        taken.add(name)
        names.append(name)
    return names


def _free(name: str, columns: list[str]) -> str:
    while name in columns:
        name = f"{name}_"
    return name


def make_block(
    characterization: Characterization | None,
    target: Target,
    plan_: Plan,
    imports: Imports,
    style: Style,
    no_sandbox: str | None,
) -> Block:
    names = _column_names(target, plan_, imports)
    # How the instance of a method is made: as it was when observed, else the first guess.
    construction = (
        characterization.construction
        if characterization is not None and characterization.observations
        else next(iter(plan_.constructions), "")
    )
    # The test's parameters passed as the target's: a renamed keyword keeps its own name.
    passed = arguments(plan_.columns, names)
    made_with = _in_file(f"_({style.literal(construction)})", imports)[2:-1]
    call = _call(target, passed, imports, made_with)
    _, cases = make_cases(target.signature, plan_.seeds, limit=SKELETON_ROWS)
    block = Block(
        name=target.test_name,
        columns=names,
        call=call,
        expected=_free("expected", names),
        expected_type=_free("expected_type", names),
        error=_free("error", names),
        qualname=target.qualname,
        spare=[[*_cells(c.values, imports, style), "..."] for c in cases],
    )
    observations = characterization.observations if characterization else ()
    if characterization is not None:
        block.notes += notes_for(characterization)
    # One call expression serves every table. Iterators are compared as lists, and a
    # generator raises only while it is consumed: such calls are wrapped in list(),
    # which raises what the call itself raises too.
    consumed = sum(1 for o in observations if o.consumed)
    plain = sum(1 for o in observations if o.kind in ("value", "type") and not o.consumed)
    if consumed and consumed >= plain:
        block.call = f"list({block.call})"
        left_out = plain
        observations = tuple(o for o in observations if o.consumed or o.kind == "raises")
    else:
        left_out = consumed
        observations = tuple(o for o in observations if not o.consumed)
    if left_out:
        block.notes.append(f"{left_out} result(s) of the other kind (iterator or not) left out")
    values = [o for o in observations if o.kind == "value"]
    if values and target.depends_on:
        # An object its class made may still be asserted to be of that class.
        kept = [_of_its_class(o) for o in values if o.name]
        if len(kept) < len(values):
            block.notes.append(
                f"{len(values) - len(kept)} result(s) left out: {target.name} reads "
                f"{', '.join(target.depends_on)}, so they need not repeat"
            )
        observations = (*observations, *kept)
        values = []
    nothing = target.returns_nothing and all(o.text == "None" for o in values)
    left = [o for o in values if o.after] if nothing and target.class_name else []
    if left:
        # bidict's MutableBidict().put(1, 1) asserted nothing: the state it leaves does.
        if len(left) < len(values):
            block.notes.append(
                f"{len(values) - len(left)} call(s) left out: the state they leave the "
                f"{target.class_name} in cannot be written as a call of it"
            )
        values, nothing = left, False
        _compare_state(block, target, passed, imports, made_with)
    edges = dict(target.edges)
    at_edges = {
        index
        for index, o in enumerate(values)
        for value, column in zip(o.values, plan_.columns, strict=False)
        if value in edges.get(column.name, ())
    }
    block.returns = [
        [*_cells(o.values, imports, style), _written(o, imports, style, target.class_name)]
        # A call that shows no result is worth a row only for the lines it runs.
        for o in choose(values, MAX_VALUE_ROWS, fill=not nothing, first=at_edges)
    ]
    if nothing:
        block.returns_nothing = True
        block.spare = [row[:-1] for row in block.spare]
        block.returns = [row[:-1] for row in block.returns] if names else []
        if values and names:
            block.notes.append(
                f"{target.name} returns nothing: each row is a call that runs without raising"
            )
    misused = [o for o in observations if o.kind == "raises" and o.incidental]
    if misused:
        observations = tuple(o for o in observations if not (o.kind == "raises" and o.incidental))
        errors = " or ".join(sorted({o.name for o in misused}))
        block.notes.append(
            f"{len(misused)} input(s) left out: they fail with {errors} in an operation on an "
            "argument of a kind the code does not take, not in a raise of its own"
        )
    for kind, limit, rows in (
        ("type", MAX_TYPE_ROWS, block.types),
        ("raises", MAX_RAISE_ROWS, block.raises),
    ):
        chosen = choose([o for o in observations if o.kind == kind], limit)
        rows += [[*_cells(o.values, imports, style), imports.reference(o)] for o in chosen]
    if block.rows == 0:
        reason = no_sandbox or (characterization.problem if characterization else None)
        if reason is None and target.depends_on:
            reason = f"its results depend on {', '.join(target.depends_on)}"
        if reason is None and misused and target.object_parameters:
            wanted = ", ".join(sorted(target.object_parameters))
            reason = f"no object of the workspace could be made for {wanted}"
        elif reason is None and misused:
            reason = "every call failed on an argument of a kind the code does not take"
        if reason is None and block.returns_nothing and values:
            # It ran without raising, and there is nothing to fill in: no test, a note.
            block.reason = f"left alone: {target.qualname} returns nothing and takes no argument"
        else:
            if reason is None and characterization is not None and characterization.stateful:
                reason = "its calls change the module's state (a global, or a class's attribute)"
            reason = reason or "no reproducible result was observed"
            # The reason may quote the sandbox, and it is written in a comment: one line only.
            block.reason = one_line(f"ARK could not observe {target.qualname}: {reason}.", 500)
            block.skeleton = block.spare
        block.notes = [n for n in block.notes if "left out" in n]
    if style.typed:
        imports.any = True
    block.statement = f"_ = {block.call}" if target.binding == "property" else block.call
    return block


def _compare_state(
    block: Block, target: Target, passed: str, imports: Imports, construction: str
) -> None:
    """Make ``block`` a table of the states the method's calls leave its instance in."""
    block.after = True
    block.instance = _free("instance", block.columns)
    block.made = f"{imports.own(str(target.class_name))}({construction})"
    block.after_call = _awaited(target, f"{block.instance}.{target.name}({passed})", imports)


def _cells(values: Sequence[str], imports: Imports, style: Style) -> list[str]:
    """A row's inputs as the test file writes them."""
    return [_in_file(style.literal(value), imports) for value in values]


def _in_file(text: str, imports: Imports) -> str:
    """A value with the standard library's objects in it named as the test file names them.

    ``datetime.date(2024, 1, 31)`` is ``date(2024, 1, 31)`` in a file that imports
    ``date`` from ``datetime``, and needs ``import datetime`` in one that does not.
    """
    if "." not in text:
        return text
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return text
    spans = []
    for node in ast.walk(tree):
        named = node.func if isinstance(node, ast.Call) else node
        if not isinstance(named, ast.Attribute):
            continue
        dotted = ast.unparse(named)
        made = isinstance(node, ast.Call) and dotted in MADE_INPUTS
        if made or (node is named and dotted in VALUE_CONSTANTS):
            spans.append((named.col_offset, named.end_col_offset or 0, dotted))
    data = text.encode("utf-8")  # the offsets count bytes
    for start, end, dotted in sorted(spans, reverse=True):
        module, _, name = dotted.partition(".")
        owner, dot, attribute = name.partition(".")  # timezone.utc: named by its timezone
        written = imports.of_module(module, owner) + dot + attribute
        data = data[:start] + written.encode("utf-8") + data[end:]
    return data.decode("utf-8")


def _of_its_class(value: Observation) -> Observation:
    """A value made by a call of its class (or an enum member) as a result of that class."""
    name = value.name if value.text else value.name.rpartition(".")[0]
    return dataclasses.replace(value, kind="type", name=name, text="")


def _written(value: Observation, imports: Imports, style: Style, owner: str | None = None) -> str:
    """An observed value as a test writes it: a literal, or a call of the class that makes it."""
    if value.after and owner:  # the instance as the call left it, made by its class
        return _in_file(imports.own(owner) + style.literal(value.after), imports)
    made = imports.reference(value) if value.name else ""
    return _in_file(made + style.literal(value.text), imports)


def choose(
    observations: list[Observation],
    limit: int,
    *,
    fill: bool = True,
    first: Collection[int] = (),
) -> list[Observation]:
    """Up to ``limit`` rows that run the most lines between them, in the order they were seen.

    Greedy set cover: each pick runs the most lines no earlier pick ran,
    then (for exceptions and result types) shows a class not shown yet; when
    nothing new is left, the table is filled (with ``fill``): first with the
    rows of ``first`` (inputs at the edges of the function's comparisons, where
    a changed ``<=`` shows), then in the order of observation with at most
    :data:`MAX_SAME_RESULT` rows of one result: idna's ``valid_label_length``
    had 23 rows, all ``True``.
    """
    chosen: list[int] = []
    lines: set[int] = set()
    classes: set[str] = set()
    remaining = list(range(len(observations)))
    while remaining and len(chosen) < limit:
        best = max(remaining, key=lambda i: _gain(observations[i], lines, classes))
        if _gain(observations[best], lines, classes) == (0, 0):
            break
        chosen.append(best)
        remaining.remove(best)
        lines |= observations[best].lines
        classes.add(f"{observations[best].module}.{observations[best].name}")
    if fill:
        shown = Counter(_result(observations[index]) for index in chosen)
        for index in [i for i in remaining if i in first]:
            if len(chosen) >= limit:
                break
            shown[_result(observations[index])] += 1
            chosen.append(index)
            remaining.remove(index)
        for index in remaining:
            if len(chosen) >= limit:
                break
            result = _result(observations[index])
            if shown[result] < MAX_SAME_RESULT:
                shown[result] += 1
                chosen.append(index)
    return [observations[index] for index in sorted(chosen)]


MAX_SAME_RESULT = 3
"""Rows of one result a table is filled with beyond those that run new lines: a few
inputs show it holds (and kill a mutant at a boundary), more only repeat it."""


def _result(observation: Observation) -> tuple[str, str, str, str, str]:
    return (
        observation.kind,
        observation.text,
        observation.module,
        observation.name,
        observation.after,
    )


def _gain(observation: Observation, lines: set[int], classes: set[str]) -> tuple[int, int]:
    """New lines a row would run, and whether it shows a class not shown yet."""
    new_class = bool(observation.name) and f"{observation.module}.{observation.name}" not in classes
    return len(observation.lines - lines), int(new_class)


def notes_for(characterization: Characterization) -> list[str]:
    notes = []
    if characterization.unstable:
        notes.append(
            f"{characterization.unstable} input(s) left out: their results differ between runs "
            "(time, randomness, hash order or I/O)"
        )
    if characterization.timeouts:
        notes.append(
            f"{characterization.timeouts} input(s) left out: no result within {CALL_TIMEOUT:g} s"
        )
    if characterization.stateful:
        notes.append(
            f"{characterization.stateful} input(s) left out: the call changes the module's "
            "state, which would leak into other tests"
        )
    if characterization.crashed:
        notes.append(f"{characterization.crashed} input(s) left out: the call ended the process")
    if characterization.unwritable:
        notes.append(
            f"{characterization.unwritable} result(s) left out: they cannot be written as test data"
        )
    if characterization.dropped:
        notes.append(
            f"{characterization.dropped} observation(s) from the sandbox left out: "
            "they were not well-formed data"
        )
    return notes


def drop_rows(blocks: list[Block], failing: list[tuple[str, int]]) -> int:
    """Remove the failing parametrize rows from their tables; return how many went."""
    tables: dict[str, tuple[Block, list[list[str]]]] = {}
    for block in blocks:
        tables[f"test_{block.name}"] = (block, block.returns)
        tables[f"test_{block.name}_raises"] = (block, block.raises)
        tables[f"test_{block.name}_result_type"] = (block, block.types)
    doomed: dict[str, set[int]] = {}
    for function, index in failing:
        if function in tables and 0 <= index < len(tables[function][1]):
            doomed.setdefault(function, set()).add(index)
    for function, indices in doomed.items():
        block, rows = tables[function]
        rows[:] = [row for i, row in enumerate(rows) if i not in indices]
        block.notes.append(
            f"{len(indices)} row(s) of {function} left out: they failed under pytest, though "
            "each held when observed alone (state the tests share, or the project's pytest "
            "settings, such as filterwarnings)"
        )
        if block.rows == 0:
            block.skeleton = block.spare
            block.reason = (
                f"ARK could not observe {block.qualname}: what it did alone did not hold "
                "under pytest (state the tests share, or the project's pytest settings)."
            )
    return sum(len(indices) for indices in doomed.values())


__all__ = [
    "MAX_RAISE_ROWS",
    "MAX_TYPE_ROWS",
    "MAX_VALUE_ROWS",
    "SKELETON_ROWS",
    "Block",
    "Imports",
    "choose",
    "drop_rows",
    "make_block",
    "notes_for",
]
