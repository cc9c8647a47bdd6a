"""kr8s_trio._ws: a WebSocket upgraded through the Api's own httpx configuration.

The fake cluster serves exec over WebSocket; its ``cat`` command echoes stdin, which gives an
echo server on the channel protocol. Pods are given running containers directly (no kubelet),
so these tests depend only on the fake's exec endpoint.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpcore
import pytest
import trio
import trio.testing
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from kr8s_trio import Api
from kr8s_trio._core._exceptions import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
)
from kr8s_trio._ws import ConnectionClosed, WebSocket, open_websocket
from kr8s_trio.testing import ExecContext, FakeCluster, Rule, open_fake_cluster
from kr8s_trio.testing._runtime import ContainerRuntime, PodRuntime

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"


def running_pod(cluster: FakeCluster, name: str = "p", containers: Sequence[str] = ("c",)) -> None:
    """A pod bound to a node whose containers run, without a kubelet."""
    spec: dict[str, Any] = {
        "nodeName": "node-1",
        "containers": [{"name": c, "image": "busybox"} for c in containers],
    }
    pod = cluster.create(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    )
    runtime = PodRuntime(pod["metadata"]["uid"], "default", name, "node-1")
    for c in containers:
        runtime.containers[c] = ContainerRuntime(c, "busybox", state="running")  # type: ignore[arg-type]
    cluster.state.runtime.add(runtime)


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        running_pod(c)
        yield c


@pytest.fixture
async def client(cluster: FakeCluster) -> AsyncIterator[Api]:
    async with Api(bypass_factory=True, kubeconfig=cluster.kubeconfig) as api:
        yield api


def exec_params(command: Sequence[str], **flags: bool) -> list[tuple[str, str]]:
    query = [("command", c) for c in command]
    query += [(k, "true") for k, on in {"stdout": True, "stderr": True, **flags}.items() if on]
    return query


def ws_exec(
    api: Api,
    command: Sequence[str],
    subprotocols: Sequence[str] = (V5,),
    pod: str = "p",
    **flags: bool,
) -> Any:
    return open_websocket(
        api,
        namespace="default",
        url=f"pods/{pod}/exec",
        params=exec_params(command, **flags),
        subprotocols=subprotocols,
    )


async def receive_all(ws: WebSocket) -> tuple[list[bytes | str], ConnectionClosed]:
    messages: list[bytes | str] = []
    while True:
        try:
            messages.append(await ws.receive())
        except ConnectionClosed as closed:
            return messages, closed


async def test_ws_handshake_negotiates_the_preferred_subprotocol(client: Api) -> None:
    async with ws_exec(client, ["echo", "hi"], subprotocols=[V5, V4]) as ws:
        assert ws.subprotocol == V5
        messages, closed = await receive_all(ws)
    assert messages == [b"\x01", b"\x01hi\n", b'\x03{"metadata":{},"status":"Success"}']
    assert closed.code == 1000


async def test_ws_handshake_falls_back_to_what_the_server_speaks(client: Api) -> None:
    async with ws_exec(client, ["echo", "hi"], subprotocols=["v9.nothing", V4]) as ws:
        assert ws.subprotocol == V4
        messages, _ = await receive_all(ws)
    assert messages[1] == b"\x01hi\n"


async def test_ws_goes_over_http1_while_the_api_speaks_http2(client: Api) -> None:
    async with client.call_api("GET", base="/version", version="") as r:
        assert r.http_version == "HTTP/2"
    async with ws_exec(client, ["true"]) as ws:
        await receive_all(ws)
    assert client._upgrade_http is not None
    await client.aclose()
    assert client._upgrade_http is None


async def test_ws_echo_round_trips(client: Api) -> None:
    async with ws_exec(client, ["cat"], stdin=True) as ws:
        assert await ws.receive() == b"\x01"
        for i in range(20):
            payload = b"line %d " % i * (i * 500) + b"\n"
            await ws.send(b"\x00" + payload)
            got = b""
            while len(got) < len(payload):
                message = await ws.receive()
                assert isinstance(message, bytes)
                got += message[1:]
            assert got == payload
        await ws.send(b"\xff\x00")  # v5: stdin EOF
        messages, closed = await receive_all(ws)
    assert messages == [b'\x03{"metadata":{},"status":"Success"}']
    assert closed.code == 1000


async def test_ws_text_messages_and_base64_protocol(client: Api) -> None:
    async with ws_exec(client, ["echo", "hi"], subprotocols=["v4.base64.channel.k8s.io"]) as ws:
        messages, _ = await receive_all(ws)
    assert all(isinstance(m, str) for m in messages)
    assert "1aGkK" in messages  # base64 of "hi\n" on channel 1


async def test_ws_client_close_code_reaches_the_server(cluster: FakeCluster, client: Api) -> None:
    started, cancelled = trio.Event(), trio.Event()

    async def forever(ctx: ExecContext) -> int:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    cluster.register_command(["forever"], forever)
    async with ws_exec(client, ["forever"]) as ws:
        await started.wait()
        await ws.close(4000, "bye")
        assert ws.closed is not None
        with pytest.raises(ConnectionClosed):
            await ws.send(b"\x00x")
        with pytest.raises(ConnectionClosed):
            await ws.receive()
    await cancelled.wait()


async def test_ws_server_close_then_receive_keeps_raising(client: Api) -> None:
    async with ws_exec(client, ["true"]) as ws:
        _, closed = await receive_all(ws)
        with pytest.raises(ConnectionClosed) as again:
            await ws.receive()
    assert again.value.code == closed.code == 1000


async def test_ws_handshake_404_for_a_missing_pod(client: Api) -> None:
    with pytest.raises(NotFoundError) as err:
        async with ws_exec(client, ["true"], pod="missing"):
            pytest.fail("upgraded")
    assert err.value.status["reason"] == "NotFound"


async def test_ws_handshake_400_for_an_unknown_container(client: Api) -> None:
    with pytest.raises(BadRequestError):
        async with open_websocket(
            client,
            namespace="default",
            url="pods/p/exec",
            params=[*exec_params(["true"]), ("container", "nope")],
            subprotocols=[V5],
        ):
            pytest.fail("upgraded")


async def test_ws_handshake_plain_text_kubelet_refusal(client: Api) -> None:
    # without v5 the kubelet answers itself, in plain text
    with pytest.raises(BadRequestError) as err:
        async with ws_exec(client, ["true"], subprotocols=[V4], stdout=False, stderr=False):
            pytest.fail("upgraded")
    assert "you must specify at least 1 of stdin, stdout, stderr" in str(err.value.status)


async def test_ws_handshake_403_for_a_forbidden_user(cluster: FakeCluster) -> None:
    token = cluster.add_user("mallory")
    cluster.set_rules([Rule(users=("mallory",), verbs=("get",), resources=("pods",))])
    kubeconfig = copy.deepcopy(cluster.kubeconfig)
    kubeconfig["users"][0]["user"] = {"token": token}
    async with Api(bypass_factory=True, kubeconfig=kubeconfig) as api:
        with pytest.raises(ForbiddenError) as err:
            async with ws_exec(api, ["true"]):
                pytest.fail("upgraded")
    assert err.value.status["reason"] == "Forbidden"
    assert "mallory" in json.dumps(err.value.status)


async def test_ws_unsupported_subprotocol_is_refused(client: Api) -> None:
    with pytest.raises(ForbiddenError):
        async with ws_exec(client, ["true"], subprotocols=["v9.nothing"]):
            pytest.fail("upgraded")


async def test_ws_closed_api_refuses(client: Api) -> None:
    await client.aclose()
    with pytest.raises(RuntimeError):
        async with ws_exec(client, ["true"]):
            pytest.fail("upgraded")


async def test_ws_cancelled_mid_stream_closes_the_socket(cluster: FakeCluster, client: Api) -> None:
    started, cancelled = trio.Event(), trio.Event()

    async def forever(ctx: ExecContext) -> int:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    cluster.register_command(["forever"], forever)
    with trio.CancelScope() as scope:
        async with ws_exec(client, ["forever"]) as ws:
            await started.wait()
            scope.cancel()
            await ws.receive()
    assert scope.cancelled_caught
    await cancelled.wait()  # the server saw the client go away
    with pytest.raises(ConnectionClosed):
        await ws.send(b"x")


@pytest.mark.parametrize("checkpoints", range(0, 12))
async def test_ws_cancelled_during_the_handshake_leaks_nothing(
    client: Api, checkpoints: int
) -> None:
    await client._ensure_client()
    with trio.CancelScope() as scope:

        async def cancel_later() -> None:
            for _ in range(checkpoints):
                await trio.lowlevel.checkpoint()
            scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_later)
            async with ws_exec(client, ["echo", "x"]) as ws:
                await receive_all(ws)
    # whatever the phase, the upgrade pool holds no connection in use
    pool = client._upgrade_http._transport._pool  # type: ignore[union-attr]
    assert not pool._requests
    assert all(c.is_closed() or c.is_idle() for c in pool.connections)


# -- the protocol, against a wsproto server on a memory stream (no sockets) --------------------


class _MemoryNetworkStream(httpcore.AsyncNetworkStream):
    """httpcore's network stream interface over one end of a trio memory stream pair."""

    def __init__(self, stream: trio.testing.MemoryStapledStream) -> None:  # type: ignore[type-arg]
        self.stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self.stream.receive_some(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.stream.send_all(buffer)

    async def aclose(self) -> None:
        await self.stream.aclose()


class _Server:
    """The server end: a wsproto connection, already open."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.ws = Connection(ConnectionType.SERVER)

    async def send(self, event: Any) -> None:
        await self.stream.send_all(self.ws.send(event))

    async def events(self) -> list[Any]:
        data = await self.stream.receive_some()
        self.ws.receive_data(data or None)
        return list(self.ws.events())


@pytest.fixture
def pair() -> tuple[WebSocket, _Server]:
    client_end, server_end = trio.testing.memory_stream_pair()
    return WebSocket(_MemoryNetworkStream(client_end), "x"), _Server(server_end)


async def test_ws_ping_is_answered_and_fragments_reassembled(
    pair: tuple[WebSocket, _Server],
) -> None:
    ws, server = pair
    await server.send(Ping(payload=b"are you there"))
    await server.send(BytesMessage(data=b"frag", message_finished=False))
    await server.send(BytesMessage(data=b"ment", message_finished=True))
    await server.send(TextMessage(data="caf", message_finished=False))
    await server.send(TextMessage(data="\u00e9", message_finished=True))
    assert await ws.receive() == b"fragment"
    assert await ws.receive() == "caf\u00e9"
    events = await server.events()
    assert isinstance(events[0], Pong)
    assert events[0].payload == b"are you there"


async def test_ws_server_close_code_and_reason_are_reported_and_answered(
    pair: tuple[WebSocket, _Server],
) -> None:
    ws, server = pair
    await server.send(BytesMessage(data=b"last"))
    await server.send(CloseConnection(code=4001, reason="go away"))
    assert await ws.receive() == b"last"  # messages before the close come first
    with pytest.raises(ConnectionClosed) as closed:
        await ws.receive()
    assert (closed.value.code, closed.value.reason) == (4001, "go away")
    (answer,) = await server.events()
    assert isinstance(answer, CloseConnection)
    assert answer.code == 4001


async def test_ws_client_close_waits_for_the_answer(pair: tuple[WebSocket, _Server]) -> None:
    ws, server = pair
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.close, 1001, "leaving")
        (event,) = await server.events()
        assert isinstance(event, CloseConnection)
        assert (event.code, event.reason) == (1001, "leaving")
        await server.send(event.response())
    assert ws.closed is not None
    assert ws.closed.code == 1001


async def test_ws_dropped_connection_is_1006(pair: tuple[WebSocket, _Server]) -> None:
    ws, server = pair
    await server.stream.aclose()
    with pytest.raises(ConnectionClosed) as closed:
        await ws.receive()
    assert closed.value.code == 1006


async def test_ws_protocol_violation_closes_with_1002(pair: tuple[WebSocket, _Server]) -> None:
    ws, server = pair
    await server.stream.send_all(b"\x8f\x00")  # a frame with an unknown opcode
    with pytest.raises(ConnectionClosed) as closed:
        await ws.receive()
    assert closed.value.code == 1002
    (answer,) = await server.events()  # and the close was sent to the peer
    assert isinstance(answer, CloseConnection)
    assert answer.code == 1002


# -- the Api's configuration applies ---------------------------------------------------------------


async def test_ws_renews_a_token_file_after_401_and_sends_the_client_headers(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    path = tmp_path / "token"
    old = cluster.add_user("old", ["system:masters"])
    path.write_text(old)
    kubeconfig = copy.deepcopy(cluster.kubeconfig)
    kubeconfig["users"][0]["user"] = {"tokenFile": str(path)}
    async with Api(bypass_factory=True, kubeconfig=kubeconfig) as api:
        async with ws_exec(api, ["echo", "a"]) as ws:
            await receive_all(ws)
        path.write_text(cluster.add_user("new", ["system:masters"]))
        cluster.revoke_token(old)
        async with ws_exec(api, ["echo", "b"]) as ws:
            messages, _ = await receive_all(ws)
        assert b"\x01b\n" in messages
    records = cluster.requests.filter(subresource="exec")
    assert [(r.user, r.status) for r in records] == [("old", 101), (None, 401), ("new", 101)]
    assert all(r.user_agent.startswith("kr8s_trio/") for r in records)


async def test_ws_sends_the_impersonation_headers(cluster: FakeCluster) -> None:
    kubeconfig = copy.deepcopy(cluster.kubeconfig)
    kubeconfig["users"][0]["user"]["as"] = "someone"
    kubeconfig["users"][0]["user"]["as-groups"] = ["system:masters"]
    async with (
        Api(bypass_factory=True, kubeconfig=kubeconfig) as api,
        ws_exec(api, ["true"]) as ws,
    ):
        await receive_all(ws)
    (record,) = cluster.requests.filter(subresource="exec")
    assert record.impersonation.get("impersonate-user") == "someone"
    assert record.user == "someone"
