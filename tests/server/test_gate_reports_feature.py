"""The gate's reports in the editor: coverage and mutation score on hover, "untested" lenses.

A real repository with a change in its working tree, judged by ``ark.gate``
from the editor (coverage and mutation in the local sandbox), then read
back as a user would: hovering the changed functions, and the lens over the
one no test runs, whose command writes its tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.git_repos import make_repo, write
from support.lsp import PRESETS, apply, hover_text, open_file, start

BASE = {
    "pyproject.toml": """\
        [project]
        name = "shop"

        [tool.ark.gate]
        checks = ["coverage", "mutation"]
        """,
    "shop/__init__.py": "",
    "shop/pricing.py": '''\
        """Prices."""


        def total(prices):
            """The sum of the prices."""
            return sum(prices)
        ''',
    "tests/__init__.py": "",
    "tests/test_pricing.py": """\
        from shop.pricing import total


        def test_total():
            assert total([1, 2]) == 3
        """,
}

CHANGED = '''\
    """Prices."""


    def total(prices):
        """The sum of the prices."""
        kept = [price for price in prices if price > 0]
        return sum(kept)


    def discount(price, rate):
        """The price less the rate."""
        if rate > 1:
            raise ValueError(rate)
        return price * (1 - rate)
    '''


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's user cache, where the gate checks commits out: the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ark"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "shop", BASE)
    write(root, {"shop/pricing.py": CHANGED})
    return root


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def lenses(client: LanguageClient, path: Path) -> list[types.CodeLens]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    return list(found or [])


def applies_edits(client: LanguageClient) -> None:
    """Apply the server's edits of existing files to disk, as an editor saving them would."""

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        for uri, edits in (params.edit.changes or {}).items():
            path = Path(uri.removeprefix("file://"))
            path.write_text(apply(path.read_text(), list(edits)))
        return types.ApplyWorkspaceEditResult(applied=bool(params.edit.changes))


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text)


async def judged(client: LanguageClient, preset: str, shop: Path) -> dict[str, Any]:
    """The editor started on the shop, the pricing module open, the gate run from it."""
    # The local (bubblewrap) sandbox: the user's own setting, as from the editor's settings.
    await start(client, preset, [shop], {"sandbox": {"backend": "local"}})
    await open_file(client, shop / "shop" / "pricing.py")
    return dict(await execute(client, "ark.gate", shop.as_uri()))


def measured(report: dict[str, Any], qualname: str) -> dict[str, Any]:
    """A function's figures across the report's checks."""
    figures: dict[str, Any] = {}
    for check in report["checks"]:
        for function in check["functions"]:
            if function["qualname"] == qualname:
                figures |= {k: v for k, v in function.items() if v not in (None, 0)}
    return figures


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", PRESETS)
async def test_hover_adds_the_latest_reports_coverage_and_mutation_score(
    bare_client: LanguageClient, shop: Path, preset: str
) -> None:
    report = await judged(bare_client, preset, shop)
    path = shop / "shop" / "pricing.py"

    total = await hover_text(bare_client, path, line_of(path, "def total(prices):"), 5)
    discount = await hover_text(bare_client, path, line_of(path, "def discount(price, rate):"), 5)

    # What the gate measured: total's changed lines all ran, and its test kills some mutants;
    # discount's body never ran (its def line did, on import), so no mutant of it is killed.
    total_figures, discount_figures = measured(report, "total"), measured(report, "discount")
    assert total_figures["coverage"] == 1.0
    assert 0 < total_figures["mutants_killed"] < total_figures["mutants"]
    assert discount_figures["untested"] is True
    assert "mutants_killed" not in discount_figures
    killed, made = total_figures["mutants_killed"], total_figures["mutants"]
    assert (
        f"coverage 100% of its changed lines · mutation score {killed / made:.0%} "
        f"({killed} of {made} mutants killed) (quality gate on the working tree, "
    ) in total
    assert (
        f"coverage {discount_figures['coverage']:.0%} of its changed lines · mutation score 0% "
        f"(0 of {discount_figures['mutants']} mutants killed)"
    ) in discount


@pytest.mark.asyncio
async def test_no_report_no_figures(bare_client: LanguageClient, shop: Path) -> None:
    await start(bare_client, "visual-studio-code", [shop])
    path = shop / "shop" / "pricing.py"
    await open_file(bare_client, path)

    text = await hover_text(bare_client, path, line_of(path, "def discount(price, rate):"), 5)

    assert "complexity 2 (A)" in text
    assert "coverage" not in text and "mutation" not in text
    assert await lenses(bare_client, path) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", PRESETS)
async def test_an_untested_function_gets_a_lens_that_generates_its_tests(
    bare_client: LanguageClient, shop: Path, preset: str
) -> None:
    await judged(bare_client, preset, shop)
    path = shop / "shop" / "pricing.py"
    line = line_of(path, "def discount(price, rate):")

    (lens,) = await lenses(bare_client, path)

    assert lens.range.start.line == line
    assert lens.command is not None
    assert (lens.command.title, lens.command.command) == ("untested", "ark.generateTests")
    assert list(lens.command.arguments or []) == [
        {"uri": path.as_uri(), "position": {"line": line, "character": 4}}
    ]
    if preset == "visual-studio-code":
        assert bare_client.lens_refreshes > 0  # type: ignore[attr-defined]
        applies_edits(bare_client)

        done = await execute(bare_client, "ark.generateTests", *lens.command.arguments)

        assert done["applied"] is True
        assert done["path"] == "tests/test_pricing.py"  # the module's test file, extended
        assert done["passed"] == done["written"] > 0
        assert "discount(" in (shop / "tests" / "test_pricing.py").read_text()
