"""Quick fixes, suppressions and fix-all as code actions.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import (
    UNSAFE,
    apply,
    change_file,
    code_actions,
    open_file,
)


@pytest.mark.asyncio
async def test_diagnostics_link_their_rule_and_the_quick_fix_clears_the_problem(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    shown = await open_file(client, path, UNSAFE)
    by_code = {d.code: d for d in shown}
    assert set(by_code) == {"ARK001", "ARK004"}
    description = by_code["ARK001"].code_description
    assert description is not None and description.href.endswith("/ARK001")

    actions = await code_actions(client, path, shown, [types.CodeActionKind.QuickFix])
    assert [a.title for a in actions] == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
        "Suppress ARK004 on this line",
    ]
    preferred = actions[0]
    assert preferred.is_preferred and preferred.kind == types.CodeActionKind.QuickFix
    assert preferred.edit is not None and preferred.edit.changes is not None
    fixed = apply(UNSAFE, list(preferred.edit.changes[path.as_uri()]))
    assert fixed.splitlines()[3] == "settings = ast.literal_eval(\"{'debug': True}\")"
    assert [d.code for d in await change_file(client, path, fixed, 2)] == ["ARK004"]


@pytest.mark.asyncio
async def test_fix_all_offers_every_safe_fix_at_once(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    shown = await open_file(client, path, UNSAFE.replace("user_command", '"make clean"'))
    (action,) = await code_actions(client, path, shown, ["source.fixAll.ark"])
    assert action.title == "Fix all safely fixable ARK problems (2)"
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[path.as_uri()]
    assert 'subprocess.run(["make", "clean"], check=False)' in edit.new_text
    assert await change_file(client, path, edit.new_text, 2) == []


@pytest.mark.asyncio
async def test_quick_fixes_survive_a_client_that_sends_ranges_back_in_bytes(
    client: LanguageClient, workspace: Path
) -> None:
    # Neovim before 0.10 returns a diagnostic's range in bytes, not in the units it received.
    path = workspace / "accents.py"
    text = 'label = "été"; value = eval("[1, 2]")\n'
    (shown,) = await open_file(client, path, text)
    in_bytes = types.Range(
        start=types.Position(line=0, character=text.encode().index(b"eval")),
        end=types.Position(line=0, character=text.encode().index(b"eval") + 14),
    )
    sent_back = types.Diagnostic(
        range=in_bytes, message=shown.message, code=shown.code, source=shown.source
    )
    actions = await code_actions(client, path, [sent_back], [types.CodeActionKind.QuickFix])
    assert [a.title for a in actions] == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
    ]
