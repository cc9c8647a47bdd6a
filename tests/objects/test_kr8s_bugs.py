"""One regression test per kr8s bug or gap (inventory §5, "Exceed") in the scope of the object
layer: objects, the top-level verbs, watch, get and the factories.

Each test is named after the kr8s behaviour it rules out; its docstring cites the line of
/work/shared/reference/kr8s-inventory.md (and the kr8s issue, when there is one) that describes
it. Exec, port-forward, logs, auth and the sync facade are tested elsewhere.

The fake runs over TLS on loopback; timing tests use the autojump MockClock (no real sleeps).
"""

from __future__ import annotations

import itertools
import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from crds import crd

import kr8s_trio
from kr8s_trio import Api, APIError, ConflictError, NotFoundError
from kr8s_trio.objects import (
    ConfigMap,
    Deployment,
    Pod,
    Table,
    new_class,
    object_from_spec,
    objects_from_files,
)
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


def pod(name: str, **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "nginx"}]},
    }


def deployment(name: str, selector: JSON | None = None, replicas: int = 1) -> JSON:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": selector or {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx"}]},
            },
        },
    }


def install_crd(
    cluster: FakeCluster,
    *,
    kind: str | None = None,
    plural: str | None = None,
    scope: str = "Namespaced",
) -> tuple[str, str, str]:
    """A CRD in a group of its own (the class registry is process-wide, so each test gets kinds
    no class knows yet); returns (kind, plural, group)."""
    n = next(_unique)
    group = f"bugs{n}.example.com"
    kind = kind or f"Gizmo{n}"
    plural = plural or f"gizmos{n}"
    cluster.create(crd(group, plural, kind, scope))
    return kind, plural, group


def rv_of(obj: JSON) -> str:
    rv: str = obj["metadata"]["resourceVersion"]
    return rv


def watches(cluster: FakeCluster, resource: str = "configmaps") -> list[Any]:
    return cluster.requests.filter(verb="watch", resource=resource)


def lists(cluster: FakeCluster, resource: str = "configmaps") -> list[Any]:
    return cluster.requests.filter(verb="list", resource=resource)


def discovery_requests(cluster: FakeCluster) -> list[Any]:
    return [r for r in cluster.requests if r.path.rstrip("/") in ("/api", "/apis")]


# -- watch (§2d) --------------------------------------------------------------------------------


async def test_kr8s_watch_ends_at_stream_end(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "When the stream ends without a 410, the generator returns. There is no automatic
    reconnection after the API server's watch timeout ... or a network drop." We resume from the
    last resourceVersion, with neither duplicates nor losses."""
    since = rv_of(cluster.create(configmap("before")))
    cluster.faults.drop_watch(after_events=1, mode="eof", count=2, verb="watch")
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        got = []
        for name in ("a", "b", "c"):
            cluster.create(configmap(name))
            event, obj = await anext(events)
            got.append((event, obj.name))
    assert got == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
    requests = watches(cluster)
    assert len(requests) == 3
    # each resumed from the last event seen, not from the start
    assert requests[0].query["resourceVersion"] == [since]
    assert len({r.query["resourceVersion"][0] for r in requests}) == 3
    assert not lists(cluster)


async def test_kr8s_watch_reset_connection_ends_watch(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: no reconnection "after ... a network drop"; a reset connection resumes too."""
    since = rv_of(cluster.create(configmap("before")))
    cluster.faults.drop_watch(after_events=1, mode="reset", verb="watch")
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        cluster.create(configmap("a"))
        cluster.create(configmap("b"))
        got = [(t, o.name) for t, o in [await anext(events), await anext(events)]]
    assert got == [("ADDED", "a"), ("ADDED", "b")]
    assert len(watches(cluster)) == 2


async def test_kr8s_watch_410_tight_loop(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "On a 410 it restarts with the same stale `since`, which immediately gets 410 again.
    This is a tight infinite loop with no backoff and no re-list [about 370 requests per
    second]" (issue #476 / PR #478). We relist once, after a backoff, and carry on watching."""
    stale = rv_of(cluster.create(configmap("a")))
    cluster.create(configmap("b"))
    cluster.compact()  # `stale` is now too old: the server answers 410 Gone
    t0 = trio.current_time()
    async with aclosing(kr8s_trio.watch("configmaps", since=stale)) as events:
        first = sorted([(t, o.name) for t, o in [await anext(events), await anext(events)]])
        assert first == [("ADDED", "a"), ("ADDED", "b")]
        waited = trio.current_time() - t0
        assert 0.1 < waited < 5  # a backoff before the relist, not a spin and not a hang
        await trio.sleep(60)  # a minute of trio time: nothing is retried meanwhile
        cluster.create(configmap("c"))
        event, obj = await anext(events)
        assert (event, obj.name) == ("ADDED", "c")
    # the stale watch gets a 410 (as kube-apiserver sends it: an ERROR event in a 200 stream)
    assert len(watches(cluster)) == 2
    assert len(lists(cluster)) == 1
    assert watches(cluster)[1].query["resourceVersion"] != [stale]


async def test_kr8s_watch_error_event_yielded_as_object(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "ERROR events with other codes are yielded as objects", and before PR #478 a 410
    ERROR event came out as an object too (issue #476). We never yield ERROR: a 410 event
    relists; the changes made meanwhile come as ordinary events."""
    since = rv_of(cluster.create(configmap("before")))
    cluster.create(configmap("a"))
    got: list[tuple[str, str, str]] = []
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        event, obj = await anext(events)  # from the open watch
        got.append((event, obj.kind, obj.name))
        cluster.faults.watch_gone(verb="watch")  # the resumed watch is answered 410 too
        cluster.patch("configmaps", "a", {"data": {"k": "x"}})
        assert cluster.faults.expire_active_watches(verb="watch") == 1
        with trio.fail_after(600):
            event, obj = await anext(events)
        got.append((event, obj.kind, obj.name))
    assert got == [("ADDED", "ConfigMap", "a"), ("MODIFIED", "ConfigMap", "a")]
    assert all(t != "ERROR" for t, _, _ in got)


async def test_kr8s_watch_other_error_yielded_as_object(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "`ERROR` events with other codes are yielded as objects" (a Status wrapped as a
    ConfigMap). Ours never yields a Status: a 5xx ERROR event is retried after the backoff (the
    next event is a real object), a 4xx one raises the typed APIError."""
    since = rv_of(cluster.create(configmap("before")))
    cluster.create(configmap("a"))
    status: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "internal error",
        "reason": "InternalError",
        "code": 500,
    }
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        assert (await anext(events))[0] == "ADDED"
        (stream,) = cluster.faults.active_watches(verb="watch")
        stream.push_error(status)
        await trio.testing.wait_all_tasks_blocked()
        cluster.create(configmap("b"))
        event, obj = await anext(events)
        assert (event, obj.kind, obj.name) == ("ADDED", "ConfigMap", "b")
        (stream,) = cluster.faults.active_watches(verb="watch")
        stream.push_error({**status, "code": 400, "reason": "BadRequest", "message": "no"})
        with pytest.raises(APIError) as caught, trio.fail_after(600):
            await anext(events)
    assert caught.value.status["code"] == 400


async def test_kr8s_watch_no_bookmarks(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "There is no ... allowWatchBookmarks/BOOKMARK handling". We ask for bookmarks, do
    not yield them, and resume from a bookmark's resourceVersion after a drop."""
    since = rv_of(cluster.create(configmap("before")))
    got: list[tuple[str, str]] = []

    async def consume() -> None:
        async for event, obj in kr8s_trio.watch("configmaps", since=since):
            got.append((event, obj.name))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        cluster.create(configmap("a"))
        # other kinds move the revision on; only a bookmark tells the configmap watcher
        secret = cluster.create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}}
        )
        await trio.sleep(61)  # the fake sends a bookmark every 60 s
        assert cluster.faults.drop_active_watches(verb="watch") == 1
        await trio.sleep(1)
        cluster.create(configmap("b"))
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert got == [("ADDED", "a"), ("ADDED", "b")]  # no BOOKMARK events
    first, resumed = watches(cluster)
    assert first.query["allowWatchBookmarks"] == ["true"]
    assert resumed.query["resourceVersion"] == [rv_of(secret)]


async def test_kr8s_watch_no_timeout_seconds(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§2d: "There is no `timeoutSeconds` ... Read timeouts are disabled" (PR #172). We send
    timeoutSeconds and abandon a silent (dead) stream after it, resuming where it stopped."""
    since = rv_of(cluster.create(configmap("before")))
    cluster.faults.stall_watch(verb="watch")
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        cluster.create(configmap("a"))
        t0 = trio.current_time()
        with trio.fail_after(3600):
            event, obj = await anext(events)
        assert (event, obj.name) == ("ADDED", "a")
        assert trio.current_time() - t0 <= 600 + 30 + 1
    first, resumed = watches(cluster)
    assert 300 <= int(first.query["timeoutSeconds"][0]) < 600
    assert resumed.query["resourceVersion"] == [since]


async def test_kr8s_watch_since_none_synthetic_added(cluster: FakeCluster, api: Api) -> None:
    """§2d: "no initial list plus resourceVersion (with `since=None` the server sends
    synthetic ADDED events)". We list (paginated) and watch from the list's resourceVersion."""
    cluster.create(configmap("a"))
    last = cluster.create(configmap("b"))
    async with aclosing(kr8s_trio.watch("configmaps")) as events:
        initial = sorted(o.name for _, o in [await anext(events), await anext(events)])
        assert initial == ["a", "b"]
        cluster.create(configmap("c"))
        assert (await anext(events))[1].name == "c"
    (listed,) = lists(cluster)
    assert listed.query["limit"]
    (watched,) = watches(cluster)
    assert int(watched.query["resourceVersion"][0]) >= int(rv_of(last))


async def test_kr8s_watch_backoff_absent(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§5: "Watch: ... backoff" (kr8s has no retry or backoff, §2c/§2d). Failed attempts are
    retried after a growing delay, not in a loop and not given up on."""
    since = rv_of(cluster.create(configmap("before")))
    # more failures than the transport retries (5 attempts a request): the watch backs off
    cluster.faults.fail_next(503, count=15, verb="watch")
    t0 = trio.current_time()
    async with aclosing(kr8s_trio.watch("configmaps", since=since)) as events:
        cluster.create(configmap("a"))
        assert (await anext(events))[1].name == "a"
    elapsed = trio.current_time() - t0
    statuses = [r.status for r in watches(cluster)]
    assert statuses == [503] * 15 + [200]  # retried until it worked, never given up
    assert elapsed > 0.8 + 1.6  # at least two watch backoffs between the transport's rounds
    assert elapsed < 120


# -- wait (§1.5) --------------------------------------------------------------------------------


def _set_ready(cluster: FakeCluster, name: str, ready: str = "True") -> None:
    cluster.patch(
        "pods",
        name,
        {"status": {"conditions": [{"type": "Ready", "status": ready}]}},
        subresource="status",
    )


async def test_kr8s_wait_returns_silently_on_stream_end(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.5: wait "inherits the watch bugs: ... a server close ends the watch so `wait`
    returns silently without the condition". Ours keeps waiting across dropped streams and
    returns only once the condition holds."""
    cluster.create(pod("p"))
    obj = await Pod.get("p")
    done = trio.Event()

    async def waiter() -> None:
        await obj.wait("condition=Ready", timeout=3600)
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        for _ in range(3):
            await trio.testing.wait_all_tasks_blocked()
            assert cluster.faults.drop_active_watches(verb="watch") == 1
            await trio.sleep(10)
            assert not done.is_set()
        _set_ready(cluster, "p")
        with trio.fail_after(60):
            await done.wait()
    assert obj.raw["status"]["conditions"][0]["status"] == "True"


async def test_kr8s_wait_410_loops(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.5: wait inherits "a 410 on an old resourceVersion loops" (issue #476). After a 410
    the wait relists and still sees the condition met."""
    cluster.create(pod("p"))
    obj = await Pod.get("p")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(obj.wait, "condition=Ready", "any", 3600)
        await trio.testing.wait_all_tasks_blocked()
        _set_ready(cluster, "p", "False")
        cluster.compact()
        cluster.faults.watch_gone(verb="watch")
        assert cluster.faults.expire_active_watches(verb="watch") == 1
        await trio.sleep(5)
        _set_ready(cluster, "p")
    assert 1 <= len(lists(cluster, "pods")) <= 3  # relisted, not looping
    assert len(watches(cluster, "pods")) < 10


async def test_kr8s_wait_jsonpath_missing_field_crashes(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.5: jsonpath conditions expect "exactly one match ...; zero or several raise
    ValueError (unpacking)", so waiting for a field that is not set yet crashes. We wait."""
    cluster.create(pod("p"))
    obj = await Pod.get("p")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(obj.wait, "jsonpath='{.status.phase}'=Running", "any", 3600)
        await trio.testing.wait_all_tasks_blocked()
        cluster.patch("pods", "p", {"status": {"phase": "Running"}}, subresource="status")
    assert obj.raw["status"]["phase"] == "Running"


# -- scale (§1.4) --------------------------------------------------------------------------------


async def test_kr8s_scale_waits_forever(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.4 `scale`: "polls refresh every 0.1 s with no timeout until `replicas` matches".
    With no controller to converge (an API-only cluster), ours raises TimeoutError after the
    timeout (60 s by default), and watches instead of polling."""
    cluster.create(deployment("web"))
    deploy = await Deployment.get("web")
    t0 = trio.current_time()
    with pytest.raises(TimeoutError):
        await deploy.scale(3, timeout=5)
    assert trio.current_time() - t0 == pytest.approx(5)
    assert cluster.get("deployments", "web")["spec"]["replicas"] == 3
    t0 = trio.current_time()
    with pytest.raises(TimeoutError):
        await deploy.scale(4)
    assert trio.current_time() - t0 == pytest.approx(60)
    gets = cluster.requests.filter(verb="get", resource="deployments")
    assert len(gets) < 10  # no 0.1 s polling (that would be hundreds)


# -- get (§1.3 "get semantics") -----------------------------------------------------------------


async def test_kr8s_get_names_sequential(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.3 get semantics: "With names, one request per name, sent sequentially." Ours are
    concurrent: with every answer held 1 s, five names take about 1 s, not 5."""
    names = [f"cm-{i}" for i in range(5)]
    for name in names:
        cluster.create(configmap(name))
    cluster.faults.delay_headers(1.0, count=len(names), verb="list", resource="configmaps")
    t0 = trio.current_time()
    got = [obj.name async for obj in kr8s_trio.get("cm", *reversed(names))]
    elapsed = trio.current_time() - t0
    assert got == list(reversed(names))
    assert elapsed == pytest.approx(1.0, abs=0.2)
    assert len(lists(cluster)) == len(names)


async def test_kr8s_get_names_field_selector_trailing_comma(cluster: FakeCluster, api: Api) -> None:
    """§1.3 get semantics: each named request uses "fieldSelector=metadata.name=<n>,<extra>
    (a trailing comma when there is no extra selector [verified])". Ours is well formed."""
    cluster.create(configmap("a"))
    assert [o.name async for o in kr8s_trio.get("cm", "a")] == ["a"]
    assert [
        o.name async for o in kr8s_trio.get("cm", "a", field_selector="metadata.namespace=default")
    ] == ["a"]
    selectors = [r.field_selector for r in lists(cluster)]
    assert selectors == ["metadata.name=a", "metadata.name=a,metadata.namespace=default"]


async def test_kr8s_dict_selector_equality_only(cluster: FakeCluster, api: Api) -> None:
    """§1.3 get semantics: "Dict selectors become `k=v,...` (equality only)". Ours take lists
    (set-based `in`) and LabelSelector objects with matchExpressions."""
    for name, tier in (("a", "a"), ("b", "b"), ("c", "c")):
        cluster.create(configmap(name, tier=tier))
    got = [o.name async for o in kr8s_trio.get("cm", label_selector={"tier": ["a", "c"]})]
    assert sorted(got) == ["a", "c"]
    selector = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}
    got = [o.name async for o in kr8s_trio.get("cm", label_selector=selector)]
    assert sorted(got) == ["b", "c"]
    assert [r.label_selector for r in lists(cluster)] == ["tier in (a,c)", "tier notin (a)"]


async def test_kr8s_as_object_core_v1_crash(cluster: FakeCluster, api: Api) -> None:
    """§1.3 get semantics: `as_object=Table` "only works for group/version classes: core `v1`
    classes crash with `ValueError` unpack [verified]". Ours works for pods."""
    cluster.create(pod("p"))
    (table,) = [t async for t in kr8s_trio.get("pods", as_object=Table)]
    assert isinstance(table, Table)
    assert [row["cells"][0] for row in table.rows] == ["p"]
    (request,) = lists(cluster, "pods")
    assert request.accept.startswith("application/json;as=Table;v=v1;g=meta.k8s.io")


async def test_kr8s_as_object_no_pagination(cluster: FakeCluster, api: Api) -> None:
    """§1.3 get semantics: `as_object` is sent "with no pagination and yields a single
    object". Ours pages (one Table per page) like a list."""
    for i in range(5):
        cluster.create(configmap(f"cm-{i}"))
    tables = [t async for t in kr8s_trio.get("cm", as_object=Table, limit=2)]
    assert [len(t.rows) for t in tables] == [2, 2, 1]
    assert all(r.query["limit"] == ["2"] for r in lists(cluster))


async def test_kr8s_get_default_timeout_polls(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.4 `get`: "Polls until `timeout` (backoff 0.1 s → 1 s) when nothing is found" with a
    default timeout of 2 s. Ours answers NotFoundError at once (one request) unless asked to
    wait."""
    t0 = trio.current_time()
    with pytest.raises(NotFoundError):
        await Pod.get("missing")
    assert trio.current_time() == t0
    assert len(cluster.requests.filter(resource="pods")) == 1
    # asked to wait: it finds an object created meanwhile
    async with trio.open_nursery() as nursery:

        async def create_later() -> None:
            await trio.sleep(1.5)
            cluster.create(pod("late"))

        nursery.start_soon(create_later)
        found = await Pod.get("late", timeout=10)
    assert found.name == "late"
    assert trio.current_time() - t0 < 3


async def test_kr8s_lookup_kind_rediscovers_every_miss(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    """§1.3 `lookup_kind`: "On a miss it retries uncached discovery, without refreshing the
    cache ... [verified: every failed lookup repeats full discovery]" (issues #253/#256). Ours
    fetches discovery once for repeated misses within the refresh interval, and a kind installed
    later is found after it."""
    cluster.requests.clear()
    for _ in range(5):
        with pytest.raises(KeyError):
            [o async for o in kr8s_trio.get("doohickeys")]
    first = len(discovery_requests(cluster))
    assert 1 <= first <= 2  # one fetch (/api and /apis), not one per miss
    _, plural, _ = install_crd(cluster, kind="Doohickey", plural="doohickeys")
    with pytest.raises(KeyError):  # within the interval: the negative cache answers
        [o async for o in kr8s_trio.get(plural)]
    assert len(discovery_requests(cluster)) == first
    await trio.sleep(api.discovery.refresh_interval + 1)
    assert [o async for o in kr8s_trio.get(plural)] == []  # found after one refresh
    assert len(discovery_requests(cluster)) == 2 * first


async def test_kr8s_api_resources_cache_shared_across_clients(
    cluster: FakeCluster, api: Api
) -> None:
    """§1.3 `api_resources`: "The cache is shared across instances, so two clients thrash it."
    Each of our clients has its own discovery cache: two clusters with different CRDs each
    resolve their own kind."""
    from kr8s_trio.testing import open_fake_cluster

    kind, plural, _ = install_crd(cluster)
    async with open_fake_cluster(kubelet=False, controllers=False) as other_cluster:
        other_kind, other_plural, _ = install_crd(other_cluster)
        async with Api(kubeconfig=str(other_cluster.kubeconfig_path), bypass_factory=True) as other:
            # (before any class exists for either kind: classes are process-wide)
            with pytest.raises(KeyError):
                [o async for o in kr8s_trio.get(other_plural, api=api)]
            with pytest.raises(KeyError):
                [o async for o in kr8s_trio.get(plural, api=other)]
            assert [o async for o in kr8s_trio.get(plural, api=api)] == []
            assert [o async for o in kr8s_trio.get(other_plural, api=other)] == []
            assert api.discovery is not other.discovery
    assert kind != other_kind


# -- objects (§1.4, §1.7) -------------------------------------------------------------------------


async def test_kr8s_objects_unhashable(cluster: FakeCluster, api: Api) -> None:
    """§1.4: "Defines `__eq__` without `__hash__`, so objects are unhashable. [verified]" Ours
    hash by identity (kind, group, namespace, name), consistently with equality."""
    cluster.create(configmap("a"))
    cluster.create(configmap("b"))
    listed = [o async for o in kr8s_trio.get("cm")]
    again = [o async for o in kr8s_trio.get("cm")]
    assert {hash(o) for o in listed} == {hash(o) for o in again}
    assert set(listed) == set(again)
    assert len(set(listed + again)) == 2
    by_obj = {o: o.name for o in listed}
    assert by_obj[ConfigMap("a", namespace="default")] == "a"
    assert ConfigMap("a", namespace="other") not in by_obj


async def test_kr8s_raw_template_keeps_status(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `raw_template`: "The docstring says status is also removed, but it is not.
    [verified]" Ours leaves out status and the server-set metadata, so re-creating a fetched
    object works."""
    cluster.create(pod("p"))
    cluster.patch("pods", "p", {"status": {"phase": "Running"}}, subresource="status")
    obj = await Pod.get("p")
    template = obj.raw_template
    assert "status" not in template
    assert not {"resourceVersion", "uid", "creationTimestamp", "managedFields"} & set(
        template["metadata"]
    )
    assert obj.raw["status"]["phase"] == "Running"  # raw itself is untouched
    copy = Pod(json.loads(json.dumps(template)))
    copy.raw["metadata"]["name"] = "p2"
    await copy.create()
    assert cluster.get("pods", "p2")["metadata"]["uid"] != obj.metadata.uid


async def test_kr8s_set_owner_replaces_owner_references(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `set_owner`: "Merge-patches `metadata.ownerReferences` to a single reference ...
    This replaces any existing list." Ours adds to the list (and refuses a second controller)."""
    first = ConfigMap(configmap("owner-1"))
    second = ConfigMap(configmap("owner-2"))
    child = ConfigMap(configmap("child"))
    await kr8s_trio.create([first, second, child])
    await child.set_owner(first)
    await child.set_owner(second, controller=False)
    refs = cluster.get("configmaps", "child")["metadata"]["ownerReferences"]
    assert [(r["name"], r["uid"], r["controller"]) for r in refs] == [
        ("owner-1", first.metadata.uid, True),
        ("owner-2", second.metadata.uid, False),
    ]
    third = ConfigMap(configmap("owner-3"))
    await third.create()
    with pytest.raises(ValueError, match="controller"):
        await child.set_owner(third)
    with pytest.raises(ValueError, match="controller"):
        await third.adopt(child)  # adopt is set_owner with controller=True
    assert len(cluster.get("configmaps", "child")["metadata"]["ownerReferences"]) == 2


async def test_kr8s_set_owner_lost_update(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `set_owner` replaces the whole list with a merge patch: a reference added by
    someone else meanwhile is lost. Ours sends the resourceVersion and retries on a conflict."""
    owner_a = ConfigMap(configmap("owner-a"))
    owner_b = ConfigMap(configmap("owner-b"))
    child = ConfigMap(configmap("child"))
    await kr8s_trio.create([owner_a, owner_b, child])
    stale = await ConfigMap.get("child")
    await child.set_owner(owner_a, controller=False)  # `stale` has not seen this
    await stale.set_owner(owner_b, controller=False)
    refs = cluster.get("configmaps", "child")["metadata"]["ownerReferences"]
    assert sorted(r["name"] for r in refs) == ["owner-a", "owner-b"]


async def test_kr8s_label_no_removal_for_annotations(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `annotate`: "There is no removal syntax." Ours takes kubectl's ``key-``."""
    created = cluster.create(
        {**configmap("a"), "metadata": {**configmap("a")["metadata"], "annotations": {"x": "1"}}}
    )
    obj = ConfigMap(created)
    await obj.annotate(["x-", "y=2"])
    assert cluster.get("configmaps", "a")["metadata"]["annotations"] == {"y": "2"}
    await obj.annotate({"y": None})
    assert not cluster.get("configmaps", "a")["metadata"].get("annotations")


async def test_kr8s_remove_label_missing_key_fails(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `remove_label`: a JSON-patch ``remove`` of ``/metadata/labels/<key>``, which the
    server refuses when the key is absent. Ours ignores missing keys and removes the rest."""
    obj = ConfigMap(cluster.create(configmap("a", app="web", tier="t")))
    await obj.remove_label("absent", "app")
    assert cluster.get("configmaps", "a")["metadata"]["labels"] == {"tier": "t"}
    await obj.label("tier-", "new=1")
    assert cluster.get("configmaps", "a")["metadata"]["labels"] == {"new": "1"}


async def test_kr8s_label_mixed_positional_arguments(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `label`: with a ``key-`` string "all positional arguments must then be strings".
    Ours takes dicts and strings together."""
    obj = ConfigMap(cluster.create(configmap("a", old="x")))
    await obj.label({"app": "web"}, "old-", tier="t")
    assert cluster.get("configmaps", "a")["metadata"]["labels"] == {"app": "web", "tier": "t"}


async def test_kr8s_strategic_merge_missing(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `patch`: "No strategic-merge or apply-patch (SSA)." A strategic merge patch adds a
    container (merged by name) instead of replacing the list."""
    cluster.create(deployment("web"))
    deploy = await Deployment.get("web")
    sidecar = {"name": "sidecar", "image": "busybox"}
    patch = {"spec": {"template": {"spec": {"containers": [sidecar]}}}}
    await deploy.patch(patch, type="strategic")
    containers = cluster.get("deployments", "web")["spec"]["template"]["spec"]["containers"]
    assert sorted(c["name"] for c in containers) == ["main", "sidecar"]  # merged by name
    assert len(deploy.raw["spec"]["template"]["spec"]["containers"]) == 2
    (request,) = cluster.requests.filter(method="PATCH", resource="deployments")
    assert request.content_type.startswith("application/strategic-merge-patch+json")


async def test_kr8s_apply_missing(cluster: FakeCluster, api: Api) -> None:
    """§1.3 "Missing: ... No `apply`"; issues #443, #701, PR #721 (kr8s issue table rows 11-13).
    Ours: server-side apply that creates when missing, then updates, with a field manager."""
    obj = ConfigMap(configmap("a"))
    await obj.apply()
    assert obj.metadata.uid == cluster.get("configmaps", "a")["metadata"]["uid"]
    obj.raw["data"] = {"k": "v2"}
    await obj.apply(field_manager="me", force=True)
    assert cluster.get("configmaps", "a")["data"] == {"k": "v2"}
    await obj.patch({**configmap("a"), "data": {"k": "v3"}}, type="apply", field_manager="me")
    assert cluster.get("configmaps", "a")["data"] == {"k": "v3"}
    patches = cluster.requests.filter(method="PATCH", resource="configmaps")
    assert [r.query["fieldManager"] for r in patches] == [["kr8s_trio"], ["me"], ["me"]]
    assert all(r.content_type.startswith("application/apply-patch+yaml") for r in patches)


async def test_kr8s_apply_unknown_cluster_scoped_cr(cluster: FakeCluster, api: Api) -> None:
    """Issue #701 (kr8s issue table row 13): apply-style upsert with "proper unknown-resource
    support (auto-detect namespaced, bad pluralisation such as `helmrepositorys`)"."""
    kind, plural, group = install_crd(
        cluster, kind="HelmRepository", plural="helmrepositories", scope="Cluster"
    )
    spec = {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": "charts"}}
    obj = object_from_spec(spec, allow_unknown_type=True)
    await kr8s_trio.apply([obj])
    assert cluster.get(f"{plural}.{group}", "charts", namespace=None)["metadata"]["uid"]
    (request,) = cluster.requests.filter(method="PATCH", resource=plural)
    assert request.namespace is None


async def test_kr8s_deployment_pods_ignores_match_expressions(
    cluster: FakeCluster, api: Api
) -> None:
    """§1.7 `Deployment.pods()`: "Pods matching `spec.selector.matchLabels` (matchExpressions
    are ignored)", so pods the Deployment does not select come back too."""
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "track", "operator": "In", "values": ["stable"]}],
    }
    web = deployment("web", selector=selector)
    web["spec"]["template"]["metadata"]["labels"]["track"] = "stable"
    cluster.create(web)
    cluster.create(pod("stable-0", app="web", track="stable"))
    cluster.create(pod("canary-0", app="web", track="canary"))
    cluster.create(pod("other-0", app="other", track="stable"))
    deploy = await Deployment.get("web")
    assert [p.name for p in await deploy.pods()] == ["stable-0"]
    (request,) = lists(cluster, "pods")
    assert request.label_selector == "app=web,track in (stable)"


# -- factories (§1.8) -----------------------------------------------------------------------------


async def test_kr8s_object_from_spec_cluster_scoped_cr(cluster: FakeCluster, api: Api) -> None:
    """§1.8 `object_from_spec`: falls back to `new_class` "(always `namespaced=True`, which
    breaks cluster-scoped CRs)". Ours takes the scope from discovery on first use."""
    kind, plural, group = install_crd(cluster, scope="Cluster")
    spec = {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": "g"}, "spec": {}}
    obj = object_from_spec(spec, allow_unknown_type=True)
    await obj.create()
    assert type(obj).namespaced is False
    assert obj.namespace is None
    stored = cluster.get(f"{plural}.{group}", "g", namespace=None)
    assert stored["metadata"]["uid"] == obj.metadata.uid
    assert "namespace" not in stored["metadata"]
    (request,) = cluster.requests.filter(method="POST", resource=plural)
    assert request.namespace is None


async def test_kr8s_objects_from_files_ignores_yml_json(
    cluster: FakeCluster, api: Api, tmp_path: Path
) -> None:
    """§1.8 `objects_from_files`: "a directory glob of `*.yaml` ... `.yml` and `.json` are
    ignored." Ours reads all three."""
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\n"
    )
    (tmp_path / "b.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yml}\n")
    (tmp_path / "c.json").write_text(json.dumps(configmap("from-json")))
    (tmp_path / "notes.txt").write_text("not a manifest")
    objects = await objects_from_files(tmp_path)
    assert sorted(o.name for o in objects) == ["from-json", "from-yaml", "from-yml"]
    assert all(type(o) is ConfigMap for o in objects)
    await kr8s_trio.create(objects)
    names = {o["metadata"]["name"] for o in cluster.list("configmaps", namespace="default")}
    assert {"from-json", "from-yaml", "from-yml"} <= names


async def test_kr8s_new_class_naive_plural(cluster: FakeCluster, api: Api) -> None:
    """§1.8 `new_class`: "Plural defaults to `kind.lower()+"s"` (naive, e.g. "policys"; see issue
    #701)". Ours pluralises as Kubernetes does, and discovery wins when it knows better."""
    _, _, group = install_crd(cluster, kind="Policy", plural="policies")
    _, _, group2 = install_crd(cluster, kind="Octopus", plural="octopodes")
    Policy = new_class(f"Policy.{group}/v1")
    assert Policy.plural == "policies"
    await Policy({"metadata": {"name": "p"}, "spec": {}}).create()
    assert [o.name async for o in Policy.list()] == ["p"]
    # an irregular plural only discovery knows
    Octopus = new_class(f"Octopus.{group2}/v1")
    assert Octopus.plural == "octopuses"  # the guess...
    await Octopus({"metadata": {"name": "o"}}).create()
    assert Octopus.plural == Octopus.endpoint == "octopodes"  # ...corrected by discovery
    assert cluster.get(f"octopodes.{group2}", "o")["metadata"]["name"] == "o"


async def test_kr8s_unawaited_object_raises(cluster: FakeCluster, api: Api) -> None:
    """§1.4 `__await__`: "Using an un-awaited object raises `RuntimeError("... forget to await
    it?")`". Ours binds the default client on first use; ``await Pod(...)`` still works."""
    obj = ConfigMap(configmap("a"))
    assert obj.api is None
    await obj.create()
    assert obj.api is api
    awaited = await ConfigMap(configmap("b"))
    assert awaited.api is api
    await awaited.create()
    assert cluster.get("configmaps", "b")["metadata"]["uid"] == awaited.metadata.uid


async def test_kr8s_replace_missing(cluster: FakeCluster, api: Api) -> None:
    """§1.3 "Missing: ... no ... `replace` (PUT)". Ours PUTs ``raw``, conditional on its
    resourceVersion, so a concurrent change is a ConflictError rather than lost."""
    obj = ConfigMap(cluster.create(configmap("a")))
    stale = ConfigMap(cluster.get("configmaps", "a"))
    obj.raw["data"] = {"k": "mine"}
    await obj.replace()
    assert cluster.get("configmaps", "a")["data"] == {"k": "mine"}
    stale.raw["data"] = {"k": "theirs"}
    with pytest.raises(ConflictError):
        await stale.replace()
    assert cluster.get("configmaps", "a")["data"] == {"k": "mine"}
    (put, _) = cluster.requests.filter(method="PUT", resource="configmaps")
    assert put.status == 200
