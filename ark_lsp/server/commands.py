"""``workspace/executeCommand``: the commands editors bind to buttons and key maps.

Unknown commands are answered with an error by pygls itself; a command
that fails answers with that failure, and the server goes on.
"""

from __future__ import annotations

from typing import Any

from ark_lsp.server.app import ArkServer

REINDEX = "ark.reindex"


def register(server: ArkServer) -> None:
    """Register the commands ARK's editors call."""

    @server.command(REINDEX)
    async def reindex(ls: ArkServer, *args: Any) -> dict[str, Any]:
        """Refresh every folder's index; answer with what each run did."""
        await ls.wait_configured()
        waiters = [(p, ls.indexer.request(p)) for p in ls.projects.all()]
        results = {}
        for project, waiter in waiters:
            figures = await waiter
            results[str(project.root)] = (
                figures.as_dict()
                if figures
                else {"state": project.state.value, "detail": project.detail}
            )
        return {"folders": results}
