"""How fast the fake API server serves a big list and fans a watch event out, against the raw
lower bound; and what an idle watch costs it in memory.

    python benchmarks/bench_fake_server.py            # full run: 10,000 pods, 1,000 watches
    python benchmarks/bench_fake_server.py --quick    # smoke run: 1,000 pods, 100 watches
    python benchmarks/bench_fake_server.py --help

Scenarios (targets from the acceptance point):

* **list**: time to last byte of ``GET /api/v1/namespaces/default/pods`` with 10,000 seeded
  pods (~60.8 MB), from sending the request to receiving the last body byte, on a kept-alive
  TLS connection. Target: under 0.5 s.
* **fan-out**: 1,000 open watches of one namespace; the server commits one change
  (``FakeCluster.patch`` in the server process, the REST path a client's PATCH takes); time from
  just before that call until the last of the 1,000 watchers has read the whole event line.
  Target: within 1 s.
* **memory per idle watch**: the server process's growth while 1,000 idle watches are open,
  divided by 1,000: resident set (VmRSS) and, in a second pass, tracemalloc (Python heap only).

The raw lower bound is a minimal trio TLS server (same CA and certificate, same SSLContext
settings: it is built by the same `ClusterPKI.server_ssl_context`) writing the very bytes the
fake served: the PodList as HTTP/1.1 with Content-Length in 256 KiB slices, and the watch line
as one HTTP/1.1 chunk to each of the 1,000 connections in turn.

Each server runs in its own process (``--role fake`` / ``--role raw``) and starts its clients in
a child process (``--role client``): raw trio TLS streams and a ~40-line HTTP/1.1 reader that
counts body bytes and watch-line ends, identical for both servers. The client gets its own
process (so its own core on a 2-core machine) because 1,000 client tasks in the server's event
loop would measure the clients as much as the server. Both processes read ``CLOCK_MONOTONIC``,
which is system-wide, so the fan-out can start in the server and end in the client.

Reproducible: the pods come from `_pods` with a fixed seed, the cluster is seeded (UIDs) and has
a fixed start time; timings are medians over ``--reps`` repetitions (min-max and n printed),
``gc.collect()`` in the server before each repetition, outside the timer. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import gc
import hashlib
import io
import json
import os
import pstats
import ssl
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

# this directory is on sys.path
from _common import (
    CLIENT_TIMEOUT,
    DASH,
    JSONObject,
    client_process,
    fmt_bytes,
    fmt_time,
    markdown_table,
    now,
    play_role,
    print_results,
    ratio,
    run_role as common_run_role,
    serve_commands,
    spread,
    wait_until,
)
from _pods import APPS, create_replicasets, pod_object

START = datetime.datetime(2026, 11, 21, 9, 0, 0, tzinfo=datetime.UTC)
CREATED = "2026-11-21T09:00:00Z"
FANOUT_NAMESPACE = "fanout"
LIST_PATH = "/api/v1/namespaces/default/pods"
RECV_SIZE = 1 << 20
RAW_SLICE = 256 * 1024
LIST_TARGET = 0.5
FANOUT_TARGET = 1.0
SCRIPT = os.path.abspath(__file__)


def _save(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# -- the client process ------------------------------------------------------------------------


def _request(path: str, host: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\nUser-Agent: bench-fake-server\r\n\r\n"
    ).encode()


async def _read_head(stream: trio.SSLStream[trio.SocketStream]) -> tuple[int, bytes, bytes]:
    """Status, header block (lower-cased) and the body bytes that came with it."""
    buf = b""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        data = await stream.receive_some(RECV_SIZE)
        if not data:
            raise EOFError("connection closed before the response headers")
        buf += data
    head = buf[:end]
    return int(head.split(b" ", 2)[1]), head.lower(), buf[end + 4 :]


class Client:
    """The benchmark's HTTP client: one kept-alive list connection and a fleet of watchers."""

    def __init__(self, host: str, port: int, ca_pem: str, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.load_verify_locations(cadata=ca_pem)
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.list_stream: trio.SSLStream[trio.SocketStream] | None = None
        # watch fleet
        self.fleet_scope: trio.CancelScope | None = None
        self.fleet_size = 0
        self.opened = 0
        self.all_open = trio.Event()
        self.times: list[list[float]] = []
        self.line_bytes: list[int] = []
        self.counts: dict[int, int] = {}
        self.done: dict[int, trio.Event] = {}
        self.fleet_closed = trio.Event()

    async def connect(self) -> trio.SSLStream[trio.SocketStream]:
        tcp = await trio.open_tcp_stream(self.host, self.port)
        stream = trio.SSLStream(tcp, self.ctx, server_hostname=self.host)
        await stream.do_handshake()
        return stream

    # -- list --

    async def fetch(self, path: str, save: str | None, expect_items: int | None) -> JSONObject:
        if self.list_stream is None:
            self.list_stream = await self.connect()
        stream = self.list_stream
        request = _request(path, f"{self.host}:{self.port}", self.token)
        t0 = now()
        await stream.send_all(request)
        status, head, first = await _read_head(stream)
        t_head = now()
        length = -1
        for line in head.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length < 0:
            raise RuntimeError(f"no Content-Length in the list response: {head!r}")
        chunks: list[bytes | bytearray] = [first]
        got = len(first)
        while got < length:
            data = await stream.receive_some(RECV_SIZE)
            if not data:
                raise EOFError(f"connection closed after {got} of {length} body bytes")
            chunks.append(data)
            got += len(data)
        t1 = now()
        # checks, outside the timer
        body = b"".join(chunks)
        result: JSONObject = {
            "t_send": t0,
            "t_head": t_head,
            "t_last": t1,
            "status": status,
            "bytes": got,
            "digest": hashlib.blake2b(body, digest_size=16).hexdigest(),
        }
        if expect_items is not None:
            doc = json.loads(body)
            items = doc["items"]
            sizes = sorted(
                len(json.dumps(i, separators=(",", ":"), ensure_ascii=False).encode())
                for i in items
            )
            result["items"] = len(items)
            result["first_name"] = items[0]["metadata"]["name"] if items else None
            result["median_item_bytes"] = statistics.median(sizes) if sizes else 0
            if len(items) != expect_items:
                raise RuntimeError(f"expected {expect_items} pods, got {len(items)}")
        if save is not None:
            _save(save, body)
        return result

    # -- watches --

    async def run_fleet(
        self, n: int, path: str, concurrency: int, task_status: trio.TaskStatus[None]
    ) -> None:
        self.fleet_size = n
        self.opened = 0
        self.all_open = trio.Event()
        self.times = [[] for _ in range(n)]
        self.line_bytes = []
        self.counts = {}
        self.done = {}
        self.fleet_closed = trio.Event()
        limiter = trio.CapacityLimiter(concurrency)
        request = _request(path, f"{self.host}:{self.port}", self.token)
        try:
            async with trio.open_nursery() as nursery:
                self.fleet_scope = nursery.cancel_scope
                task_status.started()
                for i in range(n):
                    nursery.start_soon(self._watcher, i, request, limiter)
        finally:
            self.fleet_scope = None
            self.fleet_closed.set()

    async def _watcher(self, i: int, request: bytes, limiter: trio.CapacityLimiter) -> None:
        async with limiter:
            stream = await self.connect()
            await stream.send_all(request)
            status, head, rest = await _read_head(stream)
            if status != 200 or b"transfer-encoding: chunked" not in head:
                raise RuntimeError(f"watch answered {status}: {head!r} {rest[:300]!r}")
        self.opened += 1
        if self.opened == self.fleet_size:
            self.all_open.set()
        times = self.times[i]
        tail = b""
        received = 0
        counts, done = self.counts, self.done
        with contextlib.closing(stream.transport_stream.socket):
            data: bytes | bytearray = rest
            while True:
                if data:
                    t = now()
                    joined = tail + data
                    lines = joined.count(b"}\n")
                    tail = joined[-1:]
                    received += len(data)
                    for _ in range(lines):
                        k = len(times)
                        times.append(t)
                        if i == 0:
                            self.line_bytes.append(received)
                            received = 0
                        c = counts[k] = counts.get(k, 0) + 1
                        if c == self.fleet_size:
                            done.setdefault(k, trio.Event()).set()
                data = await stream.receive_some(RECV_SIZE)
                if not data:
                    return

    async def wait_event(self, k: int, limit: float) -> JSONObject:
        event = self.done.setdefault(k, trio.Event())
        with trio.move_on_after(limit):
            await event.wait()
        got = [t[k] for t in self.times if len(t) > k]
        return {
            "received": len(got),
            "t_first": min(got) if got else None,
            "t_median": statistics.median(got) if got else None,
            "t_last": max(got) if got else None,
            # chunk framing included: hex size + CRLF before, CRLF after
            "wire_bytes": self.line_bytes[k] if len(self.line_bytes) > k else None,
        }


async def _client_op(client: Client, nursery: trio.Nursery, cmd: JSONObject) -> JSONObject:
    op = cmd["op"]
    if op == "fetch":
        return await client.fetch(cmd["path"], cmd.get("save"), cmd.get("items"))
    if op == "list_close":
        if client.list_stream is not None:
            await client.list_stream.aclose()
            client.list_stream = None
        return {}
    if op == "watch_open":
        t0 = now()
        await nursery.start(client.run_fleet, cmd["n"], cmd["path"], cmd.get("concurrency", 32))
        with trio.fail_after(CLIENT_TIMEOUT):
            await client.all_open.wait()
        return {"seconds": now() - t0, "opened": client.opened}
    if op == "wait_event":
        return await client.wait_event(cmd["k"], cmd.get("limit", 30.0))
    if op == "watch_close":
        if client.fleet_scope is not None:
            client.fleet_scope.cancel()
        await client.fleet_closed.wait()
        return {}
    raise ValueError(f"unknown op {op!r}")


async def client_role() -> None:
    client: Client | None = None

    async def handle(cmd: JSONObject, nursery: trio.Nursery) -> JSONObject:
        nonlocal client
        if cmd["op"] == "hello":
            client = Client(cmd["host"], cmd["port"], cmd["ca"], cmd["token"])
            return {}
        assert client is not None, "hello first"
        return await _client_op(client, nursery, cmd)

    await serve_commands(handle)


# -- the server roles ------------------------------------------------------------------------


class ServerUnderTest:
    """What the two roles differ in."""

    token = "bench"
    host = "127.0.0.1"
    port = 0

    def watch_path(self) -> str:
        raise NotImplementedError

    def watching(self) -> int:
        raise NotImplementedError

    def commit(self, k: int) -> None:
        """Commit change number ``k`` synchronously (fake) or prepare it (raw)."""
        raise NotImplementedError

    async def deliver(self) -> None:
        """Send what `commit` prepared (raw); nothing for the fake (its watches do it)."""


async def run_scenarios(
    server: ServerUnderTest, args: argparse.Namespace, role: str, tmp: Path
) -> JSONObject:
    out: JSONObject = {"role": role}
    profiling = args.profile and role == "fake"
    list_profile, fanout_profile = cProfile.Profile(), cProfile.Profile()
    async with client_process(SCRIPT) as chan:
        await chan.call(
            {
                "host": server.host,
                "port": server.port,
                "ca": (tmp / "ca.pem").read_text(),
                "token": server.token,
                "op": "hello",
            }
        )
        # -- list --
        gc.collect()
        first = await chan.call(
            {
                "op": "fetch",
                "path": LIST_PATH,
                "items": args.pods,
                "save": str(tmp / "list.bin") if role == "fake" else None,
            }
        )
        out["list_first"] = first["t_last"] - first["t_send"]
        out["list_bytes"] = first["bytes"]
        out["list_digest"] = first["digest"]
        out["median_pod_bytes"] = first["median_item_bytes"]
        out["first_pod"] = first["first_name"]
        samples: list[float] = []
        cpu: list[float] = []
        for _ in range(args.reps):
            gc.collect()
            if profiling:
                list_profile.enable()
            cpu0 = time.process_time()
            r = await chan.call({"op": "fetch", "path": LIST_PATH})
            cpu.append(time.process_time() - cpu0)
            if profiling:
                list_profile.disable()
            if r["status"] != 200 or r["digest"] != first["digest"]:
                raise RuntimeError(f"list changed between repetitions: {r}")
            samples.append(r["t_last"] - r["t_send"])
        out["list"] = samples
        out["list_cpu"] = cpu
        await chan.call({"op": "list_close"})

        # -- idle watches: memory (RSS) --
        n = args.watchers
        gc.collect()
        await trio.sleep(0.2)
        rss0 = rss_bytes()
        opened = await chan.call(
            {
                "op": "watch_open",
                "n": n,
                "path": server.watch_path(),
                "concurrency": args.concurrency,
            }
        )
        await wait_until(lambda: server.watching() == n)
        await trio.sleep(0.5)
        gc.collect()
        rss1 = rss_bytes()
        out["open_seconds"] = opened["seconds"]
        out["rss_per_watch"] = (rss1 - rss0) / n
        out["rss_delta"] = rss1 - rss0

        # -- fan-out --
        fanout: list[float] = []
        details = []
        for k in range(args.reps + 1):  # k == 0: warm-up
            gc.collect()
            await trio.sleep(0.05)
            if profiling and k:
                fanout_profile.enable()
            cpu0 = time.process_time()
            t0 = now()
            server.commit(k)
            t_committed = now()
            await server.deliver()
            t_delivered = now()
            got = await chan.call({"op": "wait_event", "k": k, "limit": 30.0})
            fanout_cpu = time.process_time() - cpu0
            if profiling and k:
                fanout_profile.disable()
            if got["received"] != n:
                raise RuntimeError(f"fan-out {k}: only {got['received']} of {n} watchers got it")
            if k == 0:
                out["watch_line_wire_bytes"] = got["wire_bytes"]
                continue
            fanout.append(got["t_last"] - t0)
            details.append(
                {
                    "commit": t_committed - t0,
                    "server_sent": t_delivered - t0,
                    "first": got["t_first"] - t0,
                    "median": got["t_median"] - t0,
                    "cpu": fanout_cpu,
                }
            )
        out["fanout"] = fanout
        out["fanout_details"] = {
            key: statistics.median(d[key] for d in details) for key in details[0]
        }
        await chan.call({"op": "watch_close"})
        await wait_until(lambda: server.watching() == 0)

        # -- idle watches: memory (tracemalloc, Python heap) --
        gc.collect()
        await trio.sleep(0.2)
        tracemalloc.start(1)
        snap0 = tracemalloc.take_snapshot()
        await chan.call(
            {
                "op": "watch_open",
                "n": n,
                "path": server.watch_path(),
                "concurrency": args.concurrency,
            }
        )
        await wait_until(lambda: server.watching() == n)
        await trio.sleep(0.5)
        gc.collect()
        snap1 = tracemalloc.take_snapshot()
        tracemalloc.stop()
        stats = snap1.compare_to(snap0, "filename")
        out["traced_per_watch"] = sum(s.size_diff for s in stats) / n
        out["traced_top"] = [
            (_short(s.traceback[0].filename), s.size_diff / n)
            for s in sorted(stats, key=lambda s: -s.size_diff)[:6]
        ]
        await chan.call({"op": "watch_close"})
        await wait_until(lambda: server.watching() == 0)
    if profiling:
        for name, profile in (("list", list_profile), ("fan-out", fanout_profile)):
            buf = io.StringIO()
            pstats.Stats(profile, stream=buf).sort_stats("tottime").print_stats(25)
            print(f"== fake server, {name} repetitions ==\n{buf.getvalue()}", file=sys.stderr)
    return out


def _short(filename: str) -> str:
    for marker in ("site-packages/", "kr8s_trio/", "benchmarks/", "lib/python3"):
        i = filename.find(marker)
        if i >= 0:
            return filename[i:].removeprefix("site-packages/")
    return filename


class FakeServer(ServerUnderTest):
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.token = cluster.token
        self.port = int(cluster.url.rsplit(":", 1)[1])
        self.bucket = cluster.state.store.bucket(("", "pods"))
        self.name = ""

    def watch_path(self) -> str:
        rv = self.cluster.state.store.revision
        return f"/api/v1/namespaces/{FANOUT_NAMESPACE}/pods?watch=1&resourceVersion={rv}"

    def watching(self) -> int:
        return len(self.bucket.watchers)

    def commit(self, k: int) -> None:
        self.cluster.patch(
            "pods",
            self.name,
            {"metadata": {"annotations": {"bench.kr8s-trio.dev/change": f"{k:06d}"}}},
            namespace=FANOUT_NAMESPACE,
        )


async def fake_role(args: argparse.Namespace, tmp: Path) -> JSONObject:
    from kr8s_trio.testing import open_fake_cluster
    from kr8s_trio.testing._state import ClusterConfig
    from kr8s_trio.testing._store import object_key

    config = ClusterConfig(seed=args.seed, start_time=START)
    async with open_fake_cluster(config) as cluster:
        t0 = now()
        state = cluster.state
        uids = create_replicasets(cluster, args.seed)
        pods = state.resource("pods").storage_key
        for i in range(args.pods):
            obj = pod_object(args.seed, i, uids[APPS[i % len(APPS)][0]], "default", CREATED)
            state.store.put(pods, object_key("default", obj["metadata"]["name"]), obj)
        # the pod whose changes are fanned out: seeded the same way, changed through the REST path
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FANOUT_NAMESPACE}}
        )
        target = pod_object(args.seed, args.pods, "", FANOUT_NAMESPACE, CREATED)
        del target["metadata"]["ownerReferences"]
        state.store.put(pods, object_key(FANOUT_NAMESPACE, target["metadata"]["name"]), target)
        state.controllers.drain()
        seed_seconds = now() - t0
        pki = cluster.pki
        # the raw server uses this very CA and serving certificate (private attributes: this is
        # a benchmark, and "same certificate" is the point)
        (tmp / "ca.pem").write_bytes(pki.ca_pem)
        (tmp / "server.pem").write_bytes(pki._server_chain_pem)
        key = tmp / "server.key"
        key.touch(mode=0o600)
        key.write_bytes(pki._server_key_pem)
        server = FakeServer(cluster)
        server.name = target["metadata"]["name"]
        out = await run_scenarios(server, args, "fake", tmp)
        out["seed_seconds"] = seed_seconds
        # the last change's event line, built as WatchStream._emit builds it, for the raw
        # server (the notes show the wire size both clients measured)
        stored = state.store.get(pods, object_key(FANOUT_NAMESPACE, server.name))
        assert stored is not None
        line = b'{"type":"MODIFIED","object":' + stored.json + b"}\n"
        (tmp / "line.bin").write_bytes(line)
        out["watch_line_bytes"] = len(line)
        return out


class RawServer(ServerUnderTest):
    """The lower bound: pre-encoded bytes straight into trio TLS streams."""

    def __init__(self, list_body: bytes, line: bytes) -> None:
        self.list_head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(list_body)).encode() + b"\r\n\r\n"
        )
        self.list_body = memoryview(list_body)
        self.chunk = f"{len(line):x}\r\n".encode() + line + b"\r\n"
        self.watchers: list[trio.SSLStream[trio.SocketStream]] = []

    def watch_path(self) -> str:
        return f"/api/v1/namespaces/{FANOUT_NAMESPACE}/pods?watch=1"

    def watching(self) -> int:
        return len(self.watchers)

    def commit(self, k: int) -> None:
        pass

    async def deliver(self) -> None:
        chunk = self.chunk
        for stream in self.watchers:
            await stream.send_all(chunk)

    async def handle(self, tcp: trio.SocketStream, ctx: ssl.SSLContext) -> None:
        stream = trio.SSLStream(tcp, ctx, server_side=True, https_compatible=True)
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.do_handshake()
            buf = b""
            while True:
                while (end := buf.find(b"\r\n\r\n")) < 0:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                request, buf = buf[:end], buf[end + 4 :]
                target = request.split(b" ", 2)[1]
                if b"watch=" in target:
                    await stream.send_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"transfer-encoding: chunked\r\n\r\n"
                    )
                    self.watchers.append(stream)
                    try:
                        while await stream.receive_some(65536):
                            pass
                    finally:
                        self.watchers.remove(stream)
                    return
                await stream.send_all(self.list_head)
                body = self.list_body
                for i in range(0, len(body), RAW_SLICE):
                    await stream.send_all(body[i : i + RAW_SLICE])


async def raw_role(args: argparse.Namespace, tmp: Path) -> JSONObject:
    from kr8s_trio.testing._tls import ClusterPKI

    # ClusterPKI's own server_ssl_context over the fake's CA and certificate: same settings
    pki = ClusterPKI.__new__(ClusterPKI)
    pki._ca_pem = (tmp / "ca.pem").read_bytes()
    pki._server_chain_pem = (tmp / "server.pem").read_bytes()
    pki._server_key_pem = (tmp / "server.key").read_bytes()
    ctx = pki.server_ssl_context()
    server = RawServer((tmp / "list.bin").read_bytes(), (tmp / "line.bin").read_bytes())
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        server.port = int(listeners[0].socket.getsockname()[1])

        async def handler(tcp: trio.SocketStream) -> None:
            await server.handle(tcp, ctx)

        nursery.start_soon(trio.serve_listeners, handler, listeners)
        out = await run_scenarios(server, args, "raw", tmp)
        nursery.cancel_scope.cancel()
    return out


# -- the orchestrator ------------------------------------------------------------------------


def run_role(role: str, args: argparse.Namespace, tmp: Path) -> JSONObject:
    options = ["--tmp", str(tmp), "--pods", str(args.pods), "--watchers", str(args.watchers)]
    options += ["--reps", str(args.reps), "--seed", str(args.seed)]
    options += ["--concurrency", str(args.concurrency)]
    if args.profile:
        options.append("--profile")
    return common_run_role(SCRIPT, role, options)


def report(fakes: list[JSONObject], raws: list[JSONObject], args: argparse.Namespace) -> str:
    """The table and its notes."""

    def pool(runs: list[JSONObject], key: str) -> list[float]:
        return [x for r in runs for x in r[key]]

    def each(runs: list[JSONObject], key: str) -> list[float]:
        return [r[key] for r in runs]

    med = statistics.median
    f0 = fakes[0]
    none = "\u2014"
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(label: str, key: str, target: float | None, pooled: bool = True) -> None:
        fake, raw = (
            (pool(fakes, key), pool(raws, key)) if pooled else (each(fakes, key), each(raws, key))
        )
        verdict = "info" if target is None else ("PASS" if med(fake) < target else "FAIL")
        goal = none if target is None else f"< {target} s"
        rows.append((label, spread(fake), spread(raw), ratio(fake, raw), goal, verdict))

    row(
        f"list {args.pods:,} pods ({f0['list_bytes'] / 1e6:.1f} MB), time to last byte",
        "list",
        LIST_TARGET,
    )
    row("  same, first request after seeding (JSON cache cold)", "list_first", None, pooled=False)
    row(
        f"1 event fanned out to {args.watchers:,} watches, until all have it",
        "fanout",
        FANOUT_TARGET,
    )
    row(
        f"open {args.watchers:,} watches ({args.concurrency} at a time)",
        "open_seconds",
        None,
        pooled=False,
    )
    for key, label in (
        ("rss_per_watch", "server memory per idle watch: VmRSS growth / N"),
        ("traced_per_watch", "server memory per idle watch: tracemalloc / N"),
    ):
        fake, raw = each(fakes, key), each(raws, key)
        rows.append(
            (
                label,
                spread(fake, fmt_bytes),
                spread(raw, fmt_bytes),
                ratio(fake, raw),
                "printed",
                "info",
            )
        )

    headers = ("scenario", "fake server", "raw lower bound", "ratio", "target", "result")
    table = markdown_table(headers, rows)
    same_list = all(r["list_digest"] == f0["list_digest"] for r in fakes + raws)
    fd = {k: med(r["fanout_details"][k] for r in fakes) for k in f0["fanout_details"]}
    rd = {k: med(r["fanout_details"][k] for r in raws) for k in raws[0]["fanout_details"]}
    top = ", ".join(f"{name} {fmt_bytes(size)}" for name, size in f0["traced_top"])
    rtop = ", ".join(f"{name} {fmt_bytes(size)}" for name, size in raws[0]["traced_top"])
    notes = f"""
Times: median (min{DASH}max, n = repetitions pooled over {len(fakes)} process(es) per server);
ratio = fake median / raw median; PASS/FAIL compares the fake's median with the target.

Pods: {args.pods:,} deterministic Deployment-style pods (seed {args.seed}), median \
{f0["median_pod_bytes"]:,.0f} B of compact JSON; PodList {f0["list_bytes"]:,} B; first item \
{f0["first_pod"]}. The raw server sent the same bytes: {"yes" if same_list else "NO"} (blake2b \
of every response body). Seeding took {fmt_time(med(each(fakes, "seed_seconds")))} \
(store.put of complete pods, see _pods.py).

List: one kept-alive TLS connection; timed in the client process from just before sending the \
request to the last body byte. Raw: the headers, then the body in 256 KiB slices. The first \
request after seeding encodes every pod once (the fake caches each stored version's JSON).

Fan-out: {args.watchers:,} TLS connections, each watching \
/api/v1/namespaces/{FANOUT_NAMESPACE}/pods?watch=1&resourceVersion=<now>. The timer starts in \
the server process just before FakeCluster.patch() (a merge patch of one annotation through the \
REST layer, as a PATCH request; it commits the change and queues the event on every watch \
synchronously) and stops in the client process when the last watcher has read the whole line \
(CLOCK_MONOTONIC in both). Event line {f0["watch_line_bytes"]:,} B \
({f0["watch_line_wire_bytes"]:,} B on the wire with chunk framing, from the raw server \
{raws[0]["watch_line_wire_bytes"]:,} B). Fake: patch + enqueue \
{fmt_time(fd["commit"])}, first watcher has it at {fmt_time(fd["first"])}, median watcher \
{fmt_time(fd["median"])}. Raw: one task writes the line to each connection in turn (all \
written at {fmt_time(rd["server_sent"])}); first watcher {fmt_time(rd["first"])}, median \
{fmt_time(rd["median"])}.

Server CPU (process_time of the server process, client excluded): per list, fake \
{fmt_time(med(pool(fakes, "list_cpu")))}, raw {fmt_time(med(pool(raws, "list_cpu")))}; per \
fan-out (until the last watcher has the line), fake {fmt_time(fd["cpu"])}, raw \
{fmt_time(rd["cpu"])}.

Clients: a separate process with its own trio loop (its own core), raw trio SSLStreams and a \
minimal HTTP/1.1 reader (no httpx), the same code for both servers: the server's loop does not \
also run {args.watchers:,} client tasks, and the client costs the same in both columns.

Memory: the server process's VmRSS (/proc/self/status), after gc, before opening and 0.5 s \
after {args.watchers:,} watches are open and registered, divided by N: everything, OpenSSL's \
buffers included, but allocator reuse makes it noisy. tracemalloc: a second pass, the Python \
allocations alive with the watches open, divided by N (OpenSSL's C buffers not included). \
Biggest per-watch allocators, fake: {top}. Raw: {rtop}.
"""
    failed = [r[0].strip() for r in rows if r[5] == "FAIL"]
    verdict = "all targets met" if not failed else "TARGET MISSED: " + "; ".join(failed)
    return table + "\n" + notes + "\n" + verdict


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions per scenario")
    parser.add_argument(
        "--rounds", type=int, default=1, help="server processes per server (fake, raw, ...)"
    )
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--watchers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--concurrency", type=int, default=32, help="watch connections opened at a time"
    )
    parser.add_argument("--quick", action="store_true", help="1,000 pods, 100 watches, 3 reps")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results there")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the fake server during the timed list and fan-out repetitions, print "
        "the top functions to stderr (slows it down: do not read the table of such a run)",
    )
    parser.add_argument("--role", choices=("fake", "raw", "client"), help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.pods, args.watchers, args.reps = 1_000, 100, 3
    servers = {
        "fake": lambda: fake_role(args, Path(args.tmp)),
        "raw": lambda: raw_role(args, Path(args.tmp)),
    }
    if play_role(args.role, client_role, servers):
        return 0
    fakes: list[JSONObject] = []
    raws: list[JSONObject] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-fake-server-") as tmpdir:
        tmp = Path(tmpdir)
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds}: fake server ...", file=sys.stderr, flush=True)
            fakes.append(run_role("fake", args, tmp))
            print(f"round {i + 1}/{args.rounds}: raw server ...", file=sys.stderr, flush=True)
            raws.append(run_role("raw", args, tmp))
    print_results(
        "bench_fake_server",
        started,
        report(fakes, raws, args),
        {"fake": fakes, "raw": raws},
        args.json,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
