"""The transport under `Api`: retries and backoff on trio's clock, timeouts, error mapping, the
rate limiter, the headers and TLS/proxy settings, and a cancellation suite (cancel at each phase
of call_api; no connection is left busy).

Time-dependent tests run under an autojumping MockClock, with no default timeouts on the client
where a timeout is not the point (the clock jumps whenever every task waits, on the network too).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from test_api import NO_RETRY, closed_port, cluster_config, configmap, make_api

from kr8s_trio import (
    Api,
    APITimeoutError,
    RetryPolicy,
    ServerError,
    TooManyRequestsError,
    TransportError,
)
from kr8s_trio._transport import (
    USER_AGENT,
    TokenBucket,
    map_httpx_errors,
    parse_retry_after,
)
from kr8s_trio.testing import FakeCluster, open_fake_cluster

CMS = {"url": "configmaps", "namespace": "default"}


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


def statuses(cluster: FakeCluster) -> list[int | None]:
    return [r.status for r in cluster.requests]


def pool_is_quiet(api: Api) -> bool:
    """No request in flight and no connection busy in the client's pool."""
    assert api._http is not None
    pool = api._http._transport._pool  # type: ignore[attr-defined]
    return not pool._requests and all(c.is_idle() or c.is_closed() for c in pool.connections)


async def get_json(api: Api, **call: Any) -> Any:
    async with api.call_api("GET", **call) as r:
        return await r.json()


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.ConnectError("refused"), TransportError),
        (httpx.RemoteProtocolError("bad"), TransportError),
        (httpx.ReadError("reset"), TransportError),
    ],
)
def test_transport_maps_httpx_errors(error: httpx.RequestError, mapped: type[Exception]) -> None:
    with pytest.raises(mapped) as info, map_httpx_errors():
        raise error
    assert type(info.value) is mapped
    assert info.value.__cause__ is error


def test_transport_leaves_other_errors_alone() -> None:
    with pytest.raises(KeyError), map_httpx_errors():
        raise KeyError("x")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("soon", None), ("nan", None)],
)
def test_transport_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_transport_parse_retry_after_http_date() -> None:
    seconds = parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
    assert seconds is not None
    assert seconds > 1e8
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# -- retries --------------------------------------------------------------------------------------


async def test_retry_429_honours_retry_after(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    cluster.faults.fail_next(429, retry_after=7, verb="list")
    async with make_api(cluster, timeout=None) as api:
        t0 = trio.current_time()
        listed = await get_json(api, **CMS)
        elapsed = trio.current_time() - t0
    assert listed["kind"] == "ConfigMapList"
    assert statuses(cluster) == [429, 200]
    assert elapsed >= 7


async def test_retry_5xx_with_jittered_backoff(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    cluster.faults.fail_next(503, count=3, verb="list")
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0)
    async with make_api(cluster, timeout=None, retry=policy) as api:
        t0 = trio.current_time()
        await get_json(api, **CMS)
        elapsed = trio.current_time() - t0
    assert statuses(cluster) == [503, 503, 503, 200]
    assert 0 < elapsed <= 1 + 2 + 4


async def test_retry_gives_up_after_max_attempts(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    cluster.faults.fail_next(503, count=10, verb="list")
    async with make_api(cluster, timeout=None, retry=RetryPolicy(max_attempts=3)) as api:
        with pytest.raises(ServerError) as info:
            await get_json(api, **CMS)
    assert info.value.code == 503
    assert info.value.reason == "ServiceUnavailable"
    assert statuses(cluster) == [503, 503, 503]


async def test_retry_after_beyond_max_wait_is_not_waited_for(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    cluster.faults.fail_next(429, retry_after=60, verb="list")
    async with make_api(cluster, timeout=None, retry=RetryPolicy(max_wait=30)) as api:
        t0 = trio.current_time()
        with pytest.raises(TooManyRequestsError) as info:
            await get_json(api, **CMS)
        assert trio.current_time() - t0 < 1
    assert info.value.retry_after == 60
    assert statuses(cluster) == [429]


async def test_retry_post_on_apf_429_but_not_on_5xx(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    async with make_api(cluster, timeout=None) as api:
        # APF rejects before the request is executed (plain text 429): safe to send again
        cluster.faults.fail_next(429, verb="create")
        async with api.call_api("POST", json=configmap("a"), **CMS) as r:
            assert r.status_code == 201
        # a 5xx may come after the object was written: not retried
        cluster.faults.fail_next(503, verb="create")
        with pytest.raises(ServerError):
            async with api.call_api("POST", json=configmap("b"), **CMS):
                pass
    assert statuses(cluster) == [429, 201, 503]


async def test_retry_connect_errors_then_transport_error(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    config = cluster_config(cluster)
    config = type(config)(
        server=f"https://127.0.0.1:{closed_port()}",
        ssl_context=config.ssl_context,
        auth=config.auth,
    )
    attempts = 0

    async def count(request: httpx.Request) -> None:
        nonlocal attempts
        attempts += 1

    async with make_api(cluster, config, timeout=None, retry=RetryPolicy(max_attempts=3)) as api:
        assert api._http is not None
        api._http.event_hooks["request"].append(count)
        with pytest.raises(TransportError) as info:
            # POST too: the request never left
            async with api.call_api("POST", json=configmap("x"), **CMS):
                pass
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert attempts == 3


async def test_retry_after_a_read_timeout(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    cluster.faults.delay_headers(60, verb="list")
    async with make_api(cluster, timeout=5) as api:
        t0 = trio.current_time()
        await get_json(api, **CMS)
        assert trio.current_time() - t0 >= 5
        cluster.faults.delay_headers(60, verb="list")
        api._retry = NO_RETRY
        with pytest.raises(APITimeoutError) as info:
            await get_json(api, **CMS)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_streams_have_no_read_timeout(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    async def quiet_stream(api: Api, **call: Any) -> None:
        async with api.call_api("GET", **call, **CMS) as r:
            async for _ in r.aiter_lines():
                pass

    async with make_api(cluster, timeout=5) as api:
        # a watch (implied by its params) waits for events as long as it takes
        with trio.move_on_after(60) as scope:
            await quiet_stream(api, params={"watch": "true"})
        assert scope.cancelled_caught
        # so does any request marked streaming=True
        cluster.faults.trickle_body(chunk_size=10, interval=20, verb="list")
        with trio.move_on_after(60) as scope:
            await quiet_stream(api, streaming=True)
        assert scope.cancelled_caught
        # the default read timeout applies to everything else
        cluster.faults.trickle_body(chunk_size=10, interval=20, verb="list")
        with pytest.raises(APITimeoutError):
            await quiet_stream(api)


async def test_transport_reset_mid_body_is_a_transport_error(
    cluster: FakeCluster, http2: bool
) -> None:
    cluster.create(configmap("a"))
    cluster.create(configmap("b"))
    lines: list[str] = []

    async def watch(api: Api) -> None:
        params = {"watch": "true", "resourceVersion": "0"}
        async with api.call_api("GET", params=params, **CMS) as r:
            async for line in r.aiter_lines():
                lines.append(line)
                if len(lines) == 2:
                    # the server's connection is reset (TCP RST) after two events
                    assert cluster.faults.drop_active_watches(mode="reset") == 1

    async with make_api(cluster, http2=http2) as api:
        with trio.fail_after(10), pytest.raises(TransportError):
            await watch(api)
        assert len(lines) == 2
        assert pool_is_quiet(api)
        # not retried (the body had started); the next request gets a new connection
        assert (await api.version())["major"] == "1"
    assert len(cluster.requests.filter(verb="watch")) == 1


# -- rate limiting --------------------------------------------------------------------------------


async def test_token_bucket_bursts_then_paces(autojump_clock: trio.testing.MockClock) -> None:
    bucket = TokenBucket(qps=10, burst=3)
    t0 = trio.current_time()
    times = []
    for _ in range(6):
        await bucket.acquire()
        times.append(round(trio.current_time() - t0, 6))
    assert times == [0, 0, 0, 0.1, 0.2, 0.3]
    await trio.sleep(10)  # refills up to the burst, no more
    t1 = trio.current_time()
    for _ in range(4):
        await bucket.acquire()
    assert trio.current_time() - t1 == pytest.approx(0.1)


async def test_token_bucket_serves_waiters_in_order_and_refunds_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(qps=1, burst=1)
    await bucket.acquire()
    with trio.move_on_after(0.5):
        await bucket.acquire()  # would be due at 1.0: cancelled, the token goes back
    order: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        order.append(i)

    t0 = trio.current_time()
    async with trio.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(take, i)
            await trio.testing.wait_all_tasks_blocked()
    assert order == [0, 1, 2]
    assert trio.current_time() - t0 == pytest.approx(2.5)


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="qps"):
        TokenBucket(qps=0)


async def test_api_rate_limit_exempts_watches(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    async with make_api(cluster, timeout=None, qps=2, burst=1) as api:
        t0 = trio.current_time()
        for _ in range(5):
            await get_json(api, **CMS)
        assert trio.current_time() - t0 == pytest.approx(2.0, abs=0.01)
        t1 = trio.current_time()
        async with api.call_api("GET", params={"watch": "1", "timeoutSeconds": "1"}, **CMS) as r:
            await r.read()
        # the watch did not wait for a token (it lasted its timeoutSeconds)
        assert trio.current_time() - t1 == pytest.approx(1.0, abs=0.01)


# -- headers, TLS, proxies ------------------------------------------------------------------------


async def test_transport_headers(cluster: FakeCluster) -> None:
    config = cluster_config(
        cluster,
        impersonate=(("Impersonate-User", "jane"), ("Impersonate-Group", "devs")),
        disable_compression=True,
    )
    async with make_api(cluster, config) as api:
        assert await api.whoami() == "jane"
        assert api._http is not None
        assert api._http.headers["accept-encoding"] == "identity"
    record = cluster.requests.records[-1]
    assert record.user_agent == USER_AGENT
    assert USER_AGENT.startswith("kr8s_trio/")
    assert record.impersonation == {"impersonate-user": "jane", "impersonate-group": "devs"}
    assert record.user == "jane"


async def test_transport_tls_server_name_is_verified(cluster: FakeCluster) -> None:
    async with make_api(cluster, cluster_config(cluster, tls_server_name="localhost")) as api:
        assert (await api.version())["major"] == "1"
    wrong = cluster_config(cluster, tls_server_name="wrong.example")
    attempts = 0

    async def count(request: httpx.Request) -> None:
        nonlocal attempts
        attempts += 1

    async with make_api(cluster, wrong) as api:
        assert api._http is not None
        api._http.event_hooks["request"].append(count)
        with pytest.raises(TransportError, match=r"wrong\.example"):
            await api.version()
    assert attempts == 1  # a rejected certificate is not tried again


async def test_transport_proxies_from_env_and_config(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with make_api(cluster, retry=NO_RETRY) as api:
        with pytest.raises(TransportError):
            await api.version()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with make_api(cluster, retry=NO_RETRY) as api:
        assert (await api.version())["major"] == "1"
    # the context's proxy-url wins over the environment
    via_proxy = cluster_config(cluster, proxy_url=dead_proxy)
    async with make_api(cluster, via_proxy, retry=NO_RETRY) as api:
        with pytest.raises(TransportError):
            await api.version()


async def test_transport_tunnels_through_the_contexts_proxy(cluster: FakeCluster) -> None:
    """``proxy-url``: HTTPS goes through the proxy's CONNECT tunnel (a loopback proxy here)."""
    tunnels: list[bytes] = []

    async def pipe(source: trio.SocketStream, sink: trio.SocketStream) -> None:
        try:
            while data := await source.receive_some(65536):
                await sink.send_all(data)
            await sink.send_eof()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def handle(client: trio.SocketStream) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await client.receive_some(4096)
            if not chunk:
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0]
        tunnels.append(request_line)
        method, target, _ = request_line.split(b" ")
        assert method == b"CONNECT"
        host, port = target.rsplit(b":", 1)
        upstream = await trio.open_tcp_stream(host.decode(), int(port))
        await client.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        async with upstream, client, trio.open_nursery() as nursery:
            nursery.start_soon(pipe, client, upstream)
            nursery.start_soon(pipe, upstream, client)

    async with trio.open_nursery() as nursery:
        serve = functools.partial(trio.serve_tcp, handle, 0, host="127.0.0.1")
        (listener,) = await nursery.start(serve)
        proxy = f"http://127.0.0.1:{listener.socket.getsockname()[1]}"
        async with make_api(cluster, cluster_config(cluster, proxy_url=proxy)) as api:
            assert (await api.version())["major"] == "1"
        nursery.cancel_scope.cancel()
    netloc = cluster.url.removeprefix("https://").encode()
    assert tunnels == [b"CONNECT " + netloc + b" HTTP/1.1"]


# -- cancellation at each phase -------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["http2", "http1"])
def http2(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_cancel_while_connecting(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, http2: bool
) -> None:
    # a listener that never accepts: TCP connects (the backlog), TLS never answers
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    config = cluster_config(cluster)
    config = type(config)(
        server=f"https://127.0.0.1:{port}", ssl_context=config.ssl_context, auth=config.auth
    )
    async with make_api(cluster, config, timeout=None, http2=http2) as api:
        with trio.move_on_after(5) as scope:
            await api.version()
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
    for listener in listeners:
        await listener.aclose()


async def test_cancel_while_waiting_to_retry(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, http2: bool
) -> None:
    cluster.faults.fail_next(429, retry_after=10, verb="list")
    async with make_api(cluster, timeout=None, http2=http2) as api:
        with trio.move_on_after(5) as scope:
            await get_json(api, **CMS)
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
    assert statuses(cluster) == [429]


async def test_cancel_while_waiting_for_the_rate_limiter(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster
) -> None:
    async with make_api(cluster, timeout=None, qps=0.1, burst=1) as api:
        await get_json(api, **CMS)
        with trio.move_on_after(5) as scope:
            await get_json(api, **CMS)
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
        # the cancelled request's token was given back: the next one is due at t=10
        t0 = trio.current_time()
        await get_json(api, **CMS)
        assert trio.current_time() - t0 == pytest.approx(5, abs=0.01)
    assert statuses(cluster) == [200, 200]


async def test_cancel_while_waiting_for_headers(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, http2: bool
) -> None:
    cluster.faults.delay_headers(60, verb="list")
    async with make_api(cluster, timeout=None, http2=http2) as api:
        with trio.move_on_after(5) as scope:
            await get_json(api, **CMS)
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
        assert (await get_json(api, **CMS))["kind"] == "ConfigMapList"


async def test_cancel_while_reading_the_body(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, http2: bool
) -> None:
    for i in range(20):
        cluster.create(configmap(f"cm-{i}"))
    cluster.faults.trickle_body(chunk_size=100, interval=1, verb="list")
    async with make_api(cluster, timeout=None, http2=http2) as api:
        with trio.move_on_after(5) as scope:
            async with api.call_api("GET", **CMS) as r:
                await r.read()
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
        assert len((await get_json(api, **CMS))["items"]) == 20


async def test_cancel_mid_watch(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, http2: bool
) -> None:
    cluster.faults.stall_watch()
    async with make_api(cluster, timeout=None, http2=http2) as api:
        with trio.move_on_after(5) as scope:
            async with api.call_api("GET", params={"watch": "true"}, **CMS) as r:
                async for _ in r.aiter_lines():
                    pass
        assert scope.cancelled_caught
        assert pool_is_quiet(api)
        await trio.testing.wait_all_tasks_blocked()
        assert cluster.faults.active_watches() == []
