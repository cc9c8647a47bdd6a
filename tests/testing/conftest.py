"""Fixtures shared by the fake API server's test modules (plain helpers are in support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kr8s_trio.testing import FakeCluster, open_fake_cluster


@pytest.fixture
async def api_cluster() -> AsyncIterator[FakeCluster]:
    """The fake's API machinery alone, with no simulated kubelet or controllers: the conformance
    suites of the API server see exactly the changes they make (the plugin's ``fake_cluster``
    is a living cluster)."""
    async with open_fake_cluster(kubelet=False, controllers=False) as cluster:
        yield cluster


@pytest.fixture
async def client(api_cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    """An admin HTTP client of the test's API-only cluster, without timeouts: watches may stay
    open, and under an autojumping MockClock a timeout would fire whenever every task waits."""
    async with api_cluster.http_client(timeout=None) as c:
        yield c
