"""Port-forward over the WebSocket channel protocol (the kubelet's), and the official client.

Every frame is checked exactly: the port prefix each channel starts with, bytes through the
registered handler, the error channel's text, the close. Pods are made Running by hand on an
API-only cluster (no simulated kubelet needed): bound to a node, phase Running.
"""

from __future__ import annotations

import base64
import functools
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from support import CORE, failure
from wsclient import WSClient, WSRejected, open_ws

from kr8s_trio.testing import FakeCluster, ForwardedStream, PortRefused, run_fake_cluster_in_thread

JSON = dict[str, Any]
V4 = "v4.channel.k8s.io"
V5 = "v5.channel.k8s.io"

#: what a containerd node writes when nothing listens on the port (sandbox id: 64 hex digits)
REFUSED = re.compile(
    r"error forwarding port (?P<port>\d+) to pod (?P<sandbox>[0-9a-f]{64}), uid : "
    r'failed to execute portforward in network namespace "/var/run/netns/cni-[0-9a-f-]{36}": '
    r'failed to connect to localhost:(?P=port) inside namespace "(?P=sandbox)", '
    r"IPv4: dial tcp4 127\.0\.0\.1:(?P=port): connect: connection refused "
    r"IPv6 dial tcp6 \[::1\]:(?P=port): connect: connection refused $"
)


def pod_body(
    name: str = "web", *, ports: tuple[int, ...] = (80,), node: str | None = "node-1"
) -> JSON:
    spec: JSON = {
        "containers": [
            {"name": "c", "image": "nginx", "ports": [{"containerPort": p} for p in ports]}
        ]
    }
    if node is not None:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def running_pod(cluster: FakeCluster, name: str = "web", **kwargs: Any) -> JSON:
    cluster.create(pod_body(name, **kwargs))
    return cluster.patch_status("pods", name, {"phase": "Running"})


def path(ports: str, pod: str = "web") -> str:
    return f"{CORE}/pods/{pod}/portforward?ports={ports}"


def prefix(channel: int, port: int) -> bytes:
    return bytes([channel]) + port.to_bytes(2, "little")


@pytest.fixture
async def cluster(api_cluster: FakeCluster) -> FakeCluster:
    running_pod(api_cluster)
    return api_cluster


async def read_prefixes(ws: WSClient, *ports: int) -> None:
    for index, port in enumerate(ports):
        assert await ws.receive() == prefix(2 * index, port)
        assert await ws.receive() == prefix(2 * index + 1, port)


async def echo_upper(stream: ForwardedStream) -> None:
    while data := await stream.receive_some():
        await stream.send_all(data.upper())


# -- negotiation --------------------------------------------------------------------------------


async def test_portforward_picks_v4_when_v5_is_offered_first(cluster: FakeCluster) -> None:
    async with open_ws(cluster, path("80"), subprotocols=[V5, V4]) as ws:
        assert ws.subprotocol == V4
        await read_prefixes(ws, 80)


async def test_portforward_accepts_no_subprotocol(cluster: FakeCluster) -> None:
    async with open_ws(cluster, path("443")) as ws:
        assert ws.subprotocol is None
        await read_prefixes(ws, 443)


async def test_portforward_refuses_unsupported_subprotocols(cluster: FakeCluster) -> None:
    with pytest.raises(WSRejected) as info:
        async with open_ws(cluster, path("80"), subprotocols=[V5]):
            pass
    # Go's WebSocket server (the kubelet's) refuses a failed handshake with a bare 403
    assert (info.value.status, info.value.body) == (403, b"")


# -- what is refused before the upgrade ---------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ("", 'query parameter "port" cannot be empty'),
        (
            "abc",
            'unable to parse "abc" as a port: strconv.ParseUint: parsing "abc": invalid syntax',
        ),
        (
            "80,x",
            'unable to parse "80,x" as a port: strconv.ParseUint: parsing "x": invalid syntax',
        ),
        ("0", 'port "0" must be > 0'),
        (
            "70000",
            'unable to parse "70000" as a port: strconv.ParseUint: parsing "70000": '
            "value out of range",
        ),
    ],
)
async def test_portforward_refuses_bad_ports(
    cluster: FakeCluster, ports: str, message: str
) -> None:
    with pytest.raises(WSRejected) as info:
        async with open_ws(cluster, path(ports), subprotocols=[V4]):
            pass
    # the kubelet's refusals are plain text, passed through by the API server
    assert (info.value.status, info.value.body) == (400, message.encode())


async def test_portforward_requires_ports(cluster: FakeCluster) -> None:
    with pytest.raises(WSRejected) as info:
        async with open_ws(cluster, f"{CORE}/pods/web/portforward", subprotocols=[V4]):
            pass
    assert (info.value.status, info.value.body) == (400, b'query parameter "port" is required')


async def test_portforward_refuses_missing_unbound_and_stopped_pods(
    api_cluster: FakeCluster,
) -> None:
    with pytest.raises(WSRejected) as info:
        async with open_ws(api_cluster, path("80", "nope"), subprotocols=[V4]):
            pass
    assert info.value.json() == failure(
        404, "NotFound", 'pods "nope" not found', {"name": "nope", "kind": "pods"}
    )
    api_cluster.create(pod_body("unbound", node=None))
    with pytest.raises(WSRejected) as info:
        async with open_ws(api_cluster, path("80", "unbound"), subprotocols=[V4]):
            pass
    assert info.value.json() == failure(
        400, "BadRequest", "pod unbound does not have a host assigned"
    )
    api_cluster.create(pod_body("pending"))
    with pytest.raises(WSRejected) as info:
        async with open_ws(api_cluster, path("80", "pending"), subprotocols=[V4]):
            pass
    assert (info.value.status, info.value.body) == (500, b'pod not found ("pending_default")')
    records = api_cluster.requests.filter(subresource="portforward")
    assert [(r.name, r.status) for r in records] == [
        ("nope", 404),
        ("unbound", 400),
        ("pending", 500),
    ]


# -- bytes through handlers --------------------------------------------------------------------


async def test_portforward_carries_bytes_both_ways(cluster: FakeCluster) -> None:
    seen: list[tuple[str, str, int]] = []

    async def handler(stream: ForwardedStream) -> None:
        seen.append((stream.namespace, stream.pod, stream.port))
        await echo_upper(stream)

    cluster.ports.register("default", "web", 80, handler)
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        await ws.send(b"\x00hello")
        assert await ws.receive() == b"\x00HELLO"
        await ws.send(b"\x00again")
        assert await ws.receive() == b"\x00AGAIN"
    assert seen == [("default", "web", 80)]


async def test_portforward_default_http_responder(cluster: FakeCluster) -> None:
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        await ws.send(b"\x00GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        body = b"fake pod default/web port 80: GET /one\n"
        answer = b"".join([(await ws.receive())[1:] for _ in range(2)])  # type: ignore[index]
        assert answer == (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 39\r\n\r\n" + body
        )
        # keep-alive: a second request on the same connection, which then closes
        await ws.send(b"\x00POST /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        rest = await ws.receive_all()
    assert b"".join(m[1:] for m in rest if isinstance(m, bytes)) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: 40\r\nConnection: close\r\n\r\n"
        b"fake pod default/web port 80: POST /two\n"
    )
    assert ws.close_code == 1000


async def test_portforward_unserved_port_writes_the_error_channel(cluster: FakeCluster) -> None:
    errors = []
    for _ in range(2):
        async with open_ws(cluster, path("81"), subprotocols=[V4]) as ws:
            await read_prefixes(ws, 81)
            messages = await ws.receive_all()
        assert ws.close_code == 1000
        assert len(messages) == 1
        message = messages[0]
        assert isinstance(message, bytes)
        assert message[0] == 1
        errors.append(message[1:].decode())
    assert REFUSED.fullmatch(errors[0]), errors[0]
    assert errors[0] == errors[1]  # the sandbox id is the pod's, stable across sessions


async def test_portforward_handler_refusing_or_failing(cluster: FakeCluster) -> None:
    async def refuse(stream: ForwardedStream) -> None:
        raise PortRefused()

    async def fail(stream: ForwardedStream) -> None:
        raise RuntimeError("boom")

    cluster.ports.register("default", "web", 80, refuse)
    cluster.ports.register("default", "web", 81, fail)
    async with open_ws(cluster, path("80,81"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80, 81)
        messages = sorted(m for m in await ws.receive_all() if isinstance(m, bytes))
    assert [m[0] for m in messages] == [1, 3]
    assert REFUSED.fullmatch(messages[0][1:].decode())
    sandbox = REFUSED.fullmatch(messages[0][1:].decode())["sandbox"]  # type: ignore[index]
    assert messages[1][1:].decode() == f"error forwarding port 81 to pod {sandbox}, uid : boom"


async def test_portforward_several_ports_in_one_session(cluster: FakeCluster) -> None:
    async def tagged(stream: ForwardedStream) -> None:
        data = await stream.receive_some()
        await stream.send_all(f"{stream.port}:".encode() + data)

    cluster.ports.register("default", "web", 8080, tagged)
    cluster.ports.register("default", "web", 9090, tagged)
    async with open_ws(cluster, path("8080,9090"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 8080, 9090)
        await ws.send(b"\x02second")
        assert await ws.receive() == b"\x029090:second"
        await ws.send(b"\x00first")
        assert await ws.receive() == b"\x008080:first"
        assert await ws.receive() is None  # both handlers done: the session ends
    assert ws.close_code == 1000


async def test_portforward_ignores_client_writes_to_error_and_unknown_channels(
    cluster: FakeCluster,
) -> None:
    cluster.ports.register("default", "web", 80, echo_upper)
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        for junk in (b"\x01err", b"\x07far", b""):
            await ws.send(junk)
        await ws.send(b"\x00ok")
        assert await ws.receive() == b"\x00OK"


async def test_portforward_client_close_ends_the_handler(cluster: FakeCluster) -> None:
    got_eof = trio.Event()
    finished = trio.Event()

    async def handler(stream: ForwardedStream) -> None:
        try:
            assert await stream.receive_some() == b""
            got_eof.set()
            await trio.sleep_forever()
        finally:
            finished.set()

    cluster.ports.register("default", "web", 80, handler)
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        await ws.close()
    with trio.fail_after(5):
        await finished.wait()
    assert got_eof.is_set()


async def test_portforward_handler_exit_closes_the_session(cluster: FakeCluster) -> None:
    async def goodbye(stream: ForwardedStream) -> None:
        await stream.send_all(b"bye")

    cluster.ports.register("default", None, 80, goodbye)  # every pod of the namespace
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        assert await ws.receive_all() == [b"\x00bye"]
    assert ws.close_code == 1000


async def test_portforward_base64_protocol(cluster: FakeCluster) -> None:
    cluster.ports.register("default", "web", 80, echo_upper)
    async with open_ws(cluster, path("80"), subprotocols=["v4.base64.channel.k8s.io"]) as ws:
        assert ws.subprotocol == "v4.base64.channel.k8s.io"
        assert await ws.receive() == "0" + base64.b64encode(b"\x50\x00").decode()
        assert await ws.receive() == "1" + base64.b64encode(b"\x50\x00").decode()
        await ws.send_text("0" + base64.b64encode(b"abc").decode())
        assert await ws.receive() == "0" + base64.b64encode(b"ABC").decode()


async def test_portforward_proxies_to_a_target(cluster: FakeCluster) -> None:
    async def serve(stream: trio.SocketStream) -> None:
        async with stream:
            data = await stream.receive_some()
            await stream.send_all(b"target got " + data)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, serve, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        cluster.ports.register("default", "web", 80, ("127.0.0.1", port))
        async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
            await read_prefixes(ws, 80)
            await ws.send(b"\x00ping")
            assert await ws.receive() == b"\x00target got ping"
            assert await ws.receive() is None  # the target closed: so does the session
        # a target nobody listens on refuses, as an unserved port does
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        cluster.ports.register("default", "web", 80, ("127.0.0.1", closed_port))
        async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
            await read_prefixes(ws, 80)
            (message,) = await ws.receive_all()
        assert isinstance(message, bytes)
        assert REFUSED.fullmatch(message[1:].decode())
        nursery.cancel_scope.cancel()


async def test_portforward_registry_unregister_and_default(cluster: FakeCluster) -> None:
    cluster.ports.register("default", "web", 80, echo_upper)
    cluster.ports.unregister("default", "web", 80)
    cluster.ports.default = None  # declared ports refuse too
    async with open_ws(cluster, path("80"), subprotocols=[V4]) as ws:
        await read_prefixes(ws, 80)
        (message,) = await ws.receive_all()
    assert isinstance(message, bytes)
    assert REFUSED.fullmatch(message[1:].decode())
    with pytest.raises(ValueError, match="out of range"):
        cluster.ports.register("default", "web", 0, echo_upper)


# -- the official client ------------------------------------------------------------------------


@pytest.fixture
def threaded() -> Iterator[Any]:
    with run_fake_cluster_in_thread(kubelet=False, controllers=False) as handle:
        yield handle


def test_official_client_portforward_reaches_the_handler(threaded: Any, tmp_path: Any) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import portforward

    async def greet(stream: ForwardedStream) -> None:
        data = await stream.receive_some()
        await stream.send_all(b"hello " + data)

    threaded.call(lambda c: running_pod(c))
    threaded.call(lambda c: c.ports.register("default", "web", 8080, greet))
    api = kubernetes.config.new_client_from_config(str(threaded.kubeconfig_path))
    try:
        core = kubernetes.client.CoreV1Api(api)
        pf = portforward(
            core.connect_get_namespaced_pod_portforward, "web", "default", ports="8080,80,81"
        )
        sock = pf.socket(8080)
        sock.sendall(b"python")
        assert sock.recv(1024) == b"hello python"
        http = pf.socket(80)
        http.sendall(b"GET /py HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := http.recv(4096):
            answer += chunk
        assert answer.endswith(b"\r\n\r\nfake pod default/web port 80: GET /py\n")
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        refused = pf.socket(81)
        assert refused.recv(10) == b""
        assert REFUSED.fullmatch(pf.error(81) or "")
        assert pf.error(8080) is None
        pf.close()
        # the client's proxy thread closes the WebSocket once every local socket is closed
        for thread in threading.enumerate():
            if thread.name.startswith("Kubernetes port forward proxy"):
                thread.join(10)
        assert not pf.connected
        # after a close from the server the client leaves its socket open: release it here
        pf.websocket.shutdown()
    finally:
        api.close()
    (request,) = threaded.requests.filter(subresource="portforward")
    assert request.query == {"ports": ["8080,80,81"]}
    assert request.status == 101
