"""Fixtures shared by the client-side suites (tests/objects, tests/streams): fake clusters and
clients of them (a module may define its own fixture of the same name, which then wins).

``cluster``: a fake cluster with no kubelet and no controllers (objects stay as written).
``living_cluster``: one with the kubelet and the controllers on (pods run, Deployments roll).
``api`` / ``living_api``: the default client (``await kr8s_trio.api()``) with KUBECONFIG pointing
at ``cluster`` / ``living_cluster``, so objects made without ``api=`` use it too. Use one of the
two per test, not both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import kr8s_trio
from kr8s_trio import Api
from kr8s_trio.testing import FakeCluster, open_fake_cluster


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture
async def living_cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=True, controllers=True) as c:
        yield c


@pytest.fixture
async def api(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    return await kr8s_trio.api()


@pytest.fixture
async def living_api(living_cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("KUBECONFIG", str(living_cluster.kubeconfig_path))
    return await kr8s_trio.api()
