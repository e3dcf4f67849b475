"""Fixtures shared across test modules.

The language-server tests get a sample workspace and started clients. The
sandbox tests get a real Docker engine and the sandbox image: ``scripts/test``
starts an engine and builds the image when it can. Where there is still
none, the docker tests skip, saying why, unless ``ARK_REQUIRE_DOCKER=1`` (as
``.ci/run`` sets), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient
from support.lsp import PRESETS, SERVER, start, write_workspace
from support.sandboxes import DockerSetup, docker_missing

# The run's own user folders, for every test and every server or command it starts:
# trust records, user settings and ARK's caches (the indexes of loose folders, the kept
# answers to initialize, the gate's checkouts) never come from, or land in, the machine's
# own. What the set-up scripts installed under the machine's cache stays found there: the
# editors and the wheelhouse (ARK_TOOLS_DIR), and pip's downloads.
_MACHINE_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
os.environ.setdefault("ARK_TOOLS_DIR", str(_MACHINE_CACHE / "ark-tools"))
os.environ.setdefault("PIP_CACHE_DIR", str(_MACHINE_CACHE / "pip"))
_USER_FOLDERS = Path(tempfile.mkdtemp(prefix="ark-test-user-"))
os.environ["XDG_DATA_HOME"] = str(_USER_FOLDERS / "data")
os.environ["XDG_CONFIG_HOME"] = str(_USER_FOLDERS / "config")
os.environ["XDG_CACHE_HOME"] = str(_USER_FOLDERS / "cache")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_USER_FOLDERS, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_setup() -> DockerSetup:
    from ark_lsp.sandbox.docker_engine import connect
    from ark_lsp.sandbox.image import choose_image

    engine = connect()
    if not engine.answers:
        docker_missing(engine.error or "no Docker engine answers")
    image = choose_image(engine.client, None)
    if not image.present:
        docker_missing(image.reason)
    return DockerSetup(engine.client, image.name)


@pytest.fixture(scope="session")
def docker_sandbox(docker_setup: DockerSetup) -> Iterator[Any]:
    """One docker sandbox with a warm pool for the whole session, closed at its end."""
    from ark_lsp.sandbox.docker_backend import DockerSandbox

    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=2)
    yield sandbox
    sandbox.close()


# --- language server -------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    write_workspace(root)
    return root


@pytest_lsp.fixture(params=PRESETS, config=ClientServerConfig(server_command=SERVER))
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    await start(lsp_client, request.param, [workspace])
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bare_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client the test initializes itself, with options of its own."""
    yield
    if not lsp_client.stopped:
        await lsp_client.shutdown_session()
