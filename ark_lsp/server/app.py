"""The server as shipped: the core with every feature, from one list.

Adding a feature is adding its module and one line to ``FEATURES``.
"""

from __future__ import annotations

from ark_lsp.server.code_lens import ComplexityLenses
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.diagnostics import AnalysisDiagnostics
from ark_lsp.server.gate import QualityGate
from ark_lsp.server.generation import CodeGeneration
from ark_lsp.server.hover import Hovers
from ark_lsp.server.quick_fixes import QuickFixes
from ark_lsp.server.sandbox import SandboxCommands
from ark_lsp.server.symbols import Symbols
from ark_lsp.server.tool_diagnostics import ToolDiagnostics
from ark_lsp.server.workspace_changes import WorkspaceChanges
from ark_lsp.server.workspace_commands import WorkspaceCommands

FEATURES: tuple[type[Feature], ...] = (
    WorkspaceChanges,
    AnalysisDiagnostics,
    QuickFixes,
    Hovers,
    Symbols,
    ComplexityLenses,
    WorkspaceCommands,
    SandboxCommands,
    CodeGeneration,
    QualityGate,
    ToolDiagnostics,
)
"""Every feature of the server, in the order their hooks run and code actions are listed."""


def create_server() -> ArkServer:
    """Build a server with every feature registered."""
    server = ArkServer()
    for feature in FEATURES:
        server.features.add(feature(server))
    return server
