"""The trust workflow: the trust recorded, the rule pack adopted, no database made."""

from __future__ import annotations

from pathlib import Path

from ark_lsp.config import load_settings
from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.trust import trust_workspace


def test_trusting_a_workspace_without_an_index_makes_none(
    shop: Path, trust_store: TrustStore
) -> None:
    (shop / "pyproject.toml").write_text('[project]\nname = "shop"\n[tool.ark]\njobs = 2\n')
    assert not load_settings(shop, store=trust_store).trust.trusted

    trusted = trust_workspace(shop, trust_store)

    assert dict(trusted.request.settings) == {"jobs": "2"}
    assert trusted.adopted_rule_pack is None and trusted.problem is None
    assert not (shop / ".ark").exists()
    assert Project.load(shop, trust_store=trust_store).settings.jobs == 2


def test_trusting_adopts_the_rule_pack_the_index_holds(
    project: Project, trust_store: TrustStore
) -> None:
    with project.open_store() as store:
        store.rules.set_enabled("ARK020", False)
    assert Project.load(project.root, trust_store=trust_store).rule_pack_problem

    trusted = trust_workspace(project.root, trust_store)

    assert trusted.adopted_rule_pack == project.database
    assert Project.load(project.root, trust_store=trust_store).rule_pack_problem is None
