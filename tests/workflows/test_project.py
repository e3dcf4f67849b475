"""The Project: settings layered once with the database's rule pack, its store, files, runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import cached_database_path
from ark_lsp.files import ReadRefused, WriteRefused
from ark_lsp.models import Severity
from ark_lsp.project import Project
from ark_lsp.rules import Condition, Rule
from ark_lsp.sandbox import Outcome, RunRequest, RunResult
from ark_lsp.store import Store
from ark_lsp.trust import TrustStore, adopt_rule_pack


def test_settings_are_layered_with_the_users_layers_last(
    shop: Path, trust_store: TrustStore
) -> None:
    (shop / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n[tool.ark]\ncode-lens-threshold = 7\nignore = ["ARK020"]\n'
    )
    project = Project.load(
        shop, layers=[("editor", {"codeLensThreshold": 3})], trust_store=trust_store
    )
    assert project.settings.code_lens_threshold == 3
    assert project.settings.ignore == ("ARK020",)
    assert project.settings is project.settings  # one object: features compare by identity
    assert project.problems == ()


def test_the_index_lives_in_the_workspace_unless_the_user_says_otherwise(
    shop: Path, tmp_path: Path, trust_store: TrustStore
) -> None:
    project = Project.load(shop, trust_store=trust_store)
    assert project.database == shop / ".ark" / "index.db" and project.database.is_file()
    assert not project.database_in_cache

    chosen = tmp_path / "elsewhere" / "mine.db"
    assert Project.load(shop, database=chosen, trust_store=trust_store).database == chosen
    assert chosen.is_file()


def test_a_state_folder_leading_out_of_the_workspace_sends_the_index_to_the_cache(
    shop: Path, tmp_path: Path, trust_store: TrustStore
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (shop / ".ark").symlink_to(outside, target_is_directory=True)

    project = Project.load(shop, trust_store=trust_store)

    assert project.database == cached_database_path(shop) and project.database_in_cache
    assert list(outside.iterdir()) == []


def test_a_rule_pack_weakened_behind_arks_back_is_not_in_force(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        store.rules.set_enabled("ARK001", False)

    reloaded = Project.load(project.root, trust_store=trust_store)
    assert reloaded.rule_pack_problem and "ARK001" in reloaded.rule_pack_problem
    assert reloaded.rule_pack_problem in reloaded.problems
    assert "ARK001" in {r.id for r in reloaded.settings.ruleset.rules if r.enabled}

    with project.open_store() as store:
        adopt_rule_pack(store.rules.load(), store.path, trust_store)
    adopted = Project.load(project.root, trust_store=trust_store)
    assert adopted.rule_pack_problem is None
    assert "ARK001" not in {r.id for r in adopted.settings.ruleset.rules if r.enabled}


def test_a_pack_adopted_before_a_built_in_rule_was_added_stays_the_users(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        store.rules.set_enabled("ARK001", False)
        # The pack as an ARK without ARK090 left it, and the user adopted it.
        store._db.conn.execute("DELETE FROM validation_rules WHERE id = 'ARK090'")
        adopt_rule_pack(store.rules._read(), store.path, trust_store)

    upgraded = Project.load(project.root, trust_store=trust_store)  # seeds ARK090
    assert upgraded.rule_pack_problem is None
    enabled = {r.id for r in upgraded.settings.ruleset.rules if r.enabled}
    assert "ARK001" not in enabled and "ARK090" in enabled


def _as_an_older_ark_seeded_it(store: Store) -> None:
    # ARK006 before it left literal module names alone: no condition, another description.
    store._db.conn.execute(
        "UPDATE validation_rules SET condition = NULL, description = ? WHERE name = ?",
        ("__import__() imports a module named at run time.", "dunder-import"),
    )


def _ark006(project: Project) -> Rule:
    return next(r for r in project.settings.ruleset.rules if r.id == "ARK006")


def test_a_built_in_rule_stored_as_an_older_ark_defined_it_is_checked_as_revised(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        _as_an_older_ark_seeded_it(store)

    upgraded = Project.load(project.root, trust_store=trust_store)

    assert upgraded.rule_pack_problem is None
    assert _ark006(upgraded).condition is Condition.NON_LITERAL_MODULE
    lazy = analyze('pager = __import__("pydoc").pager\n', "app.py", upgraded.settings)
    assert lazy.violations == ()


def test_a_pack_adopted_before_a_built_in_rule_was_revised_stays_the_users(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        _as_an_older_ark_seeded_it(store)
        store.rules.set_enabled("ARK001", False)
        store.rules.set_enabled("ARK006", False)
        adopt_rule_pack(store.rules.load(), store.path, trust_store)

    upgraded = Project.load(project.root, trust_store=trust_store)

    assert upgraded.rule_pack_problem is None
    enabled = {r.id for r in upgraded.settings.ruleset.rules if r.enabled}
    assert "ARK001" not in enabled and "ARK006" not in enabled
    assert _ark006(upgraded).condition is Condition.NON_LITERAL_MODULE  # revised, still off


def test_a_built_in_rule_rewritten_behind_arks_back_is_checked_as_ark_defines_it(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        store._db.conn.execute(
            "UPDATE validation_rules SET pattern = 'nothing.matches', severity = 'info' "
            "WHERE name = 'eval'"
        )

    loaded = Project.load(project.root, trust_store=trust_store)

    found = analyze("eval(text)\n", "app.py", loaded.settings)
    assert [(v.rule, v.severity) for v in found.violations] == [("ARK001", Severity.ERROR)]


def test_a_database_that_cannot_be_used_is_a_problem_not_an_error(
    shop: Path, trust_store: TrustStore
) -> None:
    database = shop / ".ark" / "index.db"
    database.parent.mkdir()
    database.write_bytes(b"not a database" * 100)

    project = Project.load(shop, trust_store=trust_store)

    assert project.database_problem and "not a valid ARK database" in project.database_problem
    assert project.problems[-1] == f"index database: {project.database_problem}"
    assert database.read_bytes().startswith(b"not a database")

    fresh = Project.load(shop, trust_store=trust_store, fresh_database=True)
    assert fresh.database_problem is None and fresh.moved_aside is not None
    assert fresh.moved_aside.read_bytes().startswith(b"not a database")


def test_files_are_read_and_written_only_inside_the_root(project: Project, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the user's own\n")
    (project.root / "link.py").symlink_to(secret)
    os.mkfifo(project.root / "pipe.py")

    assert project.read_text(project.root / "shop" / "pricing.py") is not None
    for refused in ("link.py", "pipe.py"):
        with pytest.raises(ReadRefused):
            project.read_bytes(project.root / refused)
        assert project.read_text(project.root / refused) is None
    with pytest.raises(WriteRefused):
        project.write_text(project.root / "link.py", "print('hello')\n")
    assert secret.read_text() == "the user's own\n"

    written = project.write_text(project.root / "new" / "module.py", "X = 1\n")
    assert written.read_text() == "X = 1\n"
    assert project.relative(written) == "new/module.py"


def test_template_overrides_apply_only_in_a_trusted_workspace(
    shop: Path, trust_store: TrustStore
) -> None:
    overrides = shop / ".ark" / "templates"
    overrides.mkdir(parents=True)
    (overrides / "function.py.j2").write_text("def {{ name }}():\n    return 42\n")

    untrusted = Project.load(shop, trust_store=trust_store)
    assert not untrusted.trusted
    assert untrusted.templates().origin("function.py.j2") == "builtin"

    trust_store.record(shop, untrusted.loaded.request.fingerprint)
    trusted = Project.load(shop, trust_store=trust_store)
    assert trusted.trusted
    assert trusted.templates().origin("function.py.j2") == str(overrides / "function.py.j2")


def test_the_sandbox_runner_records_every_run_in_the_store(project: Project) -> None:
    runner = project.sandbox_runner(backend="local", weak_isolation=True)
    try:
        assert runner.pool_size == 0 and runner.requested == "local"
        assert runner.settings.sandbox.weak_isolation
        assert runner.recorder is not None
        request = RunRequest(command=("python3", "-c", "pass"), kind="run", target_path="x.py")
        recorded = runner.recorder(request, RunResult(Outcome.PASSED, "local", exit_code=0))
    finally:
        runner.close()
    assert recorded.execution_id is not None
    with project.open_store() as store:
        (run,) = store.runs.history()
    assert (run.id, run.target_path, run.outcome) == (recorded.execution_id, "x.py", "passed")
    assert project.sandbox_runner(warm=True).pool_size == project.settings.sandbox.pool_size


def test_a_project_made_directly_opens_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')  # a workspace
    project = Project(tmp_path)
    assert project.database == tmp_path / ".ark" / "index.db"
    assert not (tmp_path / ".ark").exists()
    assert project.rule_pack is None and project.settings is project.loaded.settings


def test_rule_ids_the_settings_name_that_no_rule_has_are_said_and_left_out(
    shop: Path, trust_store: TrustStore
) -> None:
    (shop / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n[tool.ark]\nselect = ["ARK999", "CO"]\n'
        'ignore = ["ARK02"]\nper-file-ignores = { "tests/**" = ["ARK001", "ARK011"] }\n'
        'severities = { ARK020 = "info", ARK0 = "info" }\n'
        '[[tool.ark.rules]]\nid = "CO001"\nkind = "call"\npattern = "pickle.loads"\n'
    )
    project = Project.load(shop, layers=[("editor", {"ignore": ["ARK7"]})], trust_store=trust_store)
    assert project.problems == (
        "tool.ark.select: no rule ARK999 (did you mean ARK090?); ignored",
        "editor.ignore: no rule ARK7 (did you mean ARK000?); ignored",
        "tool.ark.per-file-ignores: no rule ARK011 (did you mean ARK010?); ignored",
        "tool.ark.severities: no rule ARK0 (a whole id is wanted, such as ARK000); ignored",
    )
    settings = project.settings
    assert (settings.select, settings.ignore) == (("CO",), ())
    assert settings.per_file_ignores == (("tests/**", ("ARK001",)),)
    assert settings.severities == (("ARK020", "info"),)
