"""Record which editor tests failed, so fixtures can keep their artifacts."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from harness import FAILED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        FAILED.update(getattr(item, "fixturenames", ()))
    return report
