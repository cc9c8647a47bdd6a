"""Faults on demand and the request log of the fake API server, observed over raw HTTP.

Status faults (429/5xx), slow responses (delayed headers, trickled bodies, stalled watches),
dropped and expired watches, tokens revoked behind a client's back, resourceVersions bumped behind
its back, and the record of every request. Anything that needs time to pass runs under trio's
MockClock with autojump (and httpx ``timeout=None``).
"""

from __future__ import annotations

import json
import math
from typing import Literal

import httpx
import pytest
import trio
import trio.testing
from support import configmap, current_rv, failure, seed_configmap, seed_namespace, watch

from kr8s_trio.testing import (
    FakeCluster,
    RequestLog,
    RequestMatcher,
    RequestRecord,
    open_fake_cluster,
)

DEFAULT_CMS = "/api/v1/namespaces/default/configmaps"
UNAUTHORIZED = failure(401, "Unauthorized", "Unauthorized")


# -- status faults --------------------------------------------------------------------------------


async def test_fail_next_429_is_plain_text_with_retry_after(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    api_cluster.faults.fail_next(429)
    api_cluster.faults.fail_next(429, retry_after=7)
    first = await client.get(DEFAULT_CMS)
    second = await client.get(DEFAULT_CMS)
    third = await client.get(DEFAULT_CMS)
    for r, after in ((first, "1"), (second, "7")):
        assert r.status_code == 429
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.headers["retry-after"] == after
        assert r.text == "Too many requests, please try again later.\n"
    assert third.status_code == 200


@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        (500, "InternalError", "Internal error occurred: injected fault"),
        (503, "ServiceUnavailable", "the server is currently unable to handle the request"),
        (504, "Timeout", "Timeout: request did not complete within the allotted timeout"),
    ],
)
@pytest.mark.parametrize("retry_after", [None, 3])
async def test_fail_next_5xx_is_a_status_body(
    api_cluster: FakeCluster,
    client: httpx.AsyncClient,
    code: int,
    reason: str,
    message: str,
    retry_after: int | None,
) -> None:
    api_cluster.faults.fail_next(code, retry_after=retry_after)
    r = await client.get(DEFAULT_CMS)
    if retry_after is None:
        assert "retry-after" not in r.headers
        expected = failure(code, reason, message)
    else:
        assert r.headers["retry-after"] == "3"
        expected = failure(code, reason, message, {"retryAfterSeconds": 3})
    assert r.status_code == code
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected
    assert (await client.get(DEFAULT_CMS)).status_code == 200


async def test_fail_next_count_then_normal_service(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    fault = api_cluster.faults.fail_next(503, count=3)
    codes = [(await client.get(DEFAULT_CMS)).status_code for _ in range(5)]
    assert codes == [503, 503, 503, 200, 200]
    assert fault.remaining == 0
    assert not api_cluster.faults.has_armed()


async def test_fail_next_applies_to_watches_before_streaming(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    api_cluster.faults.fail_next(500, verb="watch")
    listed = await client.get(DEFAULT_CMS)
    failed = await client.get(DEFAULT_CMS, params={"watch": "true"})
    assert listed.status_code == 200
    assert failed.status_code == 500
    assert failed.json()["reason"] == "InternalError"
    assert api_cluster.faults.active_watches() == []


@pytest.mark.parametrize(
    ("fields", "miss", "hit"),
    [
        (
            {"verb": "get"},
            ("GET", "/api/v1/namespaces/a/configmaps"),
            ("GET", "/api/v1/namespaces/a/configmaps/x"),
        ),
        (
            {"verb": "list"},
            ("GET", "/api/v1/namespaces/a/configmaps/x"),
            ("GET", "/api/v1/namespaces/a/configmaps"),
        ),
        (
            {"resource": "secrets"},
            ("GET", "/api/v1/namespaces/a/configmaps"),
            ("GET", "/api/v1/namespaces/a/secrets"),
        ),
        (
            {"namespace": "b"},
            ("GET", "/api/v1/namespaces/a/configmaps"),
            ("GET", "/api/v1/namespaces/b/configmaps"),
        ),
        (
            {"name": "y"},
            ("GET", "/api/v1/namespaces/a/configmaps/x"),
            ("GET", "/api/v1/namespaces/a/configmaps/y"),
        ),
        (
            {"method": "DELETE"},
            ("GET", "/api/v1/namespaces/a/configmaps/x"),
            ("DELETE", "/api/v1/namespaces/a/configmaps/x"),
        ),
        (
            {"path": "/api/v1/namespaces/a/secrets"},
            ("GET", "/api/v1/namespaces/a/configmaps"),
            ("GET", "/api/v1/namespaces/a/secrets"),
        ),
        (
            {"verb": "list", "resource": "configmaps", "namespace": "a"},
            ("GET", "/api/v1/configmaps"),
            ("GET", "/api/v1/namespaces/a/configmaps"),
        ),
    ],
)
async def test_fail_next_matcher_fields(
    api_cluster: FakeCluster,
    client: httpx.AsyncClient,
    fields: dict[str, str],
    miss: tuple[str, str],
    hit: tuple[str, str],
) -> None:
    for ns in ("a", "b"):
        seed_namespace(api_cluster, ns)
        seed_configmap(api_cluster, "x", ns)
        seed_configmap(api_cluster, "y", ns)
    api_cluster.faults.fail_next(503, **fields)
    missed = await client.request(*miss)
    got = await client.request(*hit)
    again = await client.request(*hit)
    assert missed.status_code != 503
    assert got.status_code == 503
    assert again.status_code != 503


async def test_fail_next_matcher_user(api_cluster: FakeCluster) -> None:
    token = api_cluster.add_user("alice", ["devs"])
    api_cluster.faults.fail_next(429, match=RequestMatcher(user="alice"))
    async with (
        api_cluster.http_client() as admin,
        api_cluster.http_client(token=token) as alice,
    ):
        admin_first = await admin.get(DEFAULT_CMS)
        alice_first = await alice.get(DEFAULT_CMS)
        alice_second = await alice.get(DEFAULT_CMS)
    assert admin_first.status_code == 200
    assert alice_first.status_code == 429
    assert alice_second.status_code == 200


async def test_faults_clear_disarms_everything(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    api_cluster.faults.fail_next(500, count=10)
    api_cluster.faults.delay_headers(100)
    api_cluster.faults.clear()
    r = await client.get(DEFAULT_CMS)
    assert r.status_code == 200
    assert not api_cluster.faults.has_armed()


# -- slow responses (MockClock) -------------------------------------------------------------------


async def test_delay_headers_holds_the_response_for_trio_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster() as cluster, cluster.http_client(timeout=None) as client:
        cluster.faults.delay_headers(7.5, verb="get", name="slow")
        seed_configmap(cluster, "slow")
        t0 = trio.current_time()
        fast = await client.get(DEFAULT_CMS + "/other")  # not matched: no delay
        t1 = trio.current_time()
        slow = await client.get(DEFAULT_CMS + "/slow")
        t2 = trio.current_time()
        again = await client.get(DEFAULT_CMS + "/slow")
        t3 = trio.current_time()
    assert fast.status_code == 404
    assert t1 - t0 < 0.5
    assert slow.status_code == 200
    assert 7.5 <= t2 - t1 < 8
    assert again.status_code == 200
    assert t3 - t2 < 0.5


async def test_trickle_body_sends_small_chunks_over_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster() as cluster, cluster.http_client(timeout=None) as client:
        created = seed_configmap(cluster, "big", payload="x" * 200)
        expected = json.dumps(created, separators=(",", ":")).encode()
        cluster.faults.trickle_body(chunk_size=50, interval=2.0, name="big")
        t0 = trio.current_time()
        chunks: list[bytes] = []
        arrival: list[float] = []
        async with client.stream("GET", DEFAULT_CMS + "/big") as response:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
                arrival.append(trio.current_time() - t0)
        elapsed = trio.current_time() - t0
    n = math.ceil(len(expected) / 50)
    assert b"".join(chunks) == expected
    assert [len(c) for c in chunks] == [50] * (n - 1) + [len(expected) - 50 * (n - 1)]
    # one chunk every interval
    assert [round(t) for t in arrival] == [2 * i for i in range(n)]
    assert round(elapsed) == 2 * (n - 1)  # the response is complete with its last byte


async def test_stall_watch_sends_headers_then_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_fake_cluster() as cluster, cluster.http_client(timeout=None) as client:
        cluster.faults.stall_watch(resource="configmaps")
        async with watch(
            client,
            DEFAULT_CMS,
            guard=10_000,
            resourceVersion=current_rv(cluster),
            allowWatchBookmarks="true",
            timeoutSeconds="30",
        ) as events:
            assert events.response.status_code == 200
            seed_configmap(cluster, "never-seen")
            t0 = trio.current_time()
            with trio.move_on_after(600) as waited:
                await events.next()
            # no event, no bookmark, and no EOF at the deadline either: a dead peer
            assert waited.cancelled_caught
            assert trio.current_time() - t0 >= 600
            assert len(cluster.faults.active_watches()) == 1
            # until the test lets go of it
            assert cluster.faults.drop_active_watches() == 1
            assert await events.next() is None
        # the next watch is served normally
        async with watch(client, DEFAULT_CMS, resourceVersion="0") as events:
            assert await events.take(1) == [("ADDED", "never-seen")]


# -- watch faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 2])
async def test_drop_watch_after_n_events_eof(
    api_cluster: FakeCluster, client: httpx.AsyncClient, after: int
) -> None:
    api_cluster.faults.drop_watch(after_events=after, mode="eof")
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as events:
        for i in range(after + 1):
            seed_configmap(api_cluster, f"c{i}")
        got = await events.take(after)
        end = await events.next()
    assert got == [("ADDED", f"c{i}") for i in range(after)]
    assert end is None  # a clean end of the stream, the next event never sent
    # the fault was used up: the next watch lasts
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as events:
        seed_configmap(api_cluster, "later")
        assert await events.take(1) == [("ADDED", "later")]


async def test_drop_watch_reset_is_a_transport_error(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    api_cluster.faults.drop_watch(after_events=1, mode="reset")
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as events:
        seed_configmap(api_cluster, "a")
        seed_configmap(api_cluster, "b")
        got = await events.take(1)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await events.next()
    assert got == [("ADDED", "a")]
    # the server is still serving other connections
    assert (await client.get(DEFAULT_CMS)).status_code == 200


async def test_watch_gone_sends_one_410_error_then_eof(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    seed_configmap(api_cluster, "a")
    start = current_rv(api_cluster)
    api_cluster.faults.watch_gone(resource="configmaps")
    async with watch(client, DEFAULT_CMS, resourceVersion=start) as events:
        assert events.response.status_code == 200
        error = await events.next()
        end = await events.next()
    assert error == {
        "type": "ERROR",
        "object": failure(410, "Expired", f"too old resource version: {start} (0)"),
    }
    assert end is None


@pytest.mark.parametrize("mode", ["eof", "reset"])
async def test_drop_active_watches_ends_open_watches(
    api_cluster: FakeCluster, client: httpx.AsyncClient, mode: Literal["eof", "reset"]
) -> None:
    async with (
        watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as cms,
        watch(client, "/api/v1/namespaces/default/secrets", resourceVersion="0") as secrets,
    ):
        seed_configmap(api_cluster, "a")
        assert await cms.take(1) == [("ADDED", "a")]
        assert len(api_cluster.faults.active_watches()) == 2
        dropped = api_cluster.faults.drop_active_watches(mode=mode, resource="configmaps")
        if mode == "eof":
            assert await cms.next() is None
        else:
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await cms.next()
        # the unmatched watch goes on
        api_cluster.create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque"}
        )
        assert await secrets.take(1) == [("ADDED", "s")]
    assert dropped == 1


async def test_expire_active_watches_sends_410_error_then_eof(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as events:
        seed_configmap(api_cluster, "a")
        assert await events.take(1) == [("ADDED", "a")]
        expired = api_cluster.faults.expire_active_watches("too old resource version: 1 (9)")
        error = await events.next()
        end = await events.next()
    assert expired == 1
    assert error == {
        "type": "ERROR",
        "object": failure(410, "Expired", "too old resource version: 1 (9)"),
    }
    assert end is None


async def test_compact_makes_a_resuming_watch_get_410(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    async with watch(client, DEFAULT_CMS, resourceVersion=current_rv(api_cluster)) as events:
        seed_configmap(api_cluster, "a")
        [seen] = [await events.event()]
    seed_configmap(api_cluster, "b")  # missed while disconnected
    point = api_cluster.compact()
    async with watch(
        client,
        DEFAULT_CMS,
        resourceVersion=seen["object"]["metadata"]["resourceVersion"],
    ) as events:
        error = await events.event()
        assert await events.next() is None
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410
    assert error["object"]["message"] == (
        f"too old resource version: {seen['object']['metadata']['resourceVersion']} ({point})"
    )


# -- writes behind a client's back ---------------------------------------------------------------


async def test_bump_resource_version_conflicts_a_stale_update_and_emits_modified(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    path = DEFAULT_CMS + "/x"
    seed_configmap(api_cluster, "x", v="1")
    mine = (await client.get(path)).json()
    async with watch(
        client, DEFAULT_CMS, resourceVersion=mine["metadata"]["resourceVersion"]
    ) as events:
        bumped = api_cluster.bump_resource_version("configmaps", "x")
        modified = await events.event()
    assert int(bumped) > int(mine["metadata"]["resourceVersion"])
    assert bumped == current_rv(api_cluster)
    assert modified["type"] == "MODIFIED"
    assert modified["object"]["metadata"]["resourceVersion"] == bumped
    assert modified["object"]["data"] == {"v": "1"}
    mine["data"] = {"v": "2"}
    r = await client.put(path, json=mine)
    assert r.status_code == 409
    assert r.json() == failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "x": the object has been '
        "modified; please apply your changes to the latest version and try again",
        {"name": "x", "kind": "configmaps"},
    )
    # a stale optimistic-concurrency patch conflicts as well
    patched = await client.patch(
        path,
        content=json.dumps(
            {
                "metadata": {"resourceVersion": mine["metadata"]["resourceVersion"]},
                "data": {"v": "3"},
            }
        ),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 409
    assert api_cluster.get("configmaps", "x")["data"] == {"v": "1"}
    mine["metadata"]["resourceVersion"] = bumped
    assert (await client.put(path, json=mine)).status_code == 200


# -- tokens ---------------------------------------------------------------------------------------


async def test_revoke_token_answers_401(api_cluster: FakeCluster) -> None:
    token = api_cluster.add_user("bob")
    async with api_cluster.http_client(token=token) as bob, api_cluster.http_client() as admin:
        before = await bob.get(DEFAULT_CMS)
        api_cluster.revoke_token(token)
        after = await bob.get(DEFAULT_CMS)
        admin_after = await admin.get(DEFAULT_CMS)
    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json() == UNAUTHORIZED
    assert admin_after.status_code == 200


async def test_expire_token_answers_401(api_cluster: FakeCluster) -> None:
    token = api_cluster.add_user("carol")
    async with api_cluster.http_client(token=token) as carol:
        before = await carol.get("/api/v1/namespaces")
        api_cluster.expire_token(token)
        after = await carol.get("/api/v1/namespaces")
    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json() == UNAUTHORIZED


async def test_token_ttl_expires_with_trio_time(autojump_clock: trio.testing.MockClock) -> None:
    async with open_fake_cluster() as cluster:
        token = cluster.add_user("dave", ttl=60)
        async with cluster.http_client(token=token, timeout=None) as dave:
            before = await dave.get(DEFAULT_CMS)
            await trio.sleep(59)
            still = await dave.get(DEFAULT_CMS)
            await trio.sleep(2)
            after = await dave.get(DEFAULT_CMS)
    assert before.status_code == 200
    assert still.status_code == 200
    assert after.status_code == 401
    assert after.json() == UNAUTHORIZED


async def test_unknown_token_and_missing_credentials_are_401(api_cluster: FakeCluster) -> None:
    async with (
        api_cluster.http_client(token="not-a-token") as bad,
        api_cluster.http_client(token="") as anonymous,
    ):
        r1 = await bad.get("/api/v1/namespaces")
        r2 = await anonymous.get("/api/v1/namespaces")
    assert r1.status_code == r2.status_code == 401
    assert r1.json() == r2.json() == UNAUTHORIZED


# -- the request log ------------------------------------------------------------------------------


async def test_request_log_records_every_request(api_cluster: FakeCluster) -> None:
    token = api_cluster.add_user("erin", ["devs"])
    api_cluster.requests.clear()
    cm = configmap("x", a="1")
    async with (
        api_cluster.http_client(timeout=None) as admin,
        api_cluster.http_client(token=token) as erin,
        api_cluster.http_client(token="bogus") as bogus,
    ):
        await admin.get(DEFAULT_CMS, params={"labelSelector": "app in (a,b)"})
        await admin.post(DEFAULT_CMS, json=cm)
        await erin.get(DEFAULT_CMS + "/x")
        await erin.patch(
            DEFAULT_CMS + "/x",
            content=b'{"data":{"a":"2"}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        await admin.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=n1", "limit": "5"})
        await bogus.get("/api/v1/namespaces/default")
        await admin.get("/version")
        async with watch(
            admin, DEFAULT_CMS, resourceVersion="0", fieldSelector="metadata.name=x"
        ) as events:
            assert await events.take(1) == [("ADDED", "x")]
        await admin.delete(DEFAULT_CMS + "/x")
        await admin.delete(DEFAULT_CMS, params={"labelSelector": "gone"})
    rows = [
        (
            r.method,
            r.path,
            r.verb,
            r.resource,
            r.namespace,
            r.name,
            r.label_selector,
            r.field_selector,
            r.user,
            r.status,
        )
        for r in api_cluster.requests
    ]
    default_cms = "/api/v1/namespaces/default/configmaps"
    assert rows == [
        (
            "GET",
            default_cms,
            "list",
            "configmaps",
            "default",
            None,
            "app in (a,b)",
            None,
            "fake-admin",
            200,
        ),
        (
            "POST",
            default_cms,
            "create",
            "configmaps",
            "default",
            None,
            None,
            None,
            "fake-admin",
            201,
        ),
        ("GET", default_cms + "/x", "get", "configmaps", "default", "x", None, None, "erin", 200),
        (
            "PATCH",
            default_cms + "/x",
            "patch",
            "configmaps",
            "default",
            "x",
            None,
            None,
            "erin",
            200,
        ),
        (
            "GET",
            "/api/v1/pods",
            "list",
            "pods",
            None,
            None,
            None,
            "spec.nodeName=n1",
            "fake-admin",
            200,
        ),
        (
            "GET",
            "/api/v1/namespaces/default",
            "get",
            "namespaces",
            "default",
            "default",
            None,
            None,
            None,
            401,
        ),
        ("GET", "/version", "get", "", None, None, None, None, "fake-admin", 200),
        (
            "GET",
            default_cms,
            "watch",
            "configmaps",
            "default",
            None,
            None,
            "metadata.name=x",
            "fake-admin",
            200,
        ),
        (
            "DELETE",
            default_cms + "/x",
            "delete",
            "configmaps",
            "default",
            "x",
            None,
            None,
            "fake-admin",
            200,
        ),
        (
            "DELETE",
            default_cms,
            "deletecollection",
            "configmaps",
            "default",
            None,
            "gone",
            None,
            "fake-admin",
            200,
        ),
    ]
    records = list(api_cluster.requests)
    assert records[0].query == {"labelSelector": ["app in (a,b)"]}
    assert records[1].content_type == "application/json"
    assert records[7].is_watch
    assert records[7].query["watch"] == ["true"]
    # filtering by matcher fields
    assert [r.verb for r in api_cluster.requests.filter(user="erin")] == ["get", "patch"]
    assert len(api_cluster.requests.filter(RequestMatcher(resource="configmaps", name="x"))) == 3
    assert len(api_cluster.requests) == 10


async def test_request_log_records_faulted_requests_with_their_status(
    api_cluster: FakeCluster, client: httpx.AsyncClient
) -> None:
    api_cluster.requests.clear()
    api_cluster.faults.fail_next(429, count=2, verb="list")
    for _ in range(3):
        await client.get(DEFAULT_CMS)
    assert [r.status for r in api_cluster.requests] == [429, 429, 200]
    assert all(r.verb == "list" and r.user == "fake-admin" for r in api_cluster.requests)


def test_request_log_keeps_the_most_recent_records() -> None:
    log = RequestLog(maxlen=3)
    for i in range(5):
        log.append(RequestRecord(method="GET", path=f"/api/v1/namespaces/n{i}", query={}))
    assert len(log) == 3
    assert [r.path for r in log] == [f"/api/v1/namespaces/n{i}" for i in (2, 3, 4)]
    assert [r.path for r in log.filter(path="/api/v1/namespaces/n4")] == ["/api/v1/namespaces/n4"]
