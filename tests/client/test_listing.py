"""`list_pages` against the fake API server over TLS: pagination with limit/continue, a single
request with limit=0, and what happens when a continue token expires between pages (on the
autojump MockClock, like the fake's history window)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio.testing
from test_api import make_api

from kr8s_trio import ALL, Api, GoneError
from kr8s_trio._listing import ListPage, list_pages
from kr8s_trio.testing import FakeCluster, open_fake_cluster


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture
async def api(cluster: FakeCluster) -> AsyncIterator[Api]:
    async with make_api(cluster) as client:
        yield client


def configmap(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": name},
    }


def names(pages: list[ListPage]) -> list[str]:
    return [item["metadata"]["name"] for page in pages for item in page.items]


async def collect(api: Api, **kwargs: Any) -> list[ListPage]:
    kwargs.setdefault("version", "v1")
    kwargs.setdefault("plural", "configmaps")
    kwargs.setdefault("namespace", "default")
    return [page async for page in list_pages(api, **kwargs)]


async def test_list_pages_follows_continue_tokens(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    for i in range(7):
        cluster.create(configmap(f"cm-{i}"))
    cluster.create(configmap("elsewhere", namespace="kube-system"))
    cluster.requests.clear()
    pages = await collect(api, limit=3)
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert names(pages) == [f"cm-{i}" for i in range(7)]
    assert len({p.resource_version for p in pages}) == 1
    assert (pages[0].kind, pages[0].api_version) == ("ConfigMapList", "v1")
    assert [p.continue_token is None for p in pages] == [False, False, True]
    assert not any(p.inconsistent for p in pages)
    lists = cluster.requests.filter(verb="list")
    assert [r.query.get("limit") for r in lists] == [["3"]] * 3
    assert [r.query.get("continue") for r in lists[1:]] == [
        [pages[0].continue_token],
        [pages[1].continue_token],
    ]
    assert "continue" not in lists[0].query


async def test_list_pages_default_limit_is_kubectl_chunk_size(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.create(configmap("a"))
    cluster.requests.clear()
    pages = await collect(api)
    assert names(pages) == ["a"]
    assert [r.query.get("limit") for r in cluster.requests.filter(verb="list")] == [["500"]]


async def test_list_pages_limit_zero_is_one_request(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    for i in range(5):
        cluster.create(configmap(f"cm-{i}"))
    cluster.requests.clear()
    pages = await collect(api, limit=0)
    assert len(pages) == 1
    assert names(pages) == [f"cm-{i}" for i in range(5)]
    (request,) = cluster.requests.filter(verb="list")
    assert "limit" not in request.query


async def test_list_pages_empty_list_is_one_empty_page(
    autojump_clock: trio.testing.MockClock, api: Api
) -> None:
    pages = await collect(api, namespace="kube-public")
    assert len(pages) == 1
    assert pages[0].items == []
    assert pages[0].resource_version


async def test_list_pages_passes_selectors_and_all_namespaces(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.create(configmap("a", app="x"))
    cluster.create(configmap("b", namespace="kube-system", app="x"))
    cluster.create(configmap("c", app="y"))
    cluster.requests.clear()
    pages = await collect(api, namespace=ALL, params={"labelSelector": "app=x"}, limit=1)
    assert sorted(names(pages)) == ["a", "b"]
    lists = cluster.requests.filter(verb="list")
    assert all(r.label_selector == "app=x" for r in lists)
    assert all(r.namespace is None for r in lists)


async def test_list_pages_resource_version_goes_with_the_first_page_only(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    for i in range(3):
        cluster.create(configmap(f"cm-{i}"))
    rv = cluster.get("configmaps", "cm-2")["metadata"]["resourceVersion"]
    cluster.create(configmap("later"))
    cluster.requests.clear()
    pages = await collect(api, limit=2, params={"resourceVersion": rv})
    # limit + resourceVersion is an Exact read at rv: "later" did not exist yet
    assert names(pages) == ["cm-0", "cm-1", "cm-2"]
    lists = cluster.requests.filter(verb="list")
    assert lists[0].query["resourceVersion"] == [rv]
    assert all("resourceVersion" not in r.query for r in lists[1:])


async def test_list_pages_expired_continue_token_continues_inconsistently(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    for i in range(4):
        cluster.create(configmap(f"cm-{i}"))
    pages: list[ListPage] = []
    async for page in list_pages(
        api, version="v1", plural="configmaps", namespace="default", limit=2
    ):
        pages.append(page)
        if len(pages) == 1:
            # between pages: etcd compacts, and the cluster changes
            cluster.create(configmap("cm-9"))
            cluster.delete("configmaps", "cm-3")
            cluster.expire_continue_tokens()
    # the first page from the old snapshot, the rest from the latest state
    assert names(pages) == ["cm-0", "cm-1", "cm-2", "cm-9"]
    assert [p.inconsistent for p in pages] == [False, True]
    assert int(pages[1].resource_version) > int(pages[0].resource_version)
    lists = cluster.requests.filter(verb="list")
    assert [r.status for r in lists] == [200, 410, 200]


async def test_list_pages_consistent_raises_gone_on_expired_token(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    for i in range(4):
        cluster.create(configmap(f"cm-{i}"))
    pages: list[ListPage] = []

    async def consume() -> None:
        async for page in list_pages(
            api, version="v1", plural="configmaps", namespace="default", limit=2, consistent=True
        ):
            pages.append(page)
            cluster.expire_continue_tokens()

    with pytest.raises(GoneError) as info:
        await consume()
    assert len(pages) == 1
    assert info.value.code == 410
    assert len(cluster.requests.filter(verb="list")) == 2


async def test_list_pages_gone_on_first_page_is_raised(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.create(configmap("a"))
    rv = cluster.get("configmaps", "a")["metadata"]["resourceVersion"]
    cluster.create(configmap("b"))
    cluster.compact()
    with pytest.raises(GoneError):
        await collect(api, limit=1, params={"resourceVersion": rv})


async def test_list_pages_rejects_negative_limit(
    autojump_clock: trio.testing.MockClock, api: Api
) -> None:
    with pytest.raises(ValueError, match="limit"):
        await collect(api, limit=-1)
