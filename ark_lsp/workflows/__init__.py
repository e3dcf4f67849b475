"""Each use case once, for both front ends: the CLI and the server only translate."""
