"""pytest plugin of kr8s_trio.testing, registered through the ``pytest11`` entry point.

Fixtures:
    fake_cluster: an async fixture (needs a trio test, e.g. pytest-trio's ``trio_mode``) yielding
        a running `FakeCluster`.
    fake_cluster_thread: a fake cluster served from a background thread, for synchronous tests
        (the official ``kubernetes`` client, kubectl, sync scripts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kr8s_trio.testing._cluster import FakeCluster, open_fake_cluster
from kr8s_trio.testing._thread import FakeClusterThread, run_fake_cluster_in_thread


@pytest.fixture
async def fake_cluster() -> AsyncIterator[FakeCluster]:
    """A fake Kubernetes API server on loopback for one trio test."""
    async with open_fake_cluster() as cluster:
        yield cluster


@pytest.fixture
def fake_cluster_thread() -> Iterator[FakeClusterThread]:
    """A fake Kubernetes API server served from a background thread for one test."""
    with run_fake_cluster_in_thread() as cluster:
        yield cluster
