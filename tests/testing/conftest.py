"""Fixtures shared by the fake API server's test modules (plain helpers are in support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kr8s_trio.testing import FakeCluster


@pytest.fixture
async def client(fake_cluster: FakeCluster) -> AsyncIterator[httpx.AsyncClient]:
    """An admin HTTP client of the test's fake cluster, without timeouts: watches may stay open,
    and under an autojumping MockClock a timeout would fire whenever every task waits."""
    async with fake_cluster.http_client(timeout=None) as c:
        yield c
