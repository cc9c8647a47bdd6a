"""The top-level verbs `kr8s_trio.get`, `watch`, `create` and `apply`, as a user writes them with
the cached default client (KUBECONFIG pointing at the fake cluster, over TLS).

``get``: every kind spelling, pagination, named objects, label selectors (text, dicts with
set-based values, LabelSelector objects), field selectors, namespaces, ``as_object=Table``,
``raw=True``, kinds resolved from discovery, early selector errors. ``watch``: the initial ADDED
events, live changes, ``raw``, ``since``, selectors, and closing the server-side watch when the
loop is left. ``create`` and ``apply``: concurrent, ordered, and errors as themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import trio
import trio.testing
from crds import crd

import kr8s_trio
from kr8s_trio import AlreadyExistsError, Api, ConflictError, SelectorError
from kr8s_trio.objects import APIObject, ConfigMap, Deployment, Namespace, Pod, Table
from kr8s_trio.testing import FakeCluster

JSON = dict[str, Any]

_unique = itertools.count()


# -- helpers ------------------------------------------------------------------------------------


def configmap(name: str, namespace: str = "default", **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": name},
    }


def pod(name: str, namespace: str = "default", **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "nginx"}]},
    }


def deployment(name: str, namespace: str = "default") -> JSON:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx"}]},
            },
        },
    }


def install_crd(cluster: FakeCluster, *, scope: str = "Namespaced") -> tuple[str, str, str]:
    """A CRD with a Kind no class knows yet (the class registry is process-wide); returns
    (kind, plural, group)."""
    n = next(_unique)
    kind, plural, group = f"Sprocket{n}", f"sprockets{n}", f"toplevel{n}.example.com"
    cluster.create(crd(group, plural, kind, scope, shortNames=[f"spk{n}"]))
    return kind, plural, group


def custom(kind: str, group: str, name: str, namespace: str | None = "default") -> JSON:
    metadata: JSON = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": metadata, "spec": {"x": 1}}


def lists(cluster: FakeCluster, resource: str) -> list[Any]:
    return cluster.requests.filter(verb="list", resource=resource)


async def names_of(objects: AsyncIterator[APIObject]) -> list[str]:
    return [obj.name async for obj in objects]


@pytest.fixture
async def default_client(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Api:
    """KUBECONFIG set the way a user would; the client is the cached default one."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    return await kr8s_trio.api()


# -- the seed examples ----------------------------------------------------------------------------


async def test_get_seed_example_prints_pods_of_every_namespace(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    cluster.create(pod("web-0"))
    cluster.create(pod("dns-0", namespace="kube-system"))
    async for pod_ in kr8s_trio.get("pods", namespace=kr8s_trio.ALL):
        print(pod_.name)
    assert sorted(capsys.readouterr().out.split()) == ["dns-0", "web-0"]
    (request,) = lists(cluster, "pods")
    assert request.namespace is None  # one cluster-wide list


async def test_pod_get_seed_example_uses_the_default_client(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig_path))
    created = cluster.create(pod("some-pod", app="web"))
    found = await Pod.get("some-pod")
    assert isinstance(found, Pod)
    assert found.name == "some-pod"
    assert found.metadata.uid == created["metadata"]["uid"]
    assert found.labels["app"] == "web"
    assert found.api is await kr8s_trio.api()


# -- get: kinds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "deployments",
        "deployment",
        "deploy",
        "Deployment",
        "DEPLOYMENTS",
        "deployments.apps",
        "deploy.apps",
        "deployment.v1.apps",
        "deployment.apps/v1",
        Deployment,
    ],
)
async def test_get_accepts_every_kind_spelling(
    cluster: FakeCluster, default_client: Api, kind: str | type[APIObject]
) -> None:
    cluster.create(deployment("web"))
    cluster.create(deployment("api"))
    found = [obj async for obj in kr8s_trio.get(kind)]
    assert sorted(obj.name for obj in found) == ["api", "web"]
    assert all(type(obj) is Deployment for obj in found)
    assert all(obj.api is default_client for obj in found)


@pytest.mark.parametrize("kind", ["pods", "pod", "po", "Pod", "pod/v1", "pods.v1", Pod])
async def test_get_accepts_core_kind_spellings(
    cluster: FakeCluster, default_client: Api, kind: str | type[APIObject]
) -> None:
    cluster.create(pod("p"))
    found = [obj async for obj in kr8s_trio.get(kind)]
    assert [(type(obj), obj.name) for obj in found] == [(Pod, "p")]


# -- get: pagination ------------------------------------------------------------------------------


async def test_get_paginates_past_limit_and_yields_each_object_once(
    cluster: FakeCluster, default_client: Api
) -> None:
    created = [f"cm-{i:02}" for i in range(11)]
    for name in created:
        cluster.create(configmap(name))
    cluster.requests.clear()
    got = await names_of(kr8s_trio.get("configmaps", limit=4))
    assert sorted(got) == created  # every object, none twice
    requests = lists(cluster, "configmaps")
    assert len(requests) == 3  # 4 + 4 + 3
    assert all(r.query["limit"] == ["4"] for r in requests)
    assert "continue" not in requests[0].query
    assert all(r.query["continue"] for r in requests[1:])


async def test_get_breaking_out_early_fetches_no_more_and_leaves_nothing_to_finalize(
    cluster: FakeCluster, default_client: Api
) -> None:
    for i in range(9):
        cluster.create(configmap(f"cm-{i}"))
    cluster.requests.clear()

    async def first_two() -> list[str]:
        names = []
        async for cm in kr8s_trio.get("configmaps", limit=4):
            names.append(cm.name)
            if len(names) == 2:
                break  # (an abandoned async generator would warn here: warnings are errors)
        return names

    assert await first_two() == ["cm-0", "cm-1"]
    await trio.testing.wait_all_tasks_blocked()
    assert len(lists(cluster, "configmaps")) == 1  # the next pages were never asked for


async def test_get_default_limit_is_one_request_for_a_small_list(
    cluster: FakeCluster, default_client: Api
) -> None:
    for i in range(5):
        cluster.create(configmap(f"cm-{i}"))
    assert len(await names_of(kr8s_trio.get("cm"))) == 5
    (request,) = lists(cluster, "configmaps")
    assert request.query["limit"] == ["500"]


async def test_get_limit_zero_is_one_unpaginated_request(
    cluster: FakeCluster, default_client: Api
) -> None:
    for i in range(7):
        cluster.create(configmap(f"cm-{i}"))
    assert len(await names_of(kr8s_trio.get("cm", limit=0))) == 7
    (request,) = lists(cluster, "configmaps")
    assert "limit" not in request.query


# -- get: names -----------------------------------------------------------------------------------


async def test_get_names_yielded_in_given_order_and_missing_skipped(
    cluster: FakeCluster, default_client: Api
) -> None:
    for name in ("a", "b", "c"):
        cluster.create(configmap(name))
    got = await names_of(kr8s_trio.get("cm", "c", "missing", "a"))
    assert got == ["c", "a"]
    selectors = sorted(r.field_selector or "" for r in lists(cluster, "configmaps"))
    assert selectors == ["metadata.name=a", "metadata.name=c", "metadata.name=missing"]


async def test_get_names_with_label_selector_skips_non_matching(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("a", tier="front"))
    cluster.create(configmap("b", tier="back"))
    got = await names_of(kr8s_trio.get("cm", "a", "b", label_selector={"tier": "back"}))
    assert got == ["b"]


# -- get: selectors -------------------------------------------------------------------------------


@pytest.fixture
async def tiers(cluster: FakeCluster, default_client: Api) -> None:
    cluster.create(configmap("a", tier="a"))
    cluster.create(configmap("b", tier="b"))
    cluster.create(configmap("c", tier="c", app="x"))
    cluster.create(configmap("d", app="x"))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=a", ["a"]),
        ("tier in (a,b)", ["a", "b"]),
        ("tier notin (a,b)", ["c", "d"]),
        ("!tier", ["d"]),
        ("tier", ["a", "b", "c"]),
        ("tier!=a,app=x", ["c", "d"]),
        ({"tier": "c"}, ["c"]),
        ({"tier": ["a", "b"]}, ["a", "b"]),
        ({"tier": ("b", "c"), "app": "x"}, ["c"]),
        ({"matchLabels": {"app": "x"}}, ["c", "d"]),
        (
            {
                "matchLabels": {"app": "x"},
                "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}],
            },
            ["d"],
        ),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "c"]}]},
            ["a", "c"],
        ),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
            ["b", "c", "d"],
        ),
    ],
)
async def test_get_label_selector_forms(
    cluster: FakeCluster, tiers: None, selector: str | JSON, expected: list[str]
) -> None:
    got = await names_of(kr8s_trio.get("cm", label_selector=selector))
    assert sorted(got) == expected
    (request,) = lists(cluster, "configmaps")
    assert request.label_selector  # sent to the server, not filtered here


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=b", ["b"]),
        ("metadata.name!=b", ["a", "c", "d"]),
        ({"metadata.name": "c"}, ["c"]),
        ({"metadata.name": "c", "metadata.namespace": "default"}, ["c"]),
    ],
)
async def test_get_field_selector_forms(
    cluster: FakeCluster, tiers: None, selector: str | JSON, expected: list[str]
) -> None:
    got = await names_of(kr8s_trio.get("cm", field_selector=selector))
    assert sorted(got) == expected
    (request,) = lists(cluster, "configmaps")
    assert request.field_selector


@pytest.mark.parametrize(
    "selectors",
    [
        {"label_selector": "tier in (a"},
        {"label_selector": "tier=a=b"},
        {"label_selector": {"tier": {"nested": "dict"}}},
        {"label_selector": {"tier": []}},
        {"label_selector": {"bad key!": "x"}},
        {"field_selector": "metadata.name"},
        {"field_selector": {"metadata.name": ["a", "b"]}},
    ],
)
async def test_get_bad_selector_raises_before_any_request(
    cluster: FakeCluster, default_client: Api, selectors: dict[str, Any]
) -> None:
    cluster.requests.clear()
    with pytest.raises(SelectorError):
        await names_of(kr8s_trio.get("configmaps", **selectors))
    with pytest.raises(SelectorError):
        await names_of(kr8s_trio.get("configmaps", "a", "b", **selectors))
    assert len(cluster.requests) == 0


# -- get: namespaces ------------------------------------------------------------------------------


@pytest.fixture
async def spread(cluster: FakeCluster, default_client: Api) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    cluster.create(configmap("in-default"))
    cluster.create(configmap("in-other", namespace="other"))
    cluster.create(configmap("in-system", namespace="kube-system"))


async def test_get_namespace_none_is_the_client_default(
    cluster: FakeCluster, spread: None, default_client: Api
) -> None:
    assert default_client.namespace == "default"
    assert await names_of(kr8s_trio.get("cm")) == ["in-default"]
    assert lists(cluster, "configmaps")[-1].namespace == "default"
    # a client with another default namespace lists that one
    other = await kr8s_trio.api(namespace="other")
    assert other is not default_client
    assert await names_of(kr8s_trio.get("cm", api=other)) == ["in-other"]
    assert lists(cluster, "configmaps")[-1].namespace == "other"


async def test_get_namespace_all_and_explicit(cluster: FakeCluster, spread: None) -> None:
    everywhere = await names_of(kr8s_trio.get("cm", namespace=kr8s_trio.ALL))
    assert {"in-default", "in-other", "in-system"} <= set(everywhere)
    assert lists(cluster, "configmaps")[-1].namespace is None
    assert await names_of(kr8s_trio.get("cm", namespace="kube-system")) == ["in-system"]
    assert lists(cluster, "configmaps")[-1].namespace == "kube-system"


async def test_get_cluster_scoped_kind_ignores_namespace(
    cluster: FakeCluster, spread: None
) -> None:
    everywhere = await names_of(kr8s_trio.get("namespaces"))
    scoped = await names_of(kr8s_trio.get("ns", namespace="kube-system"))
    assert scoped == everywhere
    assert {"default", "kube-system", "other"} <= set(scoped)
    assert all(r.namespace is None for r in lists(cluster, "namespaces"))
    assert {type(obj) async for obj in kr8s_trio.get("ns")} == {Namespace}


# -- get: as_object and raw -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "make"), [("pods", pod), ("configmaps", configmap), ("deployments", deployment)]
)
async def test_get_as_table_for_core_and_group_kinds(
    cluster: FakeCluster, default_client: Api, kind: str, make: Any
) -> None:
    for name in ("x", "y"):
        cluster.create(make(name))
    (table,) = [t async for t in kr8s_trio.get(kind, as_object=Table)]
    assert isinstance(table, Table)
    assert table.kind == "Table"
    assert table.column_definitions[0]["name"] == "Name"
    assert sorted(row["cells"][0] for row in table.rows) == ["x", "y"]
    (request,) = lists(cluster, kind)
    assert "as=Table" in request.accept
    assert "g=meta.k8s.io" in request.accept


async def test_get_as_table_paginates_one_table_per_page(
    cluster: FakeCluster, default_client: Api
) -> None:
    for i in range(5):
        cluster.create(configmap(f"cm-{i}"))
    tables = [t async for t in kr8s_trio.get("cm", as_object=Table, limit=2)]
    assert [len(t.rows) for t in tables] == [2, 2, 1]
    assert sorted(row["cells"][0] for t in tables for row in t.rows) == [
        f"cm-{i}" for i in range(5)
    ]


async def test_get_raw_yields_the_decoded_items(cluster: FakeCluster, default_client: Api) -> None:
    stored = {name: cluster.create(configmap(name, tier="t")) for name in ("a", "b")}
    got = [item async for item in kr8s_trio.get("cm", raw=True)]
    assert all(type(item) is dict for item in got)
    assert sorted(item["metadata"]["name"] for item in got) == ["a", "b"]
    for item in got:
        assert item["kind"] == "ConfigMap"
        assert item["apiVersion"] == "v1"
        assert item == stored[item["metadata"]["name"]]
    named = [item async for item in kr8s_trio.get("deploy", "nope", raw=True)]
    assert named == []
    cluster.create(deployment("web"))
    (web,) = [item async for item in kr8s_trio.get("deploy", "web", raw=True)]
    assert type(web) is dict
    assert (web["kind"], web["apiVersion"]) == ("Deployment", "apps/v1")


async def test_get_wraps_without_copying(cluster: FakeCluster, default_client: Api) -> None:
    cluster.create(configmap("a"))
    (obj,) = [o async for o in kr8s_trio.get("cm")]
    assert obj.raw["kind"] == "ConfigMap"
    assert obj.raw["apiVersion"] == "v1"
    assert obj.data["k"] == "a"


# -- get: kinds from discovery --------------------------------------------------------------------


async def test_get_unknown_kind_resolved_from_discovery(
    cluster: FakeCluster, default_client: Api
) -> None:
    kind, plural, group = install_crd(cluster)
    cluster.create(custom(kind, group, "one"))
    cluster.create(custom(kind, group, "two", namespace="kube-system"))
    for spelling in (plural, f"{plural}.{group}", kind, f"{kind.lower()}.v1.{group}"):
        got = [obj async for obj in kr8s_trio.get(spelling)]
        assert [(type(obj).kind, obj.name) for obj in got] == [(kind, "one")]
        assert type(got[0]).endpoint == plural
        assert type(got[0]).namespaced is True
    everywhere = [o.name async for o in kr8s_trio.get(plural, namespace=kr8s_trio.ALL)]
    assert sorted(everywhere) == ["one", "two"]


async def test_get_unknown_cluster_scoped_kind_from_discovery(
    cluster: FakeCluster, default_client: Api
) -> None:
    kind, plural, group = install_crd(cluster, scope="Cluster")
    cluster.create(custom(kind, group, "g", namespace=None))
    got = [obj async for obj in kr8s_trio.get(plural, namespace="kube-system")]
    assert [obj.name for obj in got] == ["g"]
    assert type(got[0]).namespaced is False
    assert all(r.namespace is None for r in lists(cluster, plural))


async def test_get_unknown_kind_disallowed_raises_key_error(
    cluster: FakeCluster, default_client: Api
) -> None:
    _, plural, _ = install_crd(cluster)
    with pytest.raises(KeyError):
        await names_of(kr8s_trio.get(plural, allow_unknown_type=False))
    assert not lists(cluster, plural)


async def test_get_kind_nobody_serves_raises_key_error(
    cluster: FakeCluster, default_client: Api
) -> None:
    with pytest.raises(KeyError, match="flibbertigibbets"):
        await names_of(kr8s_trio.get("flibbertigibbets"))


# -- watch ----------------------------------------------------------------------------------------


async def test_watch_added_for_existing_then_live_changes(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("a"))
    cluster.create(configmap("b"))
    cluster.create(configmap("elsewhere", namespace="kube-system"))
    async with aclosing(kr8s_trio.watch("configmaps")) as events:
        first = [await anext(events) for _ in range(2)]
        assert sorted((t, o.name) for t, o in first) == [("ADDED", "a"), ("ADDED", "b")]
        assert all(type(o) is ConfigMap and o.api is default_client for _, o in first)
        cluster.patch("configmaps", "a", {"data": {"k": "changed"}})
        event, obj = await anext(events)
        assert (event, obj.name, obj.data["k"]) == ("MODIFIED", "a", "changed")
        cluster.delete("configmaps", "b")
        event, obj = await anext(events)
        assert (event, obj.name) == ("DELETED", "b")
        cluster.create(configmap("c"))
        event, obj = await anext(events)
        assert (event, obj.name) == ("ADDED", "c")


async def test_watch_raw_yields_dicts(cluster: FakeCluster, default_client: Api) -> None:
    cluster.create(configmap("a"))
    async with aclosing(kr8s_trio.watch("cm", raw=True)) as events:
        event, obj = await anext(events)
        assert event == "ADDED"
        assert type(obj) is dict
        assert (obj["kind"], obj["apiVersion"], obj["metadata"]["name"]) == (
            "ConfigMap",
            "v1",
            "a",
        )
        cluster.create(configmap("b"))
        event, obj = await anext(events)
        assert (event, type(obj), obj["metadata"]["name"]) == ("ADDED", dict, "b")


async def test_watch_since_yields_only_later_changes(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("old"))
    since = cluster.create(configmap("also-old"))["metadata"]["resourceVersion"]
    cluster.patch("configmaps", "old", {"data": {"k": "new"}})
    async with aclosing(kr8s_trio.watch("cm", since=since)) as events:
        event, obj = await anext(events)
        assert (event, obj.name, obj.data["k"]) == ("MODIFIED", "old", "new")
    assert not lists(cluster, "configmaps")
    (request,) = cluster.requests.filter(verb="watch", resource="configmaps")
    assert request.query["resourceVersion"] == [since]


async def test_watch_label_selector(cluster: FakeCluster, default_client: Api) -> None:
    cluster.create(configmap("a", tier="a"))
    cluster.create(configmap("b", tier="b"))
    async with aclosing(kr8s_trio.watch("cm", label_selector={"tier": ["b", "c"]})) as events:
        assert [(t, o.name) for t, o in [await anext(events)]] == [("ADDED", "b")]
        cluster.create(configmap("c", tier="c"))
        cluster.create(configmap("z", tier="z"))
        cluster.create(configmap("c2", tier="c"))
        assert [(t, o.name) for t, o in [await anext(events), await anext(events)]] == [
            ("ADDED", "c"),
            ("ADDED", "c2"),
        ]
    (request,) = cluster.requests.filter(verb="watch", resource="configmaps")
    assert request.label_selector == "tier in (b,c)"


async def test_watch_field_selector_and_namespace(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("a", namespace="kube-system"))
    cluster.create(configmap("b", namespace="kube-system"))
    events = kr8s_trio.watch("cm", namespace="kube-system", field_selector={"metadata.name": "b"})
    async with aclosing(events):
        event, obj = await anext(events)
        assert (event, obj.name, obj.namespace) == ("ADDED", "b", "kube-system")
        cluster.patch("configmaps", "a", {"data": {"k": "1"}}, namespace="kube-system")
        cluster.patch("configmaps", "b", {"data": {"k": "2"}}, namespace="kube-system")
        event, obj = await anext(events)
        assert (event, obj.name, obj.data["k"]) == ("MODIFIED", "b", "2")
    (request,) = cluster.requests.filter(verb="watch", resource="configmaps")
    assert request.namespace == "kube-system"
    assert request.field_selector == "metadata.name=b"


async def test_watch_breaking_out_closes_the_server_side_watch(
    cluster: FakeCluster, default_client: Api
) -> None:
    since = cluster.create(configmap("a"))["metadata"]["resourceVersion"]
    cluster.create(configmap("b"))

    # trio warns about every async generator left unfinished and collected (its finalizer still
    # closes it, which is what is checked here)
    async def first_event() -> tuple[str, str]:
        async for event, obj in kr8s_trio.watch("configmaps", since=since):
            assert len(cluster.faults.active_watches()) == 1
            return event, obj.name  # leaves the loop: the generator is dropped, not finished
        raise AssertionError("the watch ended")

    with pytest.warns(ResourceWarning, match="garbage collected"):
        assert await first_event() == ("ADDED", "b")
    await trio.testing.wait_all_tasks_blocked()
    assert cluster.faults.active_watches() == []


async def test_watch_breaking_out_under_aclosing_closes_the_watch(
    cluster: FakeCluster, default_client: Api
) -> None:
    since = cluster.create(configmap("a"))["metadata"]["resourceVersion"]
    cluster.create(configmap("b"))
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        async for _, obj in events:
            assert obj.name == "b"
            assert len(cluster.faults.active_watches()) == 1
            break
    await trio.testing.wait_all_tasks_blocked()
    assert cluster.faults.active_watches() == []


async def test_watch_cancelled_closes_the_server_side_watch(
    cluster: FakeCluster, default_client: Api
) -> None:
    seen: list[str] = []

    async def consume() -> None:
        async for _, obj in kr8s_trio.watch("configmaps"):
            seen.append(obj.name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        cluster.create(configmap("a"))
        await trio.testing.wait_all_tasks_blocked()
        assert len(cluster.faults.active_watches()) == 1
        nursery.cancel_scope.cancel()
    await trio.testing.wait_all_tasks_blocked()
    assert seen == ["a"]
    assert cluster.faults.active_watches() == []


async def test_watch_bad_selector_or_kind_raises_before_any_request(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.requests.clear()
    with pytest.raises(SelectorError):
        await anext(kr8s_trio.watch("cm", label_selector="tier in (a"))
    with pytest.raises(SelectorError):
        await anext(kr8s_trio.watch("cm", field_selector={"metadata.name": {"x": 1}}))
    assert len(cluster.requests) == 0
    with pytest.raises(KeyError):
        await anext(kr8s_trio.watch("flibbertigibbets"))
    assert not cluster.requests.filter(verb="watch")


# -- create ---------------------------------------------------------------------------------------


async def test_create_many_returns_them_in_order(cluster: FakeCluster, default_client: Api) -> None:
    objects = [ConfigMap(configmap(f"cm-{i}")) for i in range(6)]
    objects.append(Pod(pod("p")))
    created = await kr8s_trio.create(objects)
    assert created == objects
    assert [o.name for o in created] == [*(f"cm-{i}" for i in range(6)), "p"]
    assert all(o.metadata.uid and o.metadata.resourceVersion for o in created)
    assert {o["metadata"]["name"] for o in cluster.list("configmaps")} >= {
        f"cm-{i}" for i in range(6)
    }
    assert cluster.get("pods", "p")["metadata"]["uid"] == created[-1].metadata.uid


async def test_create_binds_objects_to_the_given_client(
    cluster: FakeCluster, default_client: Api
) -> None:
    other = await kr8s_trio.api(namespace="kube-system")
    obj = ConfigMap({"metadata": {"name": "x"}})
    await kr8s_trio.create([obj], api=other)
    assert obj.api is other
    stored = cluster.get("configmaps", "x", namespace="kube-system")
    assert stored["metadata"]["uid"] == obj.metadata.uid
    assert obj.namespace == "kube-system"


async def test_create_one_conflict_raises_that_error(
    cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("taken"))
    objects = [ConfigMap(configmap(n)) for n in ("new-1", "taken", "new-2")]
    with pytest.raises(AlreadyExistsError) as caught:
        await kr8s_trio.create(objects)
    assert type(caught.value) is AlreadyExistsError  # not an ExceptionGroup of one
    assert "taken" in str(caught.value)


async def test_create_is_concurrent(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, default_client: Api
) -> None:
    cluster.faults.delay_headers(2.0, count=5, verb="create")
    t0 = trio.current_time()
    created = await kr8s_trio.create([ConfigMap(configmap(f"cm-{i}")) for i in range(5)])
    assert trio.current_time() - t0 == pytest.approx(2.0, abs=0.5)  # not 5 x 2 s
    assert [o.name for o in created] == [f"cm-{i}" for i in range(5)]


# -- apply ----------------------------------------------------------------------------------------


async def test_apply_creates_then_updates(cluster: FakeCluster, default_client: Api) -> None:
    applied = await kr8s_trio.apply([ConfigMap(configmap("a")), ConfigMap(configmap("b"))])
    assert [o.name for o in applied] == ["a", "b"]
    assert all(o.metadata.uid for o in applied)
    uid = applied[0].metadata.uid
    assert cluster.get("configmaps", "a")["data"] == {"k": "a"}
    again = ConfigMap(configmap("a"))
    again.raw["data"] = {"k": "updated", "extra": "1"}
    (result,) = await kr8s_trio.apply([again])
    assert result.metadata.uid == uid  # the same object, updated
    assert cluster.get("configmaps", "a")["data"] == {"k": "updated", "extra": "1"}
    managers = {m["manager"] for m in cluster.get("configmaps", "a")["metadata"]["managedFields"]}
    assert managers == {"kr8s_trio"}
    patches = cluster.requests.filter(method="PATCH", resource="configmaps")
    assert len(patches) == 3
    assert all(r.content_type.startswith("application/apply-patch") for r in patches)
    assert all(r.query["fieldManager"] == ["kr8s_trio"] for r in patches)


async def test_apply_field_manager_conflict_and_force(
    cluster: FakeCluster, default_client: Api
) -> None:
    await kr8s_trio.apply([ConfigMap(configmap("a"))], field_manager="team-a")
    mine = ConfigMap(configmap("a"))
    mine.raw["data"] = {"k": "team-b's"}
    with pytest.raises(ConflictError):
        await kr8s_trio.apply([mine], field_manager="team-b")
    assert cluster.get("configmaps", "a")["data"] == {"k": "a"}
    await kr8s_trio.apply([mine], field_manager="team-b", force=True)
    assert cluster.get("configmaps", "a")["data"] == {"k": "team-b's"}
    (request,) = [
        r for r in cluster.requests.filter(method="PATCH") if r.query.get("force") == ["true"]
    ]
    assert request.query["fieldManager"] == ["team-b"]


async def test_get_as_table_with_names_only_those_rows(
    cluster: FakeCluster, default_client: Api
) -> None:
    for name in ("a", "b", "c"):
        cluster.create(configmap(name))
    tables = [t async for t in kr8s_trio.get("cm", "c", "a", "missing", as_object=Table)]
    assert [row["cells"][0] for t in tables for row in t.rows] == ["c", "a"]


async def test_apply_is_concurrent_and_ordered(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, default_client: Api
) -> None:
    cluster.create(configmap("cm-2"))
    cluster.faults.delay_headers(2.0, count=4, method="PATCH")
    t0 = trio.current_time()
    applied = await kr8s_trio.apply([ConfigMap(configmap(f"cm-{i}")) for i in range(4)])
    assert trio.current_time() - t0 == pytest.approx(2.0, abs=0.5)
    assert [o.name for o in applied] == [f"cm-{i}" for i in range(4)]
    assert all(o.metadata.uid for o in applied)


async def test_watch_custom_resource_resolved_from_discovery(
    cluster: FakeCluster, default_client: Api
) -> None:
    kind, plural, group = install_crd(cluster, scope="Cluster")
    cluster.create(custom(kind, group, "one", namespace=None))
    async with aclosing(kr8s_trio.watch(f"{plural}.{group}", namespace="ignored")) as events:
        event, obj = await anext(events)
        assert (event, type(obj).kind, obj.name, obj.namespace) == ("ADDED", kind, "one", None)
        cluster.create(custom(kind, group, "two", namespace=None))
        event, obj = await anext(events)
        assert (event, obj.name) == ("ADDED", "two")
    assert all(r.namespace is None for r in cluster.requests.filter(resource=plural))


async def test_api_methods_are_the_verbs_through_that_client(cluster: FakeCluster) -> None:
    """kr8s's ``Api.get`` / ``Api.watch`` / ``Api.create``: the verbs bound to one client
    (here one whose default namespace is not the registry's)."""
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    async with Api(
        kubeconfig=str(cluster.kubeconfig_path), namespace="team", bypass_factory=True
    ) as api:
        created = await api.create([ConfigMap({"metadata": {"name": "a"}, "data": {}})])
        assert created[0].namespace == "team"
        assert created[0].api is api
        assert [cm.name async for cm in api.get("cm")] == ["a"]
        applied = await api.apply([ConfigMap({"metadata": {"name": "b"}, "data": {"k": "v"}})])
        assert applied[0].raw["metadata"]["managedFields"][0]["manager"] == "kr8s_trio"
        seen = set()
        watch = api.watch("configmaps")
        async for event, obj in watch:
            assert event == "ADDED"
            seen.add(obj.name)
            if len(seen) == 2:
                break
        await watch.aclose()  # type: ignore[attr-defined]
        assert seen == {"a", "b"}
