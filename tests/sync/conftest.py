"""Fixtures for the sync facade's tests: fake clusters served from background threads (the
facade blocks, so its cluster cannot share the test's loop) and a fresh portal per test.

``sync_cluster``: a living fake cluster (kubelet and controllers on) in a thread, with
KUBECONFIG pointing at it, so ``kr8s_trio.sync.api()`` and objects made without ``api=`` use it.
The process-wide portal is stopped before and after the test: every test starts with an empty
registry (no client cached for another test's cluster).
``other_cluster``: a second (quiet) fake cluster in a thread, for tests that need two.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kr8s_trio.sync._portal import portal
from kr8s_trio.testing import FakeClusterThread, run_fake_cluster_in_thread


@pytest.fixture
def sync_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClusterThread]:
    with run_fake_cluster_in_thread(kubelet=True, controllers=True) as cluster:
        monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
        portal().stop()
        try:
            yield cluster
        finally:
            portal().stop()
            assert not portal().running


@pytest.fixture
def other_cluster() -> Iterator[FakeClusterThread]:
    with run_fake_cluster_in_thread(kubelet=False, controllers=False) as cluster:
        yield cluster
