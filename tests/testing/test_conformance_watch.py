"""Conformance of the fake API server's WATCH over raw HTTP: the wire format, start semantics,
selector transitions, timeouts, bookmarks, 410s, watch-list and Table watches.

Time-dependent behaviour (timeouts, bookmark intervals, the history window) runs under trio's
MockClock with autojump, so no test waits for real time; httpx gets ``timeout=None`` there since
the clock jumps whenever every task waits on the network.
"""

from __future__ import annotations

import json

import h2.config
import h2.connection
import h2.events
import httpx
import pytest
import trio
import trio.testing
from support import (
    JSON,
    current_rv,
    failure,
    list_options_invalid,
    seed_configmap,
    seed_namespace,
    seed_pod,
    summary,
    watch,
)

from kr8s_trio.testing import ClusterConfig, FakeCluster, open_fake_cluster

CM = "/api/v1/namespaces/{ns}/configmaps"
DEFAULT_CMS = CM.format(ns="default")
KUBECTL_TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
EXPIRED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "reason": "Expired",
    "code": 410,
}


# -- helpers ------------------------------------------------------------------------------------


def rv_of(obj: JSON) -> str:
    return str(obj["metadata"]["resourceVersion"])


# -- wire format --------------------------------------------------------------------------------


@pytest.mark.parametrize("http2", [False, True])
async def test_watch_headers_arrive_before_any_event(api_cluster: FakeCluster, http2: bool) -> None:
    seed_namespace(api_cluster, "empty")
    async with (
        api_cluster.http_client(http2=http2, timeout=None) as client,
        watch(client, CM.format(ns="empty")) as events,
    ):
        # the headers came although nothing exists to send
        response = events.response
        assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert "content-length" not in response.headers
        if not http2:
            assert response.headers["transfer-encoding"] == "chunked"
        seed_configmap(api_cluster, "first", "empty")
        event = await events.event()
    assert summary(event) == ("ADDED", "first")
    assert event["object"]["kind"] == "ConfigMap"
    assert event["object"]["apiVersion"] == "v1"


async def test_watch_each_event_is_one_line_in_its_own_chunk(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as ev:
        for i in range(3):
            created = seed_configmap(api_cluster, f"c{i}", v=str(i))
            chunk = await ev.raw_chunk()
            assert chunk.endswith(b"\n")
            assert chunk.count(b"\n") == 1
            assert json.loads(chunk) == {"type": "ADDED", "object": created}
        # a burst still gives one event per chunk
        burst = [seed_configmap(api_cluster, f"d{i}") for i in range(3)]
        chunks = [await ev.raw_chunk() for _ in burst]
    assert [json.loads(c)["object"] for c in chunks] == burst
    assert all(c.count(b"\n") == 1 and c.endswith(b"\n") for c in chunks)


# -- start semantics ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [None, "0"])
async def test_watch_start_unset_or_zero_sends_current_state_as_added(
    api_cluster: FakeCluster, client: httpx.AsyncClient, start: str | None
) -> None:
    b = seed_configmap(api_cluster, "b", v="1")
    a = seed_configmap(api_cluster, "a")
    api_cluster.delete("configmaps", "a")
    a = seed_configmap(api_cluster, "a", v="again")
    b = api_cluster.patch("configmaps", "b", {"data": {"v": "2"}})
    params = {} if start is None else {"resourceVersion": start}
    async with watch(client, DEFAULT_CMS, **params) as events:
        first = [await events.event() for _ in range(2)]
        c = seed_configmap(api_cluster, "c")
        live = await events.event()
    # the current state only, in key order, as it is now (no history replay)
    assert first == [{"type": "ADDED", "object": a}, {"type": "ADDED", "object": b}]
    assert live == {"type": "ADDED", "object": c}


async def test_watch_start_at_resource_version_sends_only_later_events(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    a = seed_configmap(api_cluster, "a")
    b = seed_configmap(api_cluster, "b")
    start = rv_of(b)
    a2 = api_cluster.patch("configmaps", "a", {"data": {"k": "v"}})
    api_cluster.delete("configmaps", "b")
    c = seed_configmap(api_cluster, "c")
    async with watch(client, DEFAULT_CMS, resourceVersion=start) as events:
        got = [await events.event() for _ in range(3)]
    assert [summary(e) for e in got] == [("MODIFIED", "a"), ("DELETED", "b"), ("ADDED", "c")]
    assert got[0]["object"] == a2
    assert got[2]["object"] == c
    assert [int(rv_of(e["object"])) for e in got] == sorted(int(rv_of(e["object"])) for e in got)
    assert int(rv_of(a)) < int(rv_of(a2))


async def test_watch_resume_from_last_seen_gets_exactly_the_missed_events(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    path = DEFAULT_CMS
    async with watch(client, path, resourceVersion=current_rv(api_cluster)) as events:
        seed_configmap(api_cluster, "a")
        seen = await events.event()
    last = rv_of(seen["object"])
    # missed while disconnected
    seed_configmap(api_cluster, "b")
    modified = api_cluster.patch("configmaps", "a", {"data": {"x": "1"}})
    api_cluster.delete("configmaps", "b")
    async with watch(client, path, resourceVersion=last) as events:
        missed = [await events.event() for _ in range(3)]
        seed_configmap(api_cluster, "c")
        after = await events.event()
    assert [summary(e) for e in missed] == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    assert missed[1]["object"] == modified
    assert summary(after) == ("ADDED", "c")


async def test_watch_deleted_event_carries_final_state_with_new_resource_version(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    seed_configmap(api_cluster, "gone", v="1")
    last = api_cluster.patch("configmaps", "gone", {"data": {"v": "final"}})
    async with watch(client, DEFAULT_CMS, resourceVersion=rv_of(last)) as events:
        api_cluster.delete("configmaps", "gone")
        event = await events.event()
    assert event["type"] == "DELETED"
    obj = event["object"]
    assert obj["data"] == {"v": "final"}
    assert obj["metadata"]["uid"] == last["metadata"]["uid"]
    assert int(rv_of(obj)) > int(rv_of(last))
    assert rv_of(obj) == current_rv(api_cluster)
    assert {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"} == {
        k: v for k, v in last["metadata"].items() if k != "resourceVersion"
    }


# -- selectors and transitions --------------------------------------------------------------------


async def test_watch_label_selector_transitions(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    start = current_rv(api_cluster)
    async with watch(client, DEFAULT_CMS, resourceVersion=start, labelSelector="app=web") as events:
        seed_configmap(api_cluster, "x", labels={"app": "web"}, v="1")
        added = await events.event()
        modified = api_cluster.patch("configmaps", "x", {"data": {"v": "2"}})
        got_modified = await events.event()
        seed_configmap(api_cluster, "other", labels={"app": "db"})  # never matches: no event
        leaving = api_cluster.patch("configmaps", "x", {"metadata": {"labels": {"app": "db"}}})
        left = await events.event()
        api_cluster.patch("configmaps", "x", {"data": {"v": "3"}})  # outside: no event
        back = api_cluster.patch("configmaps", "x", {"metadata": {"labels": {"app": "web"}}})
        returned = await events.event()
    assert summary(added) == ("ADDED", "x")
    assert got_modified == {"type": "MODIFIED", "object": modified}
    # stops matching: DELETED with the previous content at the new resourceVersion
    assert left["type"] == "DELETED"
    assert left["object"]["metadata"]["labels"] == {"app": "web"}
    assert left["object"]["data"] == {"v": "2"}
    assert rv_of(left["object"]) == rv_of(leaving)
    # starts matching: ADDED with the current content
    assert returned == {"type": "ADDED", "object": back}
    assert back["data"] == {"v": "3"}


async def test_watch_field_selector_transitions(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    start = current_rv(api_cluster)
    async with watch(
        client,
        "/api/v1/namespaces/default/pods",
        resourceVersion=start,
        fieldSelector="status.phase=Running",
    ) as events:
        seed_pod(api_cluster, "p")  # Pending: not selected
        seed_pod(api_cluster, "q")
        running = api_cluster.patch_status("pods", "p", {"phase": "Running"})
        became = await events.event()
        done = api_cluster.patch_status("pods", "p", {"phase": "Succeeded"})
        stopped = await events.event()
    assert became == {"type": "ADDED", "object": running}
    assert stopped["type"] == "DELETED"
    assert stopped["object"]["metadata"]["name"] == "p"
    assert stopped["object"]["status"]["phase"] == "Running"
    assert rv_of(stopped["object"]) == rv_of(done)


async def test_watch_field_selector_metadata_name_kubectl_wait(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    seed_configmap(api_cluster, "target")
    seed_configmap(api_cluster, "noise")
    async with watch(
        client,
        DEFAULT_CMS,
        resourceVersion="0",
        fieldSelector="metadata.name=target",
        allowWatchBookmarks="true",
    ) as events:
        initial = await events.event()
        api_cluster.patch("configmaps", "noise", {"data": {"a": "b"}})
        api_cluster.delete("configmaps", "target")
        deleted = await events.event()
    assert summary(initial) == ("ADDED", "target")
    assert summary(deleted) == ("DELETED", "target")


async def test_watch_namespaced_versus_all_namespaces(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    seed_namespace(api_cluster, "a")
    seed_namespace(api_cluster, "b")
    start = current_rv(api_cluster)
    async with (
        watch(client, CM.format(ns="a"), resourceVersion=start) as in_a,
        watch(client, "/api/v1/configmaps", resourceVersion=start) as everywhere,
    ):
        seed_configmap(api_cluster, "one", "b")
        seed_configmap(api_cluster, "two", "a")
        seed_configmap(api_cluster, "three", "b")
        seed_configmap(api_cluster, "four", "a")
        only_a = await in_a.take(2)
        all_ = [await everywhere.event() for _ in range(4)]
    assert only_a == [("ADDED", "two"), ("ADDED", "four")]
    assert [(e["object"]["metadata"]["namespace"], summary(e)[1]) for e in all_] == [
        ("b", "one"),
        ("a", "two"),
        ("b", "three"),
        ("a", "four"),
    ]


# -- timeouts and bookmarks (MockClock) -----------------------------------------------------------


async def test_watch_timeout_seconds_ends_stream_cleanly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster() as cluster, cluster.http_client(timeout=None) as client:
        t0 = trio.current_time()
        async with watch(
            client,
            DEFAULT_CMS,
            guard=1000,
            resourceVersion=current_rv(cluster),
            timeoutSeconds="30",
        ) as events:
            seed_configmap(cluster, "early")
            assert await events.take(1) == [("ADDED", "early")]
            rest = await events.rest()
        elapsed = trio.current_time() - t0
    assert rest == []
    assert 30 <= elapsed < 31


@pytest.mark.parametrize("timeout_seconds", [None, "0"])
async def test_watch_default_timeout_from_cluster_config(
    autojump_clock: trio.testing.MockClock, timeout_seconds: str | None
) -> None:
    params = {} if timeout_seconds is None else {"timeoutSeconds": timeout_seconds}
    async with (
        open_fake_cluster(ClusterConfig(watch_timeout=45)) as cluster,
        cluster.http_client(timeout=None) as client,
    ):
        t0 = trio.current_time()
        async with watch(client, DEFAULT_CMS, guard=1000, **params) as events:
            assert await events.rest() == []
        # timeoutSeconds=0 reads as unset
        assert 45 <= trio.current_time() - t0 < 46


async def test_watch_bookmarks_periodic_and_before_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_fake_cluster(bookmark_interval=10) as cluster,
        cluster.http_client(timeout=None) as client,
    ):
        t0 = trio.current_time()
        times: list[float] = []
        got: list[JSON] = []
        async with watch(
            client,
            "/api/v1/namespaces/default/pods",
            guard=1000,
            resourceVersion=current_rv(cluster),
            allowWatchBookmarks="true",
            timeoutSeconds="35",
        ) as events:
            while (event := await events.next()) is not None:
                times.append(round(trio.current_time() - t0))
                got.append(event)
                if len(got) == 1:
                    seed_configmap(cluster, "unrelated")  # moves the revision on
        rv = current_rv(cluster)
    assert times == [10, 20, 30, 33]  # every interval, and 2 s before the deadline
    assert got[0] == {
        "type": "BOOKMARK",
        "object": {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": rv_of(got[0]["object"])},
        },
    }
    for event in got[1:]:
        assert event == {
            "type": "BOOKMARK",
            "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": rv}},
        }


async def test_watch_no_bookmarks_without_allow_watch_bookmarks(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_fake_cluster(bookmark_interval=10) as cluster,
        cluster.http_client(timeout=None) as client,
        watch(
            client,
            DEFAULT_CMS,
            guard=1000,
            resourceVersion=current_rv(cluster),
            timeoutSeconds="35",
        ) as events,
    ):
        assert await events.rest() == []


# -- too old resourceVersion -----------------------------------------------------------------------


async def test_watch_too_old_resource_version_after_compaction_is_one_410_error(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    old = seed_configmap(api_cluster, "a")
    api_cluster.patch("configmaps", "a", {"data": {"v": "1"}})
    compacted = api_cluster.compact()
    async with watch(client, DEFAULT_CMS, resourceVersion=rv_of(old)) as events:
        assert events.response.status_code == 200
        got = await events.rest()
    assert got == [
        {
            "type": "ERROR",
            "object": {
                **EXPIRED,
                "message": f"too old resource version: {rv_of(old)} ({compacted})",
            },
        }
    ]
    # the compaction point itself is still a valid start
    async with watch(client, DEFAULT_CMS, resourceVersion=str(compacted)) as events:
        seed_configmap(api_cluster, "b")
        assert await events.take(1) == [("ADDED", "b")]


async def test_watch_history_window_expires_old_resource_versions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_fake_cluster(history_window=60) as cluster,
        cluster.http_client(timeout=None) as client,
    ):
        first = seed_configmap(cluster, "a")
        second = fake_cluster_patch(cluster)
        await trio.sleep(30)
        async with watch(client, DEFAULT_CMS, resourceVersion=rv_of(first)) as events:
            assert await events.take(1) == [("MODIFIED", "a")]  # still inside the window
        await trio.sleep(31)
        seed_configmap(cluster, "b")  # the next write forgets history older than the window
        async with watch(client, DEFAULT_CMS, resourceVersion=rv_of(first)) as events:
            expired = await events.rest()
        async with watch(client, DEFAULT_CMS, resourceVersion=rv_of(second)) as events:
            assert await events.take(1) == [("ADDED", "b")]
    assert expired == [
        {
            "type": "ERROR",
            "object": {
                **EXPIRED,
                "message": f"too old resource version: {rv_of(first)} ({rv_of(second)})",
            },
        }
    ]


def fake_cluster_patch(cluster: FakeCluster) -> JSON:
    return cluster.patch("configmaps", "a", {"data": {"v": "1"}})


async def test_watch_resource_version_in_the_future_is_504(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    r = await client.get(DEFAULT_CMS, params={"watch": "true", "resourceVersion": "999999"})
    assert r.status_code == 504
    assert r.json() == failure(
        504,
        "Timeout",
        f"Timeout: Too large resource version: 999999, current: {current_rv(api_cluster)}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
    )


async def test_watch_invalid_resource_version_is_400_before_streaming(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(DEFAULT_CMS, params={"watch": "true", "resourceVersion": "x"})
    assert r.status_code == 400
    assert r.json()["reason"] == "BadRequest"
    assert "transfer-encoding" not in r.headers


# -- watch-list ------------------------------------------------------------------------------------


async def test_watch_send_initial_events_then_end_bookmark_then_live(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    b = seed_configmap(api_cluster, "b")
    a = seed_configmap(api_cluster, "a")
    snapshot = current_rv(api_cluster)
    async with watch(
        client,
        DEFAULT_CMS,
        sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan",
        allowWatchBookmarks="true",
    ) as events:
        initial = [await events.event() for _ in range(3)]
        c = seed_configmap(api_cluster, "c")
        live = await events.event()
    assert initial == [
        {"type": "ADDED", "object": a},
        {"type": "ADDED", "object": b},
        {
            "type": "BOOKMARK",
            "object": {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {
                    "resourceVersion": snapshot,
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            },
        },
    ]
    assert live == {"type": "ADDED", "object": c}


async def test_watch_send_initial_events_with_selector_and_resource_version(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    seed_configmap(api_cluster, "a", labels={"keep": "1"})
    seed_configmap(api_cluster, "b")
    start = current_rv(api_cluster)
    async with watch(
        client,
        DEFAULT_CMS,
        sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan",
        resourceVersion=start,
        allowWatchBookmarks="true",
        labelSelector="keep",
    ) as events:
        got = [await events.event() for _ in range(2)]
    assert [summary(e) for e in got] == [("ADDED", "a"), ("BOOKMARK", "")]
    assert got[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert got[1]["object"]["metadata"]["resourceVersion"] == start


@pytest.mark.parametrize("start", [None, "0"])
async def test_watch_send_initial_events_false_starts_at_most_recent(
    api_cluster: FakeCluster, client: httpx.AsyncClient, start: str | None
) -> None:
    seed_configmap(api_cluster, "old")
    params = {"sendInitialEvents": "false", "resourceVersionMatch": "NotOlderThan"}
    if start is not None:
        params["resourceVersion"] = start
    async with watch(client, DEFAULT_CMS, allowWatchBookmarks="true", **params) as ev:
        new = seed_configmap(api_cluster, "new")
        first = await ev.event()
    assert first == {"type": "ADDED", "object": new}  # no initial events, no end bookmark


async def test_watch_send_initial_events_false_from_resource_version_replays_history(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    start = rv_of(seed_configmap(api_cluster, "a"))
    seed_configmap(api_cluster, "b")
    async with watch(
        client,
        DEFAULT_CMS,
        sendInitialEvents="false",
        resourceVersionMatch="NotOlderThan",
        resourceVersion=start,
    ) as events:
        assert await events.take(1) == [("ADDED", "b")]


@pytest.mark.parametrize(
    ("params", "field", "detail"),
    [
        (
            {"sendInitialEvents": "true"},
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ),
        (
            {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "1"},
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
    ],
)
async def test_watch_list_options_invalid_is_422(
    client: httpx.AsyncClient, params: dict[str, str], field: str, detail: str
) -> None:
    r = await client.get(DEFAULT_CMS, params={"watch": "true", **params})
    assert r.status_code == 422
    assert r.json() == list_options_invalid(("FieldValueForbidden", field, f"Forbidden: {detail}"))


async def test_watch_list_disabled_rejects_send_initial_events() -> None:
    async with (
        open_fake_cluster(watch_list=False) as cluster,
        cluster.http_client() as client,
    ):
        r = await client.get(
            DEFAULT_CMS,
            params={
                "watch": "true",
                "sendInitialEvents": "true",
                "resourceVersionMatch": "NotOlderThan",
                "allowWatchBookmarks": "true",
            },
        )
    assert r.status_code == 422
    detail = "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
    assert r.json() == list_options_invalid(
        ("FieldValueForbidden", "sendInitialEvents", f"Forbidden: {detail}")
    )


# -- Table watches --------------------------------------------------------------------------------


async def test_watch_table_accept_sends_one_row_tables(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    headers = {"Accept": KUBECTL_TABLE}
    listed = await client.get("/api/v1/namespaces/default/pods", headers=headers)
    assert listed.json()["kind"] == "Table"
    rv = listed.json()["metadata"]["resourceVersion"]
    async with watch(
        client, "/api/v1/namespaces/default/pods", headers=headers, resourceVersion=rv
    ) as events:
        p1 = seed_pod(api_cluster, "p1")
        first = await events.event()
        p2 = seed_pod(api_cluster, "p2")
        second = await events.event()
    assert [first["type"], second["type"]] == ["ADDED", "ADDED"]
    for event, obj in ((first, p1), (second, p2)):
        table = event["object"]
        assert table["kind"] == "Table"
        assert table["apiVersion"] == "meta.k8s.io/v1"
        assert table["metadata"]["resourceVersion"] == rv_of(obj)
        [row] = table["rows"]
        assert row["cells"][0] == obj["metadata"]["name"]
        assert row["object"]["metadata"]["name"] == obj["metadata"]["name"]
    names = [c["name"] for c in first["object"]["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert len(first["object"]["rows"][0]["cells"]) == len(names)
    assert not second["object"].get("columnDefinitions")


# -- disconnects -----------------------------------------------------------------------------------


async def unregistered(cluster: FakeCluster) -> None:
    with trio.fail_after(10):
        while cluster.faults.active_watches():
            await trio.testing.wait_all_tasks_blocked()


async def test_watch_client_disconnect_unregisters_the_watcher(api_cluster: FakeCluster) -> None:
    bucket = api_cluster.state.store.bucket(("", "configmaps"))
    async with api_cluster.http_client(timeout=None) as client:
        async with watch(client, DEFAULT_CMS, labelSelector="x") as events:
            assert events.response.status_code == 200
            assert len(api_cluster.faults.active_watches()) == 1
            assert len(bucket.watchers) == 1
        # HTTP/1.1: leaving the unfinished response closes its connection
        await unregistered(api_cluster)
        assert bucket.watchers == set()
        assert (await client.get(DEFAULT_CMS)).status_code == 200


async def test_watch_client_disconnect_over_http2_unregisters_the_watcher(
    api_cluster: FakeCluster,
) -> None:
    bucket = api_cluster.state.store.bucket(("", "configmaps"))
    async with api_cluster.http_client(http2=True, timeout=None) as client:
        async with watch(client, DEFAULT_CMS, labelSelector="x") as events:
            assert events.response.http_version == "HTTP/2"
        # httpcore sends no RST_STREAM for an abandoned HTTP/2 response: the stream lives on
        # until the connection closes
        assert (await client.get(DEFAULT_CMS)).status_code == 200
    await unregistered(api_cluster)
    assert bucket.watchers == set()


async def test_watch_http2_stream_reset_unregisters_the_watcher(api_cluster: FakeCluster) -> None:
    # what client-go does when a watch's context is cancelled: RST_STREAM, connection kept
    host, _, port = api_cluster.url.removeprefix("https://").rpartition(":")
    context = api_cluster.ssl_context()
    context.set_alpn_protocols(["h2"])
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(
        stream_id,
        [
            (":method", "GET"),
            (":path", "/api/v1/namespaces/default/configmaps?watch=true"),
            (":scheme", "https"),
            (":authority", f"{host}:{port}"),
            ("authorization", f"Bearer {api_cluster.token}"),
        ],
        end_stream=True,
    )
    with trio.fail_after(10):
        tcp = await trio.open_tcp_stream(host, int(port))
        async with trio.SSLStream(tcp, context, server_hostname=host) as tls:
            await tls.send_all(conn.data_to_send())
            status = None
            while status is None:
                for event in conn.receive_data(await tls.receive_some()):
                    if isinstance(event, h2.events.ResponseReceived):
                        status = dict(event.headers)[b":status"]
                await tls.send_all(conn.data_to_send())
            assert status == b"200"
            assert len(api_cluster.faults.active_watches()) == 1
            conn.reset_stream(stream_id)
            await tls.send_all(conn.data_to_send())
            await unregistered(api_cluster)
            # the connection itself is still usable
            other = conn.get_next_available_stream_id()
            conn.send_headers(
                other,
                [
                    (":method", "GET"),
                    (":path", "/api/v1/namespaces/default/configmaps"),
                    (":scheme", "https"),
                    (":authority", f"{host}:{port}"),
                    ("authorization", f"Bearer {api_cluster.token}"),
                ],
                end_stream=True,
            )
            await tls.send_all(conn.data_to_send())
            ended = False
            while not ended:
                for event in conn.receive_data(await tls.receive_some()):
                    if isinstance(event, h2.events.ResponseReceived):
                        assert dict(event.headers)[b":status"] == b"200"
                    if isinstance(event, h2.events.StreamEnded) and event.stream_id == other:
                        ended = True
                await tls.send_all(conn.data_to_send())
