"""The application layer: each use case once, for both front ends.

A workflow is a function that takes a :class:`~ark_lsp.project.Project`
and plain arguments, reports progress and honours cancellation through
callbacks (:data:`ark_lsp.models.CancelCheck`), and returns plain results.
The CLI and the server call it and only translate: arguments in, output,
messages and exit codes (or LSP results) out. Workflows import the engines
(analysis, store, sandbox, generate, config) and the project, never
``server/`` or ``cli/``, and nothing here imports pygls, lsprotocol or click.

- :mod:`~ark_lsp.workflows.check`: the rules' findings for paths, ``--fix``;
- :mod:`~ark_lsp.workflows.index`: refresh the index, with its figures;
- :mod:`~ark_lsp.workflows.generate`: function, class and module stubs,
  from a name or a call site, recorded and written;
- :mod:`~ark_lsp.workflows.characterize`: tests from observed behaviour
  (call sites, sandbox, generate, record, write, run);
- :mod:`~ark_lsp.workflows.run`: a file or one function in the sandbox;
- :mod:`~ark_lsp.workflows.tests`: pytest in the sandbox, per-test results;
- :mod:`~ark_lsp.workflows.trust`: trusting a workspace, adopting its rule pack;
- :mod:`~ark_lsp.workflows.rules`: editing the rule pack (add, replace,
  remove, switch), each edit adopted as the user's;
- :mod:`~ark_lsp.workflows.gate`: the quality gate, a change judged against
  its base by the base's settings, the report kept.

This is where the improvement loop's other use cases will live as they
arrive, one module each: approval (policy as data, the queue), deployment
(re-apply, commit, health checks, rollback) and evolution (the coordinator
chaining them).
"""
