"""The fake API server's transport: TLS with client-certificate identity, HTTP/1.1 and HTTP/2,
connection resets on demand, prompt shutdown, the kubeconfig it writes, and in-memory PEM loading.

Everything talks to 127.0.0.1 (or ::1) on an ephemeral port through a real TLS stack.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import ssl
import stat
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
import wsproto
import wsproto.events
import yaml
from cryptography.hazmat.primitives import serialization

from kr8s_trio._core import _pem
from kr8s_trio._core._pem import load_ca_in_memory, load_cert_chain_in_memory
from kr8s_trio.testing._kubeconfig import build_kubeconfig, write_kubeconfig
from kr8s_trio.testing._server import (
    CONNECTION_STATE_KEY,
    ConnectionHandle,
    Message,
    PeerCertificate,
    Receive,
    Scope,
    Send,
    connection_from_scope,
    serve_asgi,
)
from kr8s_trio.testing._tls import ClientCert, ClusterPKI


@pytest.fixture(scope="module")
def pki() -> ClusterPKI:
    return ClusterPKI()


class EchoApp:
    """Answers with the connection's identity; a few paths misbehave on purpose."""

    def __init__(self) -> None:
        self.requests = 0
        self.handles: list[ConnectionHandle] = []
        self.streaming = trio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.requests += 1
        handle = connection_from_scope(scope)
        assert handle is not None
        self.handles.append(handle)
        if scope["type"] == "websocket":
            await self.websocket(handle, receive, send)
            return
        assert scope["type"] == "http"
        path = scope["path"]
        if path == "/abort":
            handle.abort()
            # Never delivered: abort() cancels this task at its next checkpoint.
            await _respond(send, 200, b"too late")
        elif path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            chunk = b"x" * 65536
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.streaming.set()
            while True:  # until the client stops reading and the server is cancelled
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            peer = handle.peer
            body = {
                "peer": None if peer is None else [peer.username, list(peer.groups)],
                "http_version": scope["http_version"],
                "handle": id(handle),
            }
            await _respond(send, 200, json.dumps(body).encode())

    async def websocket(self, handle: ConnectionHandle, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        message = await receive()
        assert message["type"] == "websocket.receive"
        peer = handle.peer.username if handle.peer else "anonymous"
        await send({"type": "websocket.send", "bytes": f"{peer}:".encode() + message["bytes"]})
        await send({"type": "websocket.close", "code": 1000})


async def _respond(send: Send, status: int, body: bytes) -> None:
    start: Message = {"type": "http.response.start", "status": status, "headers": []}
    await send(start)
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def app() -> EchoApp:
    return EchoApp()


@pytest.fixture
async def url(pki: ClusterPKI, app: EchoApp, nursery: trio.Nursery) -> str:
    host, port = await nursery.start(serve_asgi, app, pki.server_ssl_context())
    assert host == "127.0.0.1"
    return f"https://{host}:{port}"


def _client(ctx: ssl.SSLContext, *, http2: bool = False) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=ctx, http2=http2, timeout=10)


async def _echo(url: str, ctx: ssl.SSLContext, *, http2: bool = False) -> dict[str, Any]:
    async with _client(ctx, http2=http2) as client:
        response = await client.get(f"{url}/echo")
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        data["client_http_version"] = response.http_version
        return data


@pytest.mark.parametrize("http2", [False, True])
async def test_server_without_client_cert_has_no_peer(
    pki: ClusterPKI, url: str, http2: bool
) -> None:
    data = await _echo(url, pki.client_ssl_context(), http2=http2)
    assert data["peer"] is None


@pytest.mark.parametrize("http2", [False, True])
async def test_server_client_cert_becomes_peer_identity(
    pki: ClusterPKI, url: str, http2: bool
) -> None:
    cert = pki.issue_client_cert("alice", ["dev", "ops"])
    data = await _echo(url, pki.client_ssl_context(cert), http2=http2)
    assert data["peer"] == ["alice", ["dev", "ops"]]


async def test_server_client_cert_without_groups(pki: ClusterPKI, url: str) -> None:
    data = await _echo(url, pki.client_ssl_context(pki.issue_client_cert("bob")))
    assert data["peer"] == ["bob", []]


@pytest.mark.parametrize(
    ("http2", "scope_version", "client_version"),
    [(False, "1.1", "HTTP/1.1"), (True, "2", "HTTP/2")],
)
async def test_server_http_version_follows_alpn(
    pki: ClusterPKI, url: str, http2: bool, scope_version: str, client_version: str
) -> None:
    data = await _echo(url, pki.client_ssl_context(), http2=http2)
    assert data["http_version"] == scope_version
    assert data["client_http_version"] == client_version


async def test_server_http1_only_context_never_negotiates_h2(
    pki: ClusterPKI, app: EchoApp, nursery: trio.Nursery
) -> None:
    host, port = await nursery.start(serve_asgi, app, pki.server_ssl_context(alpn=("http/1.1",)))
    data = await _echo(f"https://{host}:{port}", pki.client_ssl_context(), http2=True)
    assert data["http_version"] == "1.1"


async def test_server_one_handle_per_connection(pki: ClusterPKI, url: str, app: EchoApp) -> None:
    async with _client(pki.client_ssl_context()) as first:
        a = (await first.get(f"{url}/echo")).json()["handle"]
        b = (await first.get(f"{url}/echo")).json()["handle"]  # same keep-alive connection
    async with _client(pki.client_ssl_context()) as second:
        c = (await second.get(f"{url}/echo")).json()["handle"]
    assert a == b
    assert a != c
    assert app.handles[0] is app.handles[1]
    assert app.handles[0].client_address[0] == "127.0.0.1"
    assert not app.handles[0].aborted


@pytest.mark.parametrize("http2", [False, True])
async def test_server_rejects_client_cert_from_another_ca(
    pki: ClusterPKI, url: str, app: EchoApp, http2: bool
) -> None:
    # With CERT_OPTIONAL a certificate that does not chain to the cluster CA is not ignored:
    # the server's handshake fails. Under TLS 1.3 the client has already finished its side,
    # so httpx sees it on its next read (HTTP/1.1) or write (the HTTP/2 preface).
    stranger = ClusterPKI().issue_client_cert("mallory", ["system:masters"])
    async with _client(pki.client_ssl_context(stranger), http2=http2) as client:
        with pytest.raises((httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
            await client.get(f"{url}/echo")
    assert app.requests == 0
    # The server is unharmed.
    assert (await _echo(url, pki.client_ssl_context()))["peer"] is None


async def test_server_sends_unknown_ca_alert(pki: ClusterPKI, url: str, app: EchoApp) -> None:
    # Like kube-apiserver, the client is told why: a TLS "unknown CA" alert, not a bare EOF.
    stranger = ClusterPKI().issue_client_cert("mallory")
    host, port = _host_port(url)
    tcp = await trio.open_tcp_stream(host, port)
    tls = trio.SSLStream(tcp, pki.client_ssl_context(stranger), server_hostname=host)
    await tls.do_handshake()
    assert tls.version() == "TLSv1.3"
    with pytest.raises(trio.BrokenResourceError) as info:
        await tls.receive_some()
    assert isinstance(info.value.__cause__, ssl.SSLError)
    assert info.value.__cause__.reason == "TLSV1_ALERT_UNKNOWN_CA"
    await trio.aclose_forcefully(tls)
    assert app.requests == 0


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    return host, int(port)


async def test_server_drops_failed_and_slow_handshakes(
    pki: ClusterPKI, app: EchoApp, nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    host, port = await nursery.start(
        partial(serve_asgi, handshake_timeout=5.0), app, pki.server_ssl_context()
    )
    # Plain HTTP to a TLS port: the handshake fails and the server hangs up.
    garbage = await trio.open_tcp_stream(host, port)
    await garbage.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await _read_to_eof(garbage) == b""
    await garbage.aclose()
    # A client that never says hello is dropped after the timeout (virtual time).
    silent = await trio.open_tcp_stream(host, port)
    start = trio.current_time()
    assert await _read_to_eof(silent) == b""
    assert 5.0 <= trio.current_time() - start < 6.0
    await silent.aclose()
    assert app.requests == 0


async def _read_to_eof(stream: trio.abc.ReceiveStream) -> bytes:
    received = b""
    while chunk := await stream.receive_some():
        received += chunk
    return received


@pytest.mark.parametrize("http2", [False, True])
async def test_server_abort_resets_the_connection(
    pki: ClusterPKI, url: str, app: EchoApp, http2: bool, caplog: pytest.LogCaptureFixture
) -> None:
    async with _client(pki.client_ssl_context(), http2=http2) as client:
        with pytest.raises((httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
            await client.get(f"{url}/abort")
    assert len(app.handles) == 1
    assert app.handles[0].aborted
    app.handles[0].abort()  # idempotent
    # Only that connection was reset.
    assert (await _echo(url, pki.client_ssl_context(), http2=http2))["peer"] is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_server_abort_is_a_reset_not_a_clean_close(pki: ClusterPKI, url: str) -> None:
    # Below httpx: the socket must report ECONNRESET, not an orderly EOF.
    host, port = _host_port(url)
    tcp = await trio.open_tcp_stream(host, port)
    tls = trio.SSLStream(tcp, pki.client_ssl_context(), server_hostname=host)
    await tls.send_all(b"GET /abort HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(trio.BrokenResourceError) as info:
        await _read_to_eof(tls)
    assert isinstance(info.value.__cause__, ConnectionResetError)
    await trio.aclose_forcefully(tls)


async def test_server_cancel_closes_listener_and_connections(pki: ClusterPKI, app: EchoApp) -> None:
    server_scope = trio.CancelScope()
    server_exited = trio.Event()

    async def run_server(*, task_status: trio.TaskStatus[tuple[str, int]]) -> None:
        with server_scope:
            await serve_asgi(app, pki.server_ssl_context(), task_status=task_status)
        server_exited.set()

    async def stalled_reader(host: str, port: int) -> None:
        # Reads the start of the response, then stops reading, so the server's writes stall
        # on a full socket buffer (hypercorn shields those writes from cancellation).
        tcp = await trio.open_tcp_stream(host, port)
        tls = trio.SSLStream(tcp, pki.client_ssl_context(), server_hostname=host)
        try:
            await tls.send_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await tls.receive_some()).startswith(b"HTTP/1.1 200")
            await trio.sleep_forever()
        finally:
            await trio.aclose_forcefully(tls)

    with trio.fail_after(5):  # shutting down must not wait for the stalled client
        async with _client(pki.client_ssl_context()) as client:
            async with trio.open_nursery() as nursery:
                host, port = await nursery.start(run_server)
                url = f"https://{host}:{port}"
                nursery.start_soon(stalled_reader, host, port)
                await app.streaming.wait()
                await trio.testing.wait_all_tasks_blocked()
                server_scope.cancel()
                await server_exited.wait()
                assert server_scope.cancelled_caught
                nursery.cancel_scope.cancel()  # the stalled reader
            # Nothing listens any more.
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{url}/echo")


async def test_server_cancel_while_idle_connections_are_open(pki: ClusterPKI, app: EchoApp) -> None:
    with trio.fail_after(5):
        async with _client(pki.client_ssl_context(), http2=True) as client:
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    host, port = await nursery.start(serve_asgi, app, pki.server_ssl_context())
                    url = f"https://{host}:{port}"
                    assert (await client.get(f"{url}/echo")).status_code == 200
                    scope.cancel()
            assert scope.cancelled_caught
            with pytest.raises(httpx.TransportError):
                await client.get(f"{url}/echo")


async def test_server_websocket_sees_peer_and_large_messages(pki: ClusterPKI, url: str) -> None:
    # exec/attach and port-forward ride on websockets (HTTP/1.1 upgrade, as client-go forces).
    host, port = _host_port(url)
    cert = pki.issue_client_cert("alice", ["dev"])
    ctx = pki.client_ssl_context(cert)
    ctx.set_alpn_protocols(["http/1.1"])
    tls = trio.SSLStream(
        await trio.open_tcp_stream(host, port), ctx, server_hostname=host, https_compatible=True
    )
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    payload = os.urandom(8 * 1024 * 1024)  # above common 1 MiB defaults, under our 16 MiB
    received = bytearray()
    closed = False
    await tls.send_all(ws.send(wsproto.events.Request(host=host, target="/ws")))
    while not closed:
        data = await tls.receive_some()
        assert data, "server closed before the websocket close frame"
        ws.receive_data(bytes(data))
        for event in ws.events():
            if isinstance(event, wsproto.events.AcceptConnection):
                await tls.send_all(ws.send(wsproto.events.BytesMessage(data=payload)))
            elif isinstance(event, wsproto.events.BytesMessage):
                received += event.data
            elif isinstance(event, wsproto.events.CloseConnection):
                assert event.code == 1000
                closed = True
            else:
                pytest.fail(f"unexpected {event!r}")
    await trio.aclose_forcefully(tls)
    assert bytes(received) == b"alice:" + payload


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
async def test_server_on_ipv6_loopback(
    pki: ClusterPKI, app: EchoApp, nursery: trio.Nursery
) -> None:
    host, port = await nursery.start(partial(serve_asgi, host="::1"), app, pki.server_ssl_context())
    assert host == "::1"
    cert = pki.issue_client_cert("carol", ["ops"])
    data = await _echo(f"https://[::1]:{port}", pki.client_ssl_context(cert))
    assert data["peer"] == ["carol", ["ops"]]
    assert app.handles[0].client_address[0] == "::1"


def test_connection_from_scope_without_server() -> None:
    assert connection_from_scope({"type": "http"}) is None
    assert connection_from_scope({"type": "http", "state": {}}) is None
    assert connection_from_scope({"type": "http", "state": {CONNECTION_STATE_KEY: 1}}) is None


def test_peer_certificate_is_a_value() -> None:
    assert PeerCertificate("a", ("g",)) == PeerCertificate("a", ("g",))


def test_client_cert_repr_hides_key(pki: ClusterPKI) -> None:
    cert = pki.issue_client_cert("alice", ["dev"])
    assert b"PRIVATE KEY" in cert.key_pem
    key_body = cert.key_pem.decode().splitlines()[1]
    assert key_body not in repr(cert)
    assert "key_pem" not in repr(cert)
    assert "PRIVATE" not in repr(pki)


def test_issue_client_cert_requires_username(pki: ClusterPKI) -> None:
    with pytest.raises(ValueError, match="username"):
        pki.issue_client_cert("")


def test_kubeconfig_round_trip_and_mode(pki: ClusterPKI, tmp_path: Path) -> None:
    cert = pki.issue_client_cert("admin", ["system:masters"])
    config = build_kubeconfig(
        "https://127.0.0.1:6443", pki.ca_pem, token="s3cr3t", client_cert=cert, namespace="ns1"
    )
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = yaml.safe_load(path.read_text())
    assert loaded == config
    assert loaded["current-context"] == "fake"
    cluster = loaded["clusters"][0]
    assert cluster["name"] == "fake"
    assert cluster["cluster"]["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == pki.ca_pem
    users = {u["name"]: u["user"] for u in loaded["users"]}
    assert users["fake-token"] == {"token": "s3cr3t"}
    assert base64.b64decode(users["fake-cert"]["client-certificate-data"]) == cert.cert_pem
    assert base64.b64decode(users["fake-cert"]["client-key-data"]) == cert.key_pem
    contexts = {c["name"]: c["context"] for c in loaded["contexts"]}
    assert contexts == {
        "fake": {"cluster": "fake", "user": "fake-token", "namespace": "ns1"},
        "fake-cert": {"cluster": "fake", "user": "fake-cert", "namespace": "ns1"},
    }


def test_kubeconfig_without_client_cert(pki: ClusterPKI) -> None:
    config = build_kubeconfig("https://x", pki.ca_pem, token="t", client_cert=None)
    assert [u["name"] for u in config["users"]] == ["fake-token"]
    assert [c["name"] for c in config["contexts"]] == ["fake"]
    assert config["contexts"][0]["context"]["namespace"] == "default"


def test_write_kubeconfig_tightens_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old: content that is longer than the new one\n")
    path.chmod(0o644)
    write_kubeconfig(path, {"kind": "Config"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == {"kind": "Config"}


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``tempfile.gettempdir()`` at an empty directory nobody else writes to."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    assert tempfile.gettempdir() == str(directory)
    return directory


def _listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "private-dir"])
async def test_load_cert_chain_in_memory_leaves_no_files(
    pki: ClusterPKI,
    url: str,
    memfd: bool,
    private_tempdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_dirs: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made_dirs.append(real_mkdtemp(*args, **kwargs))
        return made_dirs[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    if memfd:
        if not _pem._memfd_usable():
            pytest.skip("no memfd_create on this platform")
    else:
        monkeypatch.setattr(_pem, "_memfd_usable", lambda: False)
    cert = pki.issue_client_cert("dave", ["qa"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    load_ca_in_memory(ctx, pki.ca_pem)
    assert _listing(private_tempdir) == set()
    load_cert_chain_in_memory(ctx, cert.cert_pem, cert.key_pem)
    assert _listing(private_tempdir) == set()
    # memfd never touches a directory; the fallback used (and removed) a private one.
    assert len(made_dirs) == (0 if memfd else 1)
    assert all(Path(d).parent == private_tempdir for d in made_dirs)
    monkeypatch.undo()
    data = await _echo(url, ctx)
    assert data["peer"] == ["dave", ["qa"]]


def test_load_cert_chain_in_memory_falls_back_when_memfd_is_refused(
    pki: ClusterPKI, private_tempdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(name: str, flags: int = 0) -> int:
        raise PermissionError("seccomp says no")

    monkeypatch.setattr(os, "memfd_create", refuse, raising=False)
    monkeypatch.setattr(_pem, "_memfd_usable", lambda: True)
    cert = pki.issue_client_cert("erin")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    load_cert_chain_in_memory(ctx, cert.cert_pem, cert.key_pem)
    assert _listing(private_tempdir) == set()
    # The private directory goes away when loading fails, too.
    with pytest.raises(ssl.SSLError):
        load_cert_chain_in_memory(ctx, cert.cert_pem, pki.issue_client_cert("x").key_pem)
    assert _listing(private_tempdir) == set()


def test_load_cert_chain_in_memory_closes_descriptors(pki: ClusterPKI) -> None:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc")
    cert = pki.issue_client_cert("frank")
    before = set(os.listdir("/proc/self/fd"))
    load_cert_chain_in_memory(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert.cert_pem, cert.key_pem)
    assert set(os.listdir("/proc/self/fd")) <= before


BAD_KEY_CASES: list[tuple[str, Callable[[ClusterPKI, ClientCert], bytes]]] = [
    ("mismatched", lambda pki, cert: pki.issue_client_cert("other").key_pem),
    (
        "garbage",
        lambda pki, cert: b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
    ),
]


@pytest.mark.parametrize(("name", "make_key"), BAD_KEY_CASES, ids=[c[0] for c in BAD_KEY_CASES])
def test_load_cert_chain_in_memory_bad_key(
    pki: ClusterPKI,
    name: str,
    make_key: Callable[[ClusterPKI, ClientCert], bytes],
    private_tempdir: Path,
) -> None:
    cert = pki.issue_client_cert("gina")
    key = make_key(pki, cert)
    with pytest.raises(ssl.SSLError) as info:
        load_cert_chain_in_memory(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert.cert_pem, key)
    assert key.decode().splitlines()[1] not in str(info.value)
    assert _listing(private_tempdir) == set()


def test_load_cert_chain_in_memory_refuses_encrypted_key(pki: ClusterPKI) -> None:
    cert = pki.issue_client_cert("hank")
    key = serialization.load_pem_private_key(cert.key_pem, None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    # Must fail instead of prompting for a password on the terminal.
    with pytest.raises(ssl.SSLError):
        load_cert_chain_in_memory(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert.cert_pem, encrypted)


def test_load_ca_in_memory_rejects_non_pem() -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ValueError, match="PEM"):
        load_ca_in_memory(ctx, b"\xff\xfe")
    with pytest.raises(ssl.SSLError):
        load_ca_in_memory(ctx, b"not a certificate")
