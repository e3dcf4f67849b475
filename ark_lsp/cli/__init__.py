"""The ``ark`` command line: a thin front end over the same engine as the server.

Exit codes: 0 success; 1 findings (``ark check`` found an error-severity
result; ``ark gate``: the change failed the gate; ``ark run``/``ark test``:
the code failed, timed out or hit a limit);
2 usage error; 3 the database cannot be used (corrupt, locked, from a newer
ARK); 4 any other failure, reported in one line (for the sandbox commands:
the sandbox could not run the code at all); 5 a change set refused (``ark
change``, ``--as-change``: a detached HEAD, a dirty base, an empty or binary
patch, one that does not apply, a base commit that is gone).
"""

from __future__ import annotations

from typing import Any

__all__ = ["main", "serve_main"]


def __getattr__(name: str) -> Any:
    """``main`` (the ``ark`` group) and its classes, from :mod:`ark_lsp.cli.app` when first asked.

    The group imports click and every command's engine; the language server's
    start (``serve_main``) needs none of them.
    """
    if name in {"main", "ArkGroup", "OneLineUsageError"}:
        from ark_lsp.cli import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def serve_main() -> None:
    """Entry point of the ``ark-lsp`` script (and ``python -m ark_lsp``)."""
    from ark_lsp.cli.launch import serve_main as launch_server

    launch_server()
