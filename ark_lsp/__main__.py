"""``python -m ark_lsp``: the language server, as editors start it."""

from ark_lsp.cli import serve_main

serve_main()
