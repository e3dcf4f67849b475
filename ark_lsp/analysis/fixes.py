"""Mechanical fixes for violations, and applying fixes to text.

A fix is offered as *safe* only when it keeps the program's behaviour:
``eval`` of a string that :func:`ast.literal_eval` accepts, and a shell
command given as a literal that uses no shell feature (no pipes, redirects,
globs, variables or quoting tricks), so that running its words directly
does the same. Everything else gets no automatic fix; suppressing a
violation is offered separately and is never automatic.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ark_lsp.analysis.source import Source
from ark_lsp.models import Fix, Span, TextEdit, Violation

_SHELL_FEATURES = frozenset("|&;<>()$`\\*?[]{}~!#\n")


@dataclass(frozen=True)
class FixContext:
    """What fixes need to know of the module beyond the call."""

    imported: dict[str, str]
    """Module-level names bound by import, to what they import."""
    import_line: int
    """The line before which a new import statement may go."""
    meaning: Callable[[str], tuple[str, ...]] = lambda name: ()
    """What a name may refer to where the fix goes (see ``checks.resolve_name``)."""


def command_words(command: str) -> list[str] | None:
    """The words of a shell command that needs no shell, or ``None``."""
    if not command.strip() or _SHELL_FEATURES & set(command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or "=" in words[0]:  # VAR=value cmd sets the environment
        return None
    return words


def _module_reference(module: str, context: FixContext) -> tuple[str, list[TextEdit]]:
    """How to name ``module`` here, and the import edit needed if it is not bound."""
    for bound, target in context.imported.items():
        # Only where the name is that module: not above its import, nor where
        # another import of it may be in force.
        if target == module and context.meaning(bound) == (module,):
            return bound, []
    position = Span(context.import_line, 0, context.import_line, 0)
    return module, [TextEdit(position, f"import {module}\n")]


def _list_literal(words: list[str], like: str) -> str:
    quote = '"' if like.lstrip("rRbBuU").startswith('"') else "'"
    rendered = [
        quote + word.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote for word in words
    ]
    return "[" + ", ".join(rendered) + "]"


def fix_for_call(
    rule_id: str,
    call: ast.Call,
    source: Source,
    context: FixContext,
    meaning: Callable[[str], tuple[str, ...]],
) -> Fix | None:
    """The mechanical fix of a call that broke ``rule_id``, if there is a safe one.

    ``meaning`` tells what a name may refer to at the call.
    """
    context = replace(context, meaning=meaning)
    if rule_id == "ARK001":
        return _literal_eval(call, source, context)
    if rule_id == "ARK005":
        return _shell_false(call, source)
    if rule_id == "ARK004":
        return _os_system_to_subprocess(call, source, context)
    return None


def _single_string_argument(call: ast.Call) -> str | None:
    """The value of a call's only argument when it is a string literal."""
    if len(call.args) != 1 or call.keywords:
        return None
    (argument,) = call.args
    if type(argument) is ast.Constant and isinstance(argument.value, str):
        return argument.value
    return None


def _literal_eval(call: ast.Call, source: Source, context: FixContext) -> Fix | None:
    argument = _single_string_argument(call)
    if argument is None:
        return None
    try:
        ast.literal_eval(argument)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    module, imports = _module_reference("ast", context)
    edit = TextEdit(source.span(call.func), f"{module}.literal_eval")
    return Fix("Replace eval() with ast.literal_eval()", (*imports, edit))


def _shell_false(call: ast.Call, source: Source) -> Fix | None:
    shell = next((k for k in call.keywords if k.arg == "shell"), None)
    if shell is None or not call.args:
        return None
    command = call.args[0]
    if not (type(command) is ast.Constant and isinstance(command.value, str)):
        return None
    words = command_words(command.value)
    if words is None:
        return None
    return Fix(
        "Pass the command as an argument list with shell=False",
        (
            TextEdit(source.span(command), _list_literal(words, source.text(command))),
            TextEdit(source.span(shell.value), "False"),
        ),
    )


def _os_system_to_subprocess(call: ast.Call, source: Source, context: FixContext) -> Fix | None:
    argument = _single_string_argument(call)
    if argument is None or not _is_whole_statement(call, source):
        return None
    words = command_words(argument)
    if words is None:
        return None
    module, imports = _module_reference("subprocess", context)
    quoted_like = source.text(call.args[0])
    replacement = f"{module}.run({_list_literal(words, quoted_like)}, check=False)"
    return Fix(
        "Run the command with subprocess.run() and an argument list",
        (*imports, TextEdit(source.span(call), replacement)),
    )


def _is_whole_statement(call: ast.Call, source: Source) -> bool:
    """Whether the call stands alone on its line, its value unused."""
    if call.end_lineno != call.lineno:
        return False
    line = source.line_bytes(call.lineno)
    before, after = line[: call.col_offset], line[call.end_col_offset or 0 :]
    return not before.strip() and (not after.strip() or after.strip().startswith(b"#"))


_IGNORE_LIST = re.compile(r"#\s*ark:\s*ignore\[([^\]]*)\]")


def suppression_fix(violation: Violation, line: str) -> Fix:
    """A fix adding ``# ark: ignore[RULE]`` to ``line``, the violation's first line."""
    number = violation.span.line
    line = line.rstrip("\r\n")
    title = f"Suppress {violation.rule} on this line"
    existing = _IGNORE_LIST.search(line)
    if existing is not None:
        listed = existing.group(1).rstrip()
        addition = f", {violation.rule}" if listed else violation.rule
        at = existing.start(1) + len(listed)
        return Fix(title, (TextEdit(Span(number, at, number, at), addition),), safe=False)
    end = len(line)
    return Fix(
        title,
        (TextEdit(Span(number, end, number, end), f"  # ark: ignore[{violation.rule}]"),),
        safe=False,
    )


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """Apply the fixes whose edits do not overlap an earlier one's; return text and count.

    Identical edits of different fixes (two fixes adding the same import)
    are made once.
    """
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, column: int) -> int:
        return min(starts[min(line, len(starts)) - 1] + column, len(text))

    taken: list[tuple[int, int]] = []
    chosen: dict[tuple[int, int, str], None] = {}
    applied = 0
    for fix in fixes:
        ranges = [
            (offset(e.span.line, e.span.column), offset(e.span.end_line, e.span.end_column), e)
            for e in fix.edits
        ]
        fresh = [(s, t, e) for s, t, e in ranges if (s, t, e.new_text) not in chosen]
        if any(s < end and start < t for s, t, _ in fresh for start, end in taken):
            continue
        for start, end, edit in fresh:
            chosen[(start, end, edit.new_text)] = None
            if start < end:
                taken.append((start, end))
        applied += 1
    # From the end of the text backwards, so earlier offsets stay valid; edits at
    # one place go in the order their fixes came.
    ordered = sorted(enumerate(chosen), key=lambda item: (item[1][0], item[1][1], item[0]))
    for _, (start, end, new_text) in reversed(ordered):
        text = text[:start] + new_text + text[end:]
    return text, applied
