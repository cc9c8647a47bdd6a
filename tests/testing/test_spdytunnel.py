"""Port-forward over SPDY/3.1 tunnelled in a WebSocket, as kubectl 1.31+ speaks it.

A SPDY client written here (the codec's encoder on the client's side) drives the tunnel frame
by frame; test_kubectl_portforward.py does the same with the real kubectl.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio
import trio.testing
from support import CORE
from wsclient import WSClient, WSRejected, open_ws

from kr8s_trio.testing import FakeCluster, ForwardedStream
from kr8s_trio.testing._spdy import (
    DataFrame,
    Frame,
    FrameDecoder,
    GoAway,
    HeaderCompressor,
    Ping,
    RstStream,
    SynReply,
    SynStream,
    WindowUpdate,
    encode_frame,
)

TUNNEL = "SPDY/3.1+portforward.k8s.io"
PATH = f"{CORE}/pods/web/portforward"
REFUSED = re.compile(
    r"error forwarding port 81 to pod (?P<sandbox>[0-9a-f]{64}), uid : failed to execute "
    r'portforward in network namespace "/var/run/netns/cni-[0-9a-f-]{36}": failed to connect '
    r'to localhost:81 inside namespace "(?P=sandbox)", IPv4: dial tcp4 127\.0\.0\.1:81: connect: '
    r"connection refused IPv6 dial tcp6 \[::1\]:81: connect: connection refused $"
)


def pod_manifest(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}],
        },
    }


@pytest.fixture
async def cluster(api_cluster: FakeCluster) -> FakeCluster:
    api_cluster.create(pod_manifest())
    api_cluster.patch_status("pods", "web", {"phase": "Running"})
    return api_cluster


class SpdyClient:
    """kubectl's half of the tunnel: streams opened by request, frames read back one by one."""

    def __init__(self, ws: WSClient, *, chunk: int | None = None) -> None:
        self.ws = ws
        self.chunk = chunk
        self.compressor = HeaderCompressor()
        self.decoder = FrameDecoder()
        self.pending: list[Frame] = []

    async def send(self, *frames: Frame) -> None:
        data = b"".join(encode_frame(f, self.compressor) for f in frames)
        size = self.chunk or len(data)
        for start in range(0, len(data), size):  # the tunnel is a byte stream: split anyhow
            await self.ws.send(data[start : start + size])

    async def next(self) -> Frame | None:
        while not self.pending:
            message = await self.ws.receive()
            if message is None:
                return None
            assert isinstance(message, bytes)
            self.decoder.feed(message)
            self.pending.extend(self.decoder.frames())
        return self.pending.pop(0)

    async def connect(self, request: int, port: int, first: int) -> None:
        """Open the error stream, then the data stream (ids ``first``, ``first + 2``)."""
        headers = {"streamType": "error", "port": str(port), "requestID": str(request)}
        await self.send(SynStream(first, headers))
        assert await self.next() == SynReply(first, {})
        await self.send(DataFrame(first, fin=True))  # kubectl never writes on it
        await self.send(SynStream(first + 2, {**headers, "streamType": "data"}))
        assert await self.next() == SynReply(first + 2, {})


async def echo_upper(stream: ForwardedStream) -> None:
    while data := await stream.receive_some():
        await stream.send_all(data.upper())
    await stream.send_all(b"<eof>")


# -- negotiation and refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "status", "text"),
    [
        (
            ["SPDY/3.1+portforward.example.com"],
            400,
            b"unable to upgrade: no tunneling spdy protocols provided\n",
        ),
        (
            ["SPDY/3.1+v2.portforward.k8s.io"],
            403,
            b"unable to upgrade: unable to negotiate protocol: client supports "
            b"[v2.portforward.k8s.io], server accepts [portforward.k8s.io]\n",
        ),
    ],
)
async def test_spdy_tunnel_refuses_unknown_protocols(
    cluster: FakeCluster, offer: list[str], status: int, text: bytes
) -> None:
    with pytest.raises(WSRejected) as info:
        async with open_ws(cluster, PATH, subprotocols=offer):
            pass
    assert (info.value.status, info.value.body) == (status, text)


async def test_spdy_tunnel_needs_a_running_pod_but_no_ports(api_cluster: FakeCluster) -> None:
    api_cluster.create(pod_manifest())
    with pytest.raises(WSRejected) as info:
        async with open_ws(api_cluster, PATH, subprotocols=[TUNNEL]):
            pass
    assert (info.value.status, info.value.body) == (500, b'pod not found ("web_default")')
    api_cluster.patch_status("pods", "web", {"phase": "Running"})
    async with open_ws(api_cluster, PATH, subprotocols=[TUNNEL]) as ws:
        assert ws.subprotocol == TUNNEL


# -- connections --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [None, 1, 7])
async def test_spdy_tunnel_forwards_both_ways_then_closes_both_streams(
    cluster: FakeCluster, chunk: int | None
) -> None:
    cluster.ports.register("default", "web", 5432, echo_upper)
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws, chunk=chunk)
        await client.connect(0, 5432, 1)
        await client.send(DataFrame(3, b"hello"))
        assert await client.next() == DataFrame(3, b"HELLO")
        await client.send(DataFrame(3, b"bye", fin=True))
        assert [await client.next() for _ in range(4)] == [
            DataFrame(3, b"BYE"),
            DataFrame(3, b"<eof>"),
            DataFrame(1, b"", fin=True),  # no error: the error stream just ends
            DataFrame(3, b"", fin=True),
        ]
        # the session outlives its connections: a second one on the same tunnel
        await client.connect(1, 5432, 5)
        await client.send(DataFrame(7, b"again", fin=True))
        assert await client.next() == DataFrame(7, b"AGAIN")


async def test_spdy_tunnel_default_responder_and_refused_port(cluster: FakeCluster) -> None:
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.connect(0, 80, 1)
        await client.send(DataFrame(3, b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
        received = b""
        while (frame := await client.next()) != DataFrame(3, b"", fin=True):
            assert isinstance(frame, DataFrame)
            received += frame.data
        assert received == (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 37\r\nConnection: close\r\n\r\n"
            b"fake pod default/web port 80: GET /x\n"
        )
        await client.connect(1, 81, 5)
        error = await client.next()
        assert isinstance(error, DataFrame)
        assert error.stream_id == 5
        assert REFUSED.fullmatch(error.data.decode()), error.data
        assert [await client.next() for _ in range(2)] == [
            DataFrame(5, b"", fin=True),
            DataFrame(7, b"", fin=True),
        ]


async def test_spdy_tunnel_resets_bad_streams_and_echoes_pings(cluster: FakeCluster) -> None:
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.send(
            SynStream(1, {"streamType": "data"}),  # no port
            SynStream(3, {"streamType": "stdin", "port": "80"}),
            SynStream(5, {"streamType": "data", "port": "0"}),
            Ping(1),
        )
        answers = [await client.next() for _ in range(4)]
        assert [f for f in answers if isinstance(f, RstStream)] == [
            RstStream(1, 5),  # CANCEL, as the kubelet's spdystream resets them
            RstStream(3, 5),
            RstStream(5, 5),
        ]
        assert Ping(1) in answers


async def test_spdy_tunnel_pairs_streams_without_request_ids(cluster: FakeCluster) -> None:
    cluster.ports.register("default", "web", 5432, echo_upper)
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.send(SynStream(1, {"streamType": "error", "port": "5432"}))
        await client.send(SynStream(3, {"streamType": "data", "port": "5432"}))
        assert [await client.next() for _ in range(2)] == [SynReply(1, {}), SynReply(3, {})]
        await client.send(DataFrame(3, b"old client"))
        assert await client.next() == DataFrame(3, b"OLD CLIENT")


async def test_spdy_tunnel_reset_cancels_the_handler(cluster: FakeCluster) -> None:
    finished = trio.Event()

    async def stubborn(stream: ForwardedStream) -> None:
        try:
            await stream.send_all(b"ready")
            await trio.sleep_forever()
        finally:
            finished.set()

    cluster.ports.register("default", "web", 5432, stubborn)
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.connect(0, 5432, 1)
        assert await client.next() == DataFrame(3, b"ready")
        await client.send(RstStream(3, 5))
        with trio.fail_after(5):
            await finished.wait()
        assert await client.next() == DataFrame(1, b"", fin=True)  # the error stream still ends


async def test_spdy_tunnel_announces_consumed_data(cluster: FakeCluster) -> None:
    read = trio.Event()

    async def sink(stream: ForwardedStream) -> None:
        total = 0
        while total < 40_000:
            total += len(await stream.receive_some())
        read.set()
        await trio.sleep_forever()

    cluster.ports.register("default", "web", 5432, sink)
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.connect(0, 5432, 1)
        await client.send(DataFrame(3, b"z" * 40_000))
        updates = [await client.next(), await client.next()]
        assert sorted(updates, key=repr) == [WindowUpdate(0, 40_000), WindowUpdate(3, 40_000)]
        assert read.is_set()


async def test_spdy_tunnel_incomplete_pair_times_out(
    cluster: FakeCluster, mock_clock: trio.testing.MockClock
) -> None:
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.send(SynStream(1, {"streamType": "error", "port": "80", "requestID": "4"}))
        assert await client.next() == SynReply(1, {})
        mock_clock.jump(30)
        assert await client.next() == DataFrame(
            1, b"(conn=spdy, request=4) timed out waiting for streams"
        )
        assert await client.next() == DataFrame(1, b"", fin=True)


async def test_spdy_tunnel_goaway_ends_the_session_once_idle(cluster: FakeCluster) -> None:
    release = trio.Event()

    async def waiter(stream: ForwardedStream) -> None:
        await release.wait()
        await stream.send_all(b"done")

    cluster.ports.register("default", "web", 5432, waiter)
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await client.connect(0, 5432, 1)
        await client.send(GoAway(0, 0))
        await trio.testing.wait_all_tasks_blocked()
        release.set()
        assert [await client.next() for _ in range(4)] == [
            DataFrame(3, b"done"),
            DataFrame(1, b"", fin=True),
            DataFrame(3, b"", fin=True),
            None,
        ]
    assert ws.close_code == 1000


async def test_spdy_tunnel_protocol_error_sends_goaway(cluster: FakeCluster) -> None:
    async with open_ws(cluster, PATH, subprotocols=[TUNNEL]) as ws:
        client = SpdyClient(ws)
        await ws.send(bytes.fromhex("80020006 00000004 00000001".replace(" ", "")))
        assert await client.next() == GoAway(0, 1)
        assert await client.next() is None
