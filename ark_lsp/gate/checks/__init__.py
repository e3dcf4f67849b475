"""The gate's checks, one module each, every one a function returning a CheckResult."""
