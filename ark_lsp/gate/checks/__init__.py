"""The gate's checks: each a function of a GateInput returning a CheckResult."""
