"""`watch_events` against the fake API server over TLS, on the autojump MockClock: list then
watch, resume after dropped streams without duplicates or losses, relist and diff after 410,
bookmarks, backoff, the idle deadline, non-retryable errors and cancellation."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing
from test_api import make_api

from kr8s_trio import Api, ForbiddenError, NotFoundError, RetryPolicy
from kr8s_trio._core._backoff import Backoff
from kr8s_trio._core._watchdecode import WatchEvent
from kr8s_trio._watch import WATCH_TIMEOUT_RANGE, watch_events
from kr8s_trio.testing import FakeCluster, open_fake_cluster

NO_RETRY = RetryPolicy(max_attempts=1)


def longest(_: object = None) -> float:
    """A jitter source that always gives the longest delay of the backoff's range."""
    return 0.0


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture
async def api(cluster: FakeCluster) -> AsyncIterator[Api]:
    # no retries in the transport: the watch's own backoff is what is under test
    async with make_api(cluster, retry=NO_RETRY) as client:
        yield client


def configmap(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": name},
    }


def watch(api: Api, **kwargs: Any) -> contextlib.aclosing[Any]:
    kwargs.setdefault("version", "v1")
    kwargs.setdefault("plural", "configmaps")
    kwargs.setdefault("namespace", "default")
    kwargs.setdefault("rand", longest)
    return contextlib.aclosing(watch_events(api, **kwargs))


async def take(events: AsyncIterator[WatchEvent], n: int) -> list[WatchEvent]:
    return [await anext(events) for _ in range(n)]


def name_of(event: WatchEvent) -> str:
    obj: Any = event.object
    name: str = obj["metadata"]["name"]
    return name


def summary(events: list[WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, name_of(e)) for e in events]


def rv_of(obj: dict[str, Any]) -> str:
    rv: str = obj["metadata"]["resourceVersion"]
    return rv


def watch_requests(cluster: FakeCluster) -> list[dict[str, list[str]]]:
    return [r.query for r in cluster.requests.filter(verb="watch")]


class Writes:
    """The changes a test makes, as a watcher must see them: (type, name, resourceVersion)."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.log: list[tuple[str, str, str]] = []

    def create(self, name: str, **labels: str) -> None:
        obj = self.cluster.create(configmap(name, **labels))
        self.log.append(("ADDED", name, rv_of(obj)))

    def modify(self, name: str, value: str) -> None:
        obj = self.cluster.patch("configmaps", name, {"data": {"k": value}})
        self.log.append(("MODIFIED", name, rv_of(obj)))

    def delete(self, name: str) -> None:
        self.cluster.delete("configmaps", name)
        # the DELETED event carries the deletion's resourceVersion: the revision it made
        self.log.append(("DELETED", name, str(self.cluster.state.store.revision)))

    def script(self) -> None:
        for name in ("a", "b", "c"):
            self.create(name)
        self.modify("a", "1")
        self.delete("b")
        self.modify("c", "2")
        self.create("d")
        self.modify("a", "3")


def seen(events: list[WatchEvent]) -> list[tuple[str, str, str]]:
    return [(e.type, name_of(e), e.resource_version) for e in events]


# -- list, then watch -------------------------------------------------------------------------


async def test_watch_events_lists_then_watches_from_the_list_version(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    a = cluster.create(configmap("a"))
    b = cluster.create(configmap("b"))
    other = cluster.create(configmap("other", namespace="kube-system"))
    cluster.requests.clear()
    writes = Writes(cluster)
    async with watch(api) as events:
        initial = await take(events, 2)
        assert seen(initial) == [("ADDED", "a", rv_of(a)), ("ADDED", "b", rv_of(b))]
        assert all(e.object["kind"] == "ConfigMap" for e in initial)
        writes.create("c")
        writes.modify("a", "x")
        writes.delete("b")
        live = await take(events, 3)
    assert seen(live) == writes.log
    (listed,) = cluster.requests.filter(verb="list")
    assert listed.query["limit"] == ["500"]
    (query,) = watch_requests(cluster)
    assert query["resourceVersion"] == [rv_of(other)]  # the list's: the latest revision
    assert query["allowWatchBookmarks"] == ["true"]
    assert WATCH_TIMEOUT_RANGE[0] <= int(query["timeoutSeconds"][0]) < WATCH_TIMEOUT_RANGE[1]


async def test_watch_events_since_skips_the_list(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    writes = Writes(cluster)
    writes.script()
    async with watch(api, since=start) as events:
        got = await take(events, len(writes.log))
    assert seen(got) == writes.log
    assert not cluster.requests.filter(verb="list")
    assert watch_requests(cluster)[0]["resourceVersion"] == [start]


async def test_watch_events_timeout_seconds_is_randomised(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.drop_watch(after_events=1, count=2, verb="watch")
    writes = Writes(cluster)
    writes.script()
    draws = iter([0.0, 0.5, 0.99])
    async with watch(api, since=start, rand=lambda: next(draws)) as events:
        await take(events, 3)
    timeouts = [q["timeoutSeconds"] for q in watch_requests(cluster)]
    assert timeouts == [["300"], ["450"], ["597"]]


async def test_watch_events_label_selector_transitions(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.create(configmap("a", app="x"))
    cluster.create(configmap("b", app="y"))
    async with watch(api, label_selector="app=x") as events:
        assert summary(await take(events, 1)) == [("ADDED", "a")]
        cluster.patch("configmaps", "a", {"metadata": {"labels": {"app": "y"}}})
        cluster.patch("configmaps", "b", {"metadata": {"labels": {"app": "x"}}})
        assert summary(await take(events, 2)) == [("DELETED", "a"), ("ADDED", "b")]
    assert all(r.label_selector == "app=x" for r in cluster.requests if r.resource == "configmaps")


# -- resuming -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["eof", "reset"])
async def test_watch_events_resumes_after_drop_without_duplicates_or_losses(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api, mode: str
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.drop_watch(after_events=3, mode=mode, count=2, verb="watch")  # type: ignore[arg-type]
    writes = Writes(cluster)
    writes.script()
    async with watch(api, since=start) as events:
        got = await take(events, len(writes.log))
        writes.create("late")
        got += await take(events, 1)
    assert seen(got) == writes.log
    rvs = [int(e.resource_version) for e in got]
    assert rvs == sorted(set(rvs))
    resumed = [q["resourceVersion"][0] for q in watch_requests(cluster)]
    if mode == "eof":
        assert resumed == [start, got[2].resource_version, got[5].resource_version]
    else:
        # a TCP reset discards what was in flight: the watcher resumes from what it did get
        assert len(resumed) == 3
        assert set(resumed) <= {start} | {e.resource_version for e in got}


async def test_watch_events_resumes_after_reset_of_a_live_watch(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    writes = Writes(cluster)
    async with watch(api, since=start) as events:
        writes.create("a")
        writes.create("b")
        got = await take(events, 2)
        assert cluster.faults.drop_active_watches(mode="reset", verb="watch") == 1
        writes.modify("a", "1")
        writes.delete("b")
        got += await take(events, 2)
    assert seen(got) == writes.log
    resumed = [q["resourceVersion"] for q in watch_requests(cluster)]
    assert resumed == [[start], [got[1].resource_version]]


async def test_watch_events_resumes_when_the_server_ends_the_stream(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    writes = Writes(cluster)
    got: list[WatchEvent] = []
    async with watch(api, since=start, timeout_seconds=30) as events, trio.open_nursery() as n:

        async def consume() -> None:
            async for event in events:
                got.append(event)

        n.start_soon(consume)
        writes.create("a")
        await trio.sleep(100)  # the server ends each stream after 30 s
        writes.create("b")
        await trio.sleep(1)
        n.cancel_scope.cancel()
    assert seen(got) == writes.log
    queries = watch_requests(cluster)
    assert len(queries) == 4  # at 0, 30, 60 and 90 s: renewed at once, no backoff
    assert all(q["timeoutSeconds"] == ["30"] for q in queries)
    # each renewal resumes from the bookmark sent before the deadline, the latest revision
    assert [q["resourceVersion"] for q in queries[1:]] == [[writes.log[0][2]]] * 3


async def test_watch_events_bookmarks_advance_the_resume_version(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    writes = Writes(cluster)
    got: list[WatchEvent] = []
    async with watch(api, since=start) as events, trio.open_nursery() as nursery:

        async def consume() -> None:
            async for event in events:
                got.append(event)

        nursery.start_soon(consume)
        writes.create("a")
        # other resources move the revision on without configmap events
        secret = cluster.create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}}
        )
        await trio.sleep(61)  # the fake sends a bookmark every 60 s (trio time)
        assert cluster.faults.drop_active_watches(verb="watch") == 1
        await trio.sleep(1)
        writes.create("b")
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert seen(got) == writes.log
    queries = watch_requests(cluster)
    assert len(queries) == 2
    assert queries[1]["resourceVersion"] == [rv_of(secret)]
    assert int(rv_of(secret)) > int(writes.log[0][2])


# -- 410 Gone: relist and diff ----------------------------------------------------------------


async def start_with_abc(cluster: FakeCluster, api: Api) -> dict[str, dict[str, Any]]:
    return {n: cluster.create(configmap(n)) for n in ("a", "b", "c")}


async def open_the_watch(cluster: FakeCluster, events: AsyncIterator[WatchEvent]) -> None:
    """After the list's events the watch request is not made yet: get one live event."""
    cluster.create(configmap("t"))
    assert summary(await take(events, 1)) == [("ADDED", "t")]
    assert len(cluster.faults.active_watches(verb="watch")) == 1


def change_while_disconnected(cluster: FakeCluster) -> dict[str, dict[str, Any]]:
    """Changes the watcher will not get as events (the stream is dropped before they are
    sent): a modified, b deleted, d created."""
    changed = {
        "a": cluster.patch("configmaps", "a", {"data": {"k": "changed"}}),
        "d": cluster.create(configmap("d")),
    }
    cluster.delete("configmaps", "b")  # (answers a Status, as for real configmaps)
    changed["b"] = {"metadata": {"resourceVersion": str(cluster.state.store.revision)}}
    return changed


@pytest.mark.parametrize("how", ["watch_gone", "compact"])
async def test_watch_events_relists_after_gone_and_yields_the_difference(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api, how: str
) -> None:
    before = await start_with_abc(cluster, api)
    async with watch(api) as events:
        assert summary(await take(events, 3)) == [("ADDED", n) for n in "abc"]
        await open_the_watch(cluster, events)
        # all synchronous: nothing is sent before the stream is dropped
        after = change_while_disconnected(cluster)
        if how == "watch_gone":
            cluster.faults.watch_gone(verb="watch")
        else:
            cluster.compact()
        assert cluster.faults.drop_active_watches(verb="watch") == 1
        t0 = trio.current_time()
        diff = await take(events, 3)
        # resumed at once (the stream had delivered), then 410 on an empty stream: one backoff
        assert trio.current_time() - t0 == pytest.approx(0.8)
        assert seen(diff) == [
            ("MODIFIED", "a", rv_of(after["a"])),
            ("ADDED", "d", rv_of(after["d"])),
            ("DELETED", "b", rv_of(before["b"])),  # the last state this watch saw
        ]
        assert diff[2].object["data"] == {"k": "b"}
        cluster.create(configmap("e"))
        assert summary(await take(events, 1)) == [("ADDED", "e")]
    lists = cluster.requests.filter(verb="list")
    assert len(lists) == 2
    assert all("resourceVersion" not in r.query for r in lists)  # consistent reads
    queries = watch_requests(cluster)
    assert len(queries) == 3
    relist_rv = str(int(rv_of(after["b"])) + (1 if how == "compact" else 0))
    assert queries[2]["resourceVersion"] == [relist_rv]


async def test_watch_events_expired_live_watch_relists_without_duplicates(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    await start_with_abc(cluster, api)
    async with watch(api) as events:
        await take(events, 3)
        await open_the_watch(cluster, events)
        t0 = trio.current_time()
        cluster.patch("configmaps", "a", {"data": {"k": "live"}})
        assert cluster.faults.expire_active_watches(verb="watch") == 1
        # the change before the ERROR arrives live; the relist finds nothing new
        assert summary(await take(events, 1)) == [("MODIFIED", "a")]
        cluster.create(configmap("e"))
        assert summary(await take(events, 1)) == [("ADDED", "e")]
        assert trio.current_time() == t0  # the stream had delivered: relisted at once
    assert len(cluster.requests.filter(verb="list")) == 2


async def test_watch_events_relists_on_a_410_answer(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("a")))
    cluster.create(configmap("b"))
    cluster.faults.fail_next(410, verb="watch")
    async with watch(api, since=start) as events:
        # objects from before `since` were never yielded: the relist yields them as ADDED
        assert summary(await take(events, 2)) == [("ADDED", "a"), ("ADDED", "b")]
        cluster.create(configmap("c"))
        assert summary(await take(events, 1)) == [("ADDED", "c")]
    assert [r.status for r in cluster.requests if r.verb in ("list", "watch")] == [
        410,
        200,
        200,
    ]


# -- backoff ----------------------------------------------------------------------------------


async def test_watch_events_backs_off_on_server_errors_and_resets(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.fail_next(503, count=3, verb="watch")
    t0 = trio.current_time()
    async with watch(api, since=start) as events:
        cluster.create(configmap("a"))
        await take(events, 1)
        assert trio.current_time() - t0 == pytest.approx(0.8 + 1.6 + 3.2)
        # a stream that delivered resets the backoff
        cluster.faults.fail_next(500, count=2, verb="watch")
        cluster.faults.drop_active_watches(verb="watch")
        t1 = trio.current_time()
        cluster.create(configmap("b"))
        await take(events, 1)
        assert trio.current_time() - t1 == pytest.approx(0.8 + 1.6)
    assert [r.status for r in cluster.requests.filter(verb="watch")] == [
        503,
        503,
        503,
        200,
        500,
        500,
        200,
    ]


async def test_watch_events_backoff_is_capped(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.fail_next(503, count=4, verb="watch")
    t0 = trio.current_time()
    backoff = Backoff(initial=1.0, maximum=3.0)
    async with watch(api, since=start, backoff=backoff) as events:
        cluster.create(configmap("a"))
        await take(events, 1)
    assert trio.current_time() - t0 == pytest.approx(1 + 2 + 3 + 3)


async def test_watch_events_honours_retry_after(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.fail_next(429, retry_after=7, verb="watch")
    t0 = trio.current_time()
    async with watch(api, since=start) as events:
        cluster.create(configmap("a"))
        await take(events, 1)
    assert trio.current_time() - t0 == pytest.approx(7)


async def test_watch_events_empty_streams_back_off(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.drop_watch(after_events=0, count=3, verb="watch")
    t0 = trio.current_time()
    async with watch(api, since=start) as events:
        cluster.create(configmap("a"))
        assert summary(await take(events, 1)) == [("ADDED", "a")]
    assert trio.current_time() - t0 == pytest.approx(0.8 + 1.6 + 3.2)
    assert len(watch_requests(cluster)) == 4


async def test_watch_events_retries_a_failed_list(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.create(configmap("a"))
    cluster.faults.fail_next(500, count=2, verb="list")
    t0 = trio.current_time()
    async with watch(api) as events:
        assert summary(await take(events, 1)) == [("ADDED", "a")]
    assert trio.current_time() - t0 == pytest.approx(0.8 + 1.6)


# -- idle deadline ----------------------------------------------------------------------------


@pytest.mark.parametrize(("idle_timeout", "expected"), [(None, 60 + 30), (10.0, 10.0)])
async def test_watch_events_restarts_a_stalled_watch_after_the_idle_deadline(
    autojump_clock: trio.testing.MockClock,
    cluster: FakeCluster,
    api: Api,
    idle_timeout: float | None,
    expected: float,
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.faults.stall_watch(verb="watch")
    t0 = trio.current_time()
    async with watch(api, since=start, timeout_seconds=60, idle_timeout=idle_timeout) as events:
        cluster.create(configmap("a"))
        assert summary(await take(events, 1)) == [("ADDED", "a")]
    # the silent stream is given up after the deadline, then the (empty) attempt backs off
    assert trio.current_time() - t0 == pytest.approx(expected + 0.8)
    assert [q["resourceVersion"] for q in watch_requests(cluster)] == [[start], [start]]


# -- errors -----------------------------------------------------------------------------------


async def test_watch_events_raises_forbidden(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    cluster.faults.fail_next(403, verb="watch")
    async with watch(api, since="1") as events:
        with pytest.raises(ForbiddenError):
            await anext(events)
    assert len(watch_requests(cluster)) == 1


async def test_watch_events_raises_not_found(
    autojump_clock: trio.testing.MockClock, api: Api
) -> None:
    async with watch(api, plural="nosuchthings", since="1") as events:
        with pytest.raises(NotFoundError):
            await anext(events)


def _status(code: int, reason: str, message: str) -> dict[str, object]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


async def test_watch_events_resumes_after_a_server_error_event(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    async with watch(api, since=start) as events:
        cluster.create(configmap("a"))
        assert [e.object["metadata"]["name"] for e in await take(events, 1)] == ["a"]
        (stream,) = cluster.faults.active_watches(verb="watch")
        stream.push_error(_status(500, "InternalError", "Internal error occurred: boom"))
        await trio.testing.wait_all_tasks_blocked()
        began = trio.current_time()
        cluster.create(configmap("b"))
        (event,) = await take(events, 1)
    assert event.type == "ADDED"
    assert event.object["metadata"]["name"] == "b"
    assert trio.current_time() - began >= 0.4  # backed off before resuming


async def test_watch_events_raises_client_error_events(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    async with watch(api, since=start) as events:
        cluster.create(configmap("a"))
        await take(events, 1)
        (stream,) = cluster.faults.active_watches(verb="watch")
        stream.push_error(_status(403, "Forbidden", "forbidden: boom"))
        with pytest.raises(ForbiddenError, match="boom"):
            await anext(events)


# -- cancellation -----------------------------------------------------------------------------


async def test_watch_events_cancellation_closes_the_stream(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    with trio.move_on_after(5) as scope:
        async with watch(api, since=start) as events:
            cluster.create(configmap("a"))
            await take(events, 1)
            assert len(cluster.faults.active_watches(verb="watch")) == 1
            await anext(events)  # nothing more comes: cancelled by the deadline
    assert scope.cancelled_caught
    await trio.testing.wait_all_tasks_blocked()
    assert cluster.faults.active_watches() == []


async def test_watch_events_breaking_out_closes_the_stream(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    start = rv_of(cluster.create(configmap("before")))
    cluster.create(configmap("a"))
    async with watch(api, since=start) as events:
        async for event in events:
            assert name_of(event) == "a"
            assert len(cluster.faults.active_watches(verb="watch")) == 1
            break
    await trio.testing.wait_all_tasks_blocked()
    assert cluster.faults.active_watches() == []
