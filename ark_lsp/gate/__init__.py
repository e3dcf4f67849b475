"""The quality gate: judging a change by its new code only, against its base, in one run.

Like SonarQube's "clean as you code" and diff-cover, the gate asks only
what a change adds: new findings on changed lines, new type errors and lint
messages in touched files, coverage and a mutation score of the changed
lines, complexity of touched functions, and the test suite on the change.
Each check is a function of a :class:`~ark_lsp.gate.model.GateInput` (the
base and head trees and what changed between them) returning a
:class:`~ark_lsp.gate.model.CheckResult`; a check whose tool is missing is
"not run", with the reason, never "passed". The checks that run the
project's tests (``tests``, ``coverage``, ``mutation``) also take the
gate run's :class:`~ark_lsp.gate.suite_runs.SuiteRuns`, which holds the
sandbox runner and shares one run of the change's suite between them.
"""
