"""The workspace commands editors bind to buttons and key maps: re-index and trust.

Unknown commands and arguments that do not fit are answered with -32602
(see ``arguments``); a command that fails answers with that failure, and
the server goes on.
"""

from __future__ import annotations

from typing import Any

from ark_lsp.server.arguments import DocumentUri
from ark_lsp.server.core import ArkServer, Feature

REINDEX = "ark.reindex"
TRUST = "ark.trust"


class WorkspaceCommands(Feature):
    """``ark.reindex`` and ``ark.trust``."""

    deferred_imports = ("ark_lsp.workflows.trust",)

    def register(self) -> None:
        """Register the commands."""
        server = self.server

        @server.command(REINDEX)
        async def reindex(ls: ArkServer, folder: DocumentUri | None = None) -> dict[str, Any]:
            """Refresh every folder's index; answer with what each run did.

            Editors name the folder they were called from; every folder is refreshed.
            """
            await ls.wait_configured()
            waiters = [(f, ls.index.request(f)) for f in ls.folders.all()]
            results = {}
            for state, waiter in waiters:
                figures = await waiter
                results[str(state.root)] = (
                    figures.as_dict()
                    if figures
                    else {"state": state.state.value, "detail": state.detail}
                )
            return {"folders": results}

        @server.command(TRUST)
        async def trust(ls: ArkServer, uri: DocumentUri | None = None) -> dict[str, Any]:
            """Trust the folder of a URI (every folder without one), as ``ark trust`` does."""
            from ark_lsp.workflows.trust import trust_workspace

            await ls.wait_configured()
            if uri is not None:
                folder, _ = ls.folders.locate(uri)
                if folder is None:
                    raise ValueError(f"{uri} is not in a workspace folder ARK knows")
                folders = [folder]
            else:
                folders = ls.folders.all()
            granted = {}
            for folder in folders:
                if folder.restricted:
                    raise ValueError(f"{folder.root}: trust the folder in VS Code instead")
                # Off the event loop, but quick: no progress shown for it.
                trusted = await ls.jobs.run(trust_workspace, folder.root)
                granted[str(folder.root)] = {
                    "privileged": dict(trusted.request.settings),
                    "templates": [name for name, _ in trusted.request.templates],
                    "adopted_rule_pack": str(trusted.adopted_rule_pack or "") or None,
                }
            await ls.configure(folders)
            ls.settings_applied()
            for folder in folders:
                ls.index.request(folder)
            ls.inform(f"ARK: trusted {', '.join(granted) or 'no folder'}")
            return {"trusted": granted}
