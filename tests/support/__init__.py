"""What the test modules share: driving the CLI, the server, the sandboxes, as users do."""
