"""ARK: a code-safety language server and command line for Python."""

__version__ = "0.1.0"
