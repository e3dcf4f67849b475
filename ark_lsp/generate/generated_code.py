"""Keeping every generation, offered or refused, in the ``generated_code`` table."""

from __future__ import annotations

from collections.abc import Mapping

from ark_lsp.generate.results import Generation
from ark_lsp.store import Store


def record(
    store: Store, generation: Generation, test_outcome: Mapping[str, object] | None = None
) -> int:
    """Keep a generation (offered or refused) in ``generated_code``."""
    return store.generations.record(
        kind=generation.kind,
        target=generation.target,
        template=generation.template,
        text=generation.text,
        validation=generation.validation.as_dict(),
        test_outcome=test_outcome,
    )


__all__ = ["record"]
