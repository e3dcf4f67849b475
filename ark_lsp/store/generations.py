"""Generated code: every text ARK generated (offered or refused), in ``generated_code``."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ark_lsp.store.repository import Repository, guarded


class GenerationRepository(Repository):
    """What ARK generated, how analysis judged it and how its tests ran (``store.generations``)."""

    @guarded
    def record(
        self,
        *,
        kind: str,
        target: str,
        template: str,
        text: str,
        validation: Mapping[str, object],
        test_outcome: Mapping[str, object] | None = None,
    ) -> int:
        """Record a generated text in ``generated_code``; return its id.

        ``validation`` and ``test_outcome`` are stored as JSON: what the
        analysis said of the text, and what running its tests came to.
        """
        return self._insert(
            "generated_code",
            {
                "kind": kind,
                "target": target,
                "template": template,
                "text": text,
                "validation": json.dumps(validation, default=str),
                "test_outcome": None
                if test_outcome is None
                else json.dumps(test_outcome, default=str),
            },
        )
