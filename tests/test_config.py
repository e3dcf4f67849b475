"""The settings model: what pyproject files and editors send, and what goes wrong in them."""

from __future__ import annotations

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import SandboxSettings, Settings, parse_size, settings_from_mapping
from ark_lsp.models import Severity


def test_editor_camel_case_and_pyproject_kebab_case_mean_the_same_settings() -> None:
    from_editor = settings_from_mapping(
        {"codeLensThreshold": 15, "workspaceDiagnostics": True, "sandbox": {"poolSize": 3}}
    )
    from_pyproject = settings_from_mapping(
        {"code-lens-threshold": 15, "workspace-diagnostics": True, "sandbox": {"pool-size": 3}}
    )
    assert from_editor.problems == from_pyproject.problems == ()
    assert from_editor.settings == from_pyproject.settings
    assert from_editor.settings.code_lens_threshold == 15
    assert from_editor.settings.sandbox.pool_size == 3


def test_a_severity_override_changes_what_the_diagnostic_says() -> None:
    settings = settings_from_mapping({"severities": {"ark001": "warning"}}).settings
    (violation,) = analyze("eval(x)\n", "m.py", settings).violations
    assert (violation.rule, violation.severity) == ("ARK001", Severity.WARNING)
    assert settings.analysis_key != Settings().analysis_key


def test_sandbox_settings_are_decoded_and_merged_over_the_base() -> None:
    base = settings_from_mapping({"sandbox": {"backend": "local", "timeout": 3}}).settings
    loaded = settings_from_mapping({"sandbox": {"memory": "512m", "network": True}}, base=base)
    assert loaded.problems == ()
    assert loaded.settings.sandbox == SandboxSettings(
        backend="local", timeout=3.0, memory=512 * 1024**2, network=True
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"sandbox": {"backend": "vm"}}, "tool.ark.sandbox.backend: expected one of auto, docker"),
        ({"sandbox": {"memory": "lots"}}, "tool.ark.sandbox.memory: expected a size"),
        ({"sandbox": {"cpu": 2}}, "tool.ark.sandbox.cpu: unknown setting"),
        ({"sandbox": "docker"}, "tool.ark.sandbox: expected a table"),
        ({"severities": {"ARK001": "fatal"}}, "'ARK001': 'fatal' is not error, warning or info"),
        ({"codeLensThreshold": 0}, "tool.ark.codeLensThreshold: expected a positive integer"),
    ],
)
def test_a_bad_value_is_reported_and_the_default_kept(raw: dict[str, object], problem: str) -> None:
    loaded = settings_from_mapping(raw)
    assert len(loaded.problems) == 1
    assert problem in loaded.problems[0]
    assert loaded.settings == Settings()


@pytest.mark.parametrize(
    ("text", "size"),
    [(1024, 1024), ("256m", 256 * 1024**2), ("1g", 1024**3), ("64MiB", 64 * 1024**2), ("2k", 2048)],
)
def test_sizes_read_like_docker_flags(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1m", "12x", True, 1.5])
def test_nonsense_sizes_are_refused(text: object) -> None:
    with pytest.raises(TypeError):
        parse_size(text)
