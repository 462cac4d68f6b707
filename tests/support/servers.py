"""pytest fixtures: one LocalServer per test session serving tests/fixtures/ plus the fault routes.

Use it from a test module with `from support.servers import fixture_server` (or list
"tests.support.servers" in a conftest's pytest_plugins), then `fixture_server.url("/feeds/x.xml")`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.local_server import LocalServer

from .faults import fault_routes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[LocalServer]:
    """tests/fixtures/ on 127.0.0.1, with /status/<code>, /delay/<s>, /drop... (see support.faults)."""
    with LocalServer(FIXTURES, routes=fault_routes()) as server:
        yield server
