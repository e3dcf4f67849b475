"""What the docker sandbox tests share: how a missing engine fails or skips them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

REQUIRE_DOCKER = os.environ.get("ARK_REQUIRE_DOCKER") == "1"


def docker_missing(reason: str) -> NoReturn:
    """Fail when docker is required, skip otherwise."""
    if REQUIRE_DOCKER:
        pytest.fail(f"ARK_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class DockerSetup:
    client: Any
    image: str
