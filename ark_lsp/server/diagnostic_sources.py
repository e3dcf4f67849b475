"""The sources ARK's diagnostics are published under, one per kind of finding."""

ANALYSIS_SOURCE = "ark"
"""The source of the engine's violations: what the analysis finds in the text."""

TEST_FAILURE_SOURCE = "ark-sandbox"
"""The source of failing tests found by the last sandbox test run."""

GATE_SOURCE = "ark-gate"
"""The source of what the last quality gate run found new in the working tree's changes."""

TYPES_SOURCE = "ark-types"
"""The source of mypy's errors in a file, found when it was last saved."""

LINT_SOURCE = "ark-lint"
"""The source of pylint's messages in a file, found when it was last saved."""

PULL_IDENTIFIER = "ark"
"""The identifier of the analysis's pulled diagnostics (``DiagnosticOptions``)."""
