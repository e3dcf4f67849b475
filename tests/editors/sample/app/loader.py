"""Reads a deployment's overrides: the editor tests open this file."""

import json


def load(text, strict=False):
    """Overrides from ``key=value;...`` or JSON text."""
    if not text:
        return {}
    if strict and text.startswith("{"):
        return json.loads(text)
    for line in text.splitlines():
        if "=" in line:
            return dict(item.split("=", 1) for item in line.split(";"))
    return {}


label = "naïve 𝄞"; defaults = eval("{'debug': False}")
