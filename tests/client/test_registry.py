"""The client registry and the `api()` factory: caching under normalised arguments, scoping
(explicit `open_registry` scopes, inherited by child tasks; a default registry per trio.run),
single-flight creation, closing, and the seed examples through KUBECONFIG.

Most tests replace the configuration loading (`Api._load_config`) with one that points every
client at the fake cluster and records what it was asked for, so they observe the registry alone.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from test_api import cluster_config

import kr8s_trio
from kr8s_trio import Api, ConfigError, current_registry, open_registry
from kr8s_trio._core._clientconfig import ClientConfig
from kr8s_trio.testing import FakeCluster, open_fake_cluster


class Loads:
    """Replaces configuration loading: every client goes to ``cluster``; records the
    ``kubeconfig`` argument of each load; ``fail`` makes the next loads raise."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.seen: list[object] = []
        self.fail = 0
        self.gate: trio.Event | None = None

    async def load(self, client: Api) -> ClientConfig:
        self.seen.append(client._kubeconfig)
        await trio.lowlevel.checkpoint()  # as reading a file would
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            self.fail -= 1
            raise ConfigError("no such file")
        return cluster_config(self.cluster, context="fake")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def load(client: Api) -> ClientConfig:
            return await self.load(client)

        monkeypatch.setattr(Api, "_load_config", load)


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture
def loads(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Loads:
    recorder = Loads(cluster)
    recorder.install(monkeypatch)
    return recorder


# -- caching --------------------------------------------------------------------------------------


async def test_registry_caches_under_normalised_arguments(
    loads: Loads, cluster: FakeCluster, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_registry() as registry:
        a = await kr8s_trio.api(kubeconfig="/a")
        assert await kr8s_trio.api(kubeconfig="/a") is a
        b = await kr8s_trio.api(kubeconfig="/b")
        assert b is not a
        # no arguments: the first client
        assert await kr8s_trio.api() is a
        # a PathLike and its str are one key; so are equal dicts
        assert await kr8s_trio.api(kubeconfig=tmp_path) is await kr8s_trio.api(
            kubeconfig=str(tmp_path)
        )
        d1 = await kr8s_trio.api(kubeconfig={"b": 1, "a": [1]})
        assert await kr8s_trio.api(kubeconfig={"a": [1], "b": 1}) is d1
        # relative and absolute paths are one key; so are URLs with and without a slash
        monkeypatch.chdir(tmp_path)
        assert await kr8s_trio.api(kubeconfig="kc") is await kr8s_trio.api(
            kubeconfig=str(tmp_path / "kc")
        )
        assert await kr8s_trio.api(url="https://x:1/") is await kr8s_trio.api(url="https://x:1")
        # options are part of the key
        assert await kr8s_trio.api(kubeconfig="/a", qps=5) is not a
        assert registry.clients[:2] == [a, b]
    assert loads.seen == ["/a", "/b", tmp_path, {"b": 1, "a": [1]}, "kc", None, "/a"]
    # none of that sent a request
    assert len(cluster.requests) == 0


async def test_registry_no_arguments_makes_the_default_client(loads: Loads) -> None:
    async with open_registry():
        default = await kr8s_trio.api()
        assert await kr8s_trio.api() is default
        assert await kr8s_trio.api(kubeconfig="/a") is not default
    assert loads.seen == [None, "/a"]


async def test_registry_closes_its_clients_on_exit(loads: Loads) -> None:
    async with open_registry() as registry:
        client = await kr8s_trio.api(kubeconfig="/a")
        assert (await client.version())["major"] == "1"
    assert client.closed
    with pytest.raises(RuntimeError, match="is closed"):
        await client.version()
    with pytest.raises(RuntimeError, match="is closed"):
        await registry.api()


async def test_registry_bypass_factory_is_never_cached(loads: Loads) -> None:
    async with open_registry() as registry:
        first = Api(bypass_factory=True)
        second = Api(bypass_factory=True)
        assert first is not second
        async with first:
            assert (await first.version())["major"] == "1"
        assert first.closed
        assert registry.clients == []
        assert await kr8s_trio.api() is not second


# -- scoping --------------------------------------------------------------------------------------


async def test_registry_is_inherited_by_child_tasks(loads: Loads) -> None:
    got: list[Api] = []

    async def child() -> None:
        got.append(await kr8s_trio.api(kubeconfig="/a"))

    async with trio.open_nursery() as outer:
        async with open_registry() as registry:
            client = await kr8s_trio.api(kubeconfig="/a")
            async with trio.open_nursery() as inner:
                inner.start_soon(child)
            # a nursery opened before the scope: its tasks inherit its owner's context
            outer.start_soon(child)
            await trio.testing.wait_all_tasks_blocked()
            assert current_registry() is registry
        assert current_registry() is None
    assert got == [client, client]


async def test_registry_scopes_nest(loads: Loads) -> None:
    async with open_registry() as outer:
        a = await kr8s_trio.api(kubeconfig="/a")
        async with open_registry() as inner:
            assert current_registry() is inner
            inner_a = await kr8s_trio.api(kubeconfig="/a")
            assert inner_a is not a
        assert inner_a.closed
        assert current_registry() is outer
        assert not a.closed
        assert await kr8s_trio.api(kubeconfig="/a") is a


async def test_registry_default_one_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # the test's own run has its default registry, hosted by a system task
    async with open_fake_cluster(kubelet=False, controllers=False) as cluster:
        Loads(cluster).install(monkeypatch)
        assert current_registry() is None
        client = await kr8s_trio.api(kubeconfig="/a")
        assert await kr8s_trio.api() is client
        assert await kr8s_trio.version() == await client.version()
        assert await kr8s_trio.whoami() == "fake-admin"
        assert "v1" in await kr8s_trio.api_versions()
        assert any(r["kind"] == "Pod" for r in await kr8s_trio.api_resources())


def test_registry_two_runs_never_share_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Api] = []

    async def main() -> None:
        async with open_fake_cluster(kubelet=False, controllers=False) as cluster:
            Loads(cluster).install(monkeypatch)
            client = await kr8s_trio.api(kubeconfig="/a")
            assert await kr8s_trio.api(kubeconfig="/a") is client
            await client.version()
            made.append(client)

    trio.run(main)
    trio.run(main)
    assert made[0] is not made[1]
    # closed when their run ended
    assert made[0].closed
    assert made[1].closed


# -- concurrent creation --------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"kubeconfig": "/a"}])
async def test_registry_concurrent_equal_calls_get_one_instance(
    loads: Loads, kwargs: dict[str, Any]
) -> None:
    loads.gate = trio.Event()
    got: list[Api] = []

    async def get() -> None:
        got.append(await kr8s_trio.api(**kwargs))

    async with open_registry(), trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(get)
        await trio.testing.wait_all_tasks_blocked()
        loads.gate.set()
    assert len(got) == 10
    assert all(c is got[0] for c in got)
    assert loads.seen == [kwargs.get("kubeconfig")]


async def test_registry_no_arguments_wait_for_the_first_client(loads: Loads) -> None:
    loads.gate = trio.Event()
    got: dict[str, Api] = {}

    async def get(name: str, kubeconfig: str | None = None) -> None:
        got[name] = await kr8s_trio.api(kubeconfig=kubeconfig)

    async with open_registry(), trio.open_nursery() as nursery:
        nursery.start_soon(get, "a", "/a")
        await trio.testing.wait_all_tasks_blocked()
        # a client is on its way: api() waits for it rather than making the default one
        nursery.start_soon(get, "default")
        await trio.testing.wait_all_tasks_blocked()
        loads.gate.set()
    assert got["default"] is got["a"]
    assert loads.seen == ["/a"]


async def test_registry_failed_creation_is_not_cached(loads: Loads) -> None:
    async with open_registry() as registry:
        loads.fail = 1
        with pytest.raises(ConfigError):
            await kr8s_trio.api(kubeconfig="/a")
        assert registry.clients == []
        client = await kr8s_trio.api(kubeconfig="/a")
        assert not client.closed
    assert loads.seen == ["/a", "/a"]


async def test_registry_cancelled_creator_hands_over_to_a_waiter(loads: Loads) -> None:
    loads.gate = trio.Event()
    got: list[Api] = []

    async def waiter() -> None:
        got.append(await kr8s_trio.api(kubeconfig="/a"))

    async with open_registry(), trio.open_nursery() as nursery:
        with trio.CancelScope() as creator:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            # the waiter is creating; this task queues behind it
            creator.cancel()
            await kr8s_trio.api(kubeconfig="/a")
        assert creator.cancelled_caught
        loads.gate.set()
    assert len(got) == 1
    assert loads.seen == ["/a"]


# -- secrets --------------------------------------------------------------------------------------


async def test_registry_reprs_hide_secrets(loads: Loads) -> None:
    secret = "s3cr3t-token-value"
    kubeconfig = {"users": [{"name": "u", "user": {"token": secret}}]}
    async with open_registry() as registry:
        client = await kr8s_trio.api(kubeconfig=kubeconfig)
        for shown in (repr(client), repr(registry), repr(client.config), str(client)):
            assert secret not in shown
            assert loads.cluster.token not in shown


# -- the seed examples, through KUBECONFIG --------------------------------------------------------


@pytest.fixture
def kubeconfig_env(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(cluster.kubeconfig_path)
    monkeypatch.setenv("KUBECONFIG", path)
    return path


async def test_seed_examples_through_kubeconfig(
    cluster: FakeCluster, kubeconfig_env: str, tmp_path: Any
) -> None:
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seed"}})
    version = await kr8s_trio.version()
    assert version["gitVersion"].startswith("v1.")
    api = await kr8s_trio.api()
    assert await api.version() == version
    assert api.namespace == "default"
    async with api.call_api("GET", url="pods", namespace="") as r:
        pods = await r.json()
    assert pods["kind"] == "PodList"
    async with api.call_api("GET", base="/version", version="") as r:
        assert await r.json() == version
    assert await kr8s_trio.whoami() == "fake-admin"
    # caching by arguments
    other = tmp_path / "other-kubeconfig"
    cluster.write_kubeconfig(other)
    a = await kr8s_trio.api(kubeconfig=kubeconfig_env)
    assert await kr8s_trio.api(kubeconfig=kubeconfig_env) is a
    b = await kr8s_trio.api(kubeconfig=os.fspath(other))
    assert b is not a
    assert await kr8s_trio.api() is api
    cert = await kr8s_trio.api(context="fake-cert")
    assert await cert.whoami() == "fake-cert-admin"


async def test_seed_bypass_factory_through_kubeconfig(kubeconfig_env: str) -> None:
    async with Api(bypass_factory=True) as first, Api(bypass_factory=True) as second:
        assert first is not second
        assert await first.version() == await second.version()


async def test_registry_hands_back_the_blocks_exception_unwrapped() -> None:
    with pytest.raises(KeyError, match="from the block"):
        async with open_registry():
            raise KeyError("from the block")


async def test_registry_equal_arguments_in_other_spellings_share_a_client(
    loads: Loads, cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    netloc = cluster.url.removeprefix("https://")
    async with open_registry() as registry:
        by_url = await kr8s_trio.api(url=netloc)
        assert await kr8s_trio.api(url=cluster.url + "/") is by_url
        by_path = await kr8s_trio.api(kubeconfig="kc")
        assert await kr8s_trio.api(kubeconfig="./kc") is by_path
        assert await kr8s_trio.api(kubeconfig=str(tmp_path / "sub" / ".." / "kc")) is by_path
        # options given with their default values, or spelled otherwise, make no other client
        assert await kr8s_trio.api(kubeconfig="kc", qps=None, max_connections=100) is by_path
        timed = await kr8s_trio.api(kubeconfig="kc", timeout=5)
        assert timed is not by_path
        assert await kr8s_trio.api(kubeconfig="kc", timeout=httpx.Timeout(5)) is timed
        assert len(registry.clients) == 3


async def test_registry_cancels_its_tasks_before_closing_their_clients(
    loads: Loads,
) -> None:
    # a task of the registry's nursery in the middle of a watch is cancelled, not failed by
    # its client closing under it
    async with open_registry() as registry:
        client = await kr8s_trio.api()
        watching = trio.Event()

        async def watch() -> None:
            async with client.call_api("GET", url="namespaces", params={"watch": "1"}) as r:
                watching.set()
                async for _ in r.aiter_lines():
                    pass

        registry.nursery.start_soon(watch)
        await watching.wait()
    assert client.closed
