"""``workspace/executeCommand``: the commands editors bind to buttons and key maps.

Unknown commands are answered with an error by pygls itself; a command
that fails answers with that failure, and the server goes on.
"""

from __future__ import annotations

from typing import Any

from ark_lsp.server.app import ArkServer
from ark_lsp.server.lifecycle import configure, settings_applied
from ark_lsp.workflows.trust import trust_workspace

REINDEX = "ark.reindex"
TRUST = "ark.trust"


def register(server: ArkServer) -> None:
    """Register the commands ARK's editors call."""

    @server.command(REINDEX)
    async def reindex(ls: ArkServer, *args: Any) -> dict[str, Any]:
        """Refresh every folder's index; answer with what each run did."""
        await ls.wait_configured()
        waiters = [(f, ls.indexer.request(f)) for f in ls.folders.all()]
        results = {}
        for folder, waiter in waiters:
            figures = await waiter
            results[str(folder.root)] = (
                figures.as_dict()
                if figures
                else {"state": folder.state.value, "detail": folder.detail}
            )
        return {"folders": results}

    @server.command(TRUST)
    async def trust(ls: ArkServer, *args: Any) -> dict[str, Any]:
        """Trust the folder of a URI (every folder without one), as ``ark trust`` does."""
        await ls.wait_configured()
        uri = args[0] if args and isinstance(args[0], str) else None
        if uri is None and args and isinstance(args[0], dict):
            uri = args[0].get("uri")
        if uri is not None:
            folder, _ = ls.folders.locate(str(uri))
            if folder is None:
                raise ValueError(f"{uri} is not in a workspace folder ARK knows")
            folders = [folder]
        else:
            folders = ls.folders.all()
        granted = {}
        for folder in folders:
            if folder.restricted:
                raise ValueError(f"{folder.root}: trust the folder in VS Code instead")
            trusted = trust_workspace(folder.root)
            granted[str(folder.root)] = {
                "privileged": dict(trusted.request.settings),
                "templates": [name for name, _ in trusted.request.templates],
                "adopted_rule_pack": str(trusted.adopted_rule_pack or "") or None,
            }
        await configure(ls, folders)
        settings_applied(ls)
        for folder in folders:
            ls.indexer.request(folder)
        ls.inform(f"ARK: trusted {', '.join(granted) or 'no folder'}")
        return {"trusted": granted}
