"""The stub workflow: generated, checked, recorded, and written only when asked and clean."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ark_lsp.generate import ClassSpec, FunctionSpec, ModuleSpec
from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.generate import (
    PREVIEW_FILE,
    generate_class,
    generate_function,
    generate_module,
    record_generation,
    stub_for_call,
)


def recorded(project: Project) -> list[tuple[str, str, bool]]:
    """(kind, target, validation ok) of each generation in the project's database."""
    with sqlite3.connect(project.database) as connection:
        rows = connection.execute(
            "SELECT kind, target, validation FROM generated_code ORDER BY id"
        ).fetchall()
    return [(kind, target, json.loads(validation)["ok"]) for kind, target, validation in rows]


def test_a_function_is_written_into_its_file_and_recorded(project: Project) -> None:
    target = project.root / "shop" / "checkout.py"
    stub = generate_function(project, FunctionSpec("refund"), target)
    assert stub.written and stub.generation.offered
    assert "def refund(" in target.read_text()
    assert recorded(project) == [("function", "refund", True)]


def test_without_a_file_the_stub_is_rendered_but_not_written(project: Project) -> None:
    with project.open_store() as store:
        stub = generate_class(project, ClassSpec("Basket"), store=store)
    assert not stub.written and "class Basket" in stub.generation.text
    assert stub.generation.change.path == PREVIEW_FILE
    assert not (project.root / PREVIEW_FILE).exists()
    assert recorded(project) == [("class", "Basket", True)]


def test_a_module_is_created_where_its_name_says_and_never_over_a_file(project: Project) -> None:
    spec = ModuleSpec("shop.returns", functions=(FunctionSpec("refund"),))
    stub = generate_module(project, spec)
    created = project.root / "shop" / "returns.py"
    assert stub.written and "def refund(" in created.read_text()
    with pytest.raises(FileExistsError) as exists:
        generate_module(project, spec)
    assert exists.value.filename == str(created)


def test_a_stub_with_a_violation_is_recorded_and_not_written(
    shop: Path, trust_store: TrustStore
) -> None:
    overrides = shop / ".ark" / "templates"
    overrides.mkdir(parents=True)
    (overrides / "function.py.j2").write_text("def {{ function.name }}():\n    return eval('1')\n")
    untrusted = Project.load(shop, trust_store=trust_store)
    trust_store.record(shop, untrusted.loaded.request.fingerprint)
    project = Project.load(shop, trust_store=trust_store)
    target = shop / "shop" / "checkout.py"
    before = target.read_text()

    stub = generate_function(project, FunctionSpec("refund"), target)

    assert not stub.generation.offered and not stub.written
    assert target.read_text() == before
    assert recorded(project) == [("function", "refund", False)]


def test_a_stub_through_a_link_out_of_the_workspace_is_refused(
    project: Project, tmp_path: Path
) -> None:
    profile = tmp_path / ".profile"
    profile.write_text("# the user's own\n")
    (project.root / "shop" / "helpers.py").symlink_to(profile)
    with pytest.raises(ValueError, match="is not in the subpath"):
        generate_function(project, FunctionSpec("helper"), project.root / "shop" / "helpers.py")
    assert profile.read_text() == "# the user's own\n"
    assert recorded(project) == []


def test_a_call_of_an_undefined_name_gets_its_stub(project: Project) -> None:
    text = "from shop.pricing import total\n\n\ndef pay():\n    return refund(total([1.0]), 2)\n"
    path = project.root / "shop" / "checkout.py"
    generation = stub_for_call(project, text, path, 5, 12)
    assert generation is not None and generation.kind == "function"
    assert generation.target == "refund" and generation.offered
    assert stub_for_call(project, text, path, 1, 0) is None
    assert recorded(project) == []  # offered only: the caller records what it offers
    record_generation(project, generation)
    assert recorded(project) == [("function", "refund", True)]


def test_a_record_the_database_refuses_is_logged_not_raised(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    generation = stub_for_call(project, "refund(1)\n", project.root / "shop" / "checkout.py", 1, 0)
    assert generation is not None
    project.database.write_bytes(b"not a database any more" * 100)
    record_generation(project, generation)
    assert "generation not recorded" in caplog.text
