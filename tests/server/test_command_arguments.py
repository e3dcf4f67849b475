"""Command arguments structured by pygls from annotations: one shape, one tolerance."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ark_lsp.server import create_server
from ark_lsp.server.arguments import DocumentPosition

URI = "file:///work/app.py"
AT = {"uri": URI, "position": {"line": 3, "character": 7}}


def structured(command: str, arguments: list[Any] | None) -> tuple[Any, ...]:
    """The arguments the command's handler would be called with."""
    protocol = create_server().protocol
    call = protocol.lsp_workspace__execute_command(
        types.ExecuteCommandParams(command=command, arguments=arguments)
    )
    _, args, _ = next(call)
    return tuple(args)


def refusal(command: str, arguments: list[Any] | None) -> str:
    with pytest.raises(JsonRpcInvalidParams) as refused:
        structured(command, arguments)
    return refused.value.message


def test_a_place_in_a_document_is_structured_into_its_type() -> None:
    (where,) = structured("ark.generateTests", [AT])
    assert where == DocumentPosition(URI, types.Position(line=3, character=7))
    assert structured("ark.generateFunction", [AT]) == (where,)


def test_run_takes_a_uri_or_a_place() -> None:
    assert structured("ark.runInSandbox", [URI]) == (URI,)
    (where,) = structured("ark.runInSandbox", [AT])
    assert isinstance(where, DocumentPosition) and where.position.line == 3


def test_an_optional_argument_may_be_left_out() -> None:
    assert structured("ark.runTestsInSandbox", []) == (None,)
    assert structured("ark.runTestsInSandbox", None) == (None,)
    assert structured("ark.runTestsInSandbox", [URI]) == (URI,)
    assert structured("ark.reindex", []) == (None,)
    assert structured("ark.trust", [URI]) == (URI,)
    assert structured("ark.gate", []) == (None,)
    assert structured("ark.gate", [URI]) == (URI,)


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("ark.generateTests", []),
        ("ark.generateTests", [{"uri": 3}]),
        ("ark.generateTests", [{"uri": URI, "position": {"line": "a", "character": 0}}]),
        ("ark.generateTests", [{"uri": URI}]),
        ("ark.generateTests", [URI]),
        ("ark.generateTests", [AT, AT]),
        ("ark.runInSandbox", [5]),
        ("ark.runInSandbox", [{"uri": URI, "position": {"line": 1}}]),
        ("ark.runTestsInSandbox", [{"uri": URI}]),
        ("ark.trust", [URI, URI]),
        ("ark.reindex", [7]),
    ],
)
def test_arguments_of_another_shape_are_invalid_params_that_say_what_fits(
    command: str, arguments: list[Any]
) -> None:
    message = refusal(command, arguments)
    assert message.startswith(f"{command}: expected [")


def test_the_refusal_names_the_shape() -> None:
    message = refusal("ark.generateTests", [])
    assert '{"uri": ..., "position": {"line": ..., "character": ...}}' in message
    assert "optionally a document URI" in refusal("ark.runTestsInSandbox", [1])


def test_an_unknown_command_is_invalid_params() -> None:
    assert "is not defined" in refusal("ark.noSuchCommand", [])
