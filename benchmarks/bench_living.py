"""What the fake cluster's living parts cost: the simulated kubelet (and controllers) running
pods a client creates, and exec sessions; each against a raw lower bound.

    python benchmarks/bench_living.py            # full run: 1,000 pods, 2,000 round trips
    python benchmarks/bench_living.py --quick    # smoke run: 300 pods, 500 round trips
    python benchmarks/bench_living.py --help

Scenarios:

* **pods -> Ready**: against ``open_fake_cluster()`` (kubelet and controllers on, as by
  default), a client creates 1,000 pods with ``POST`` over HTTPS (httpx, 4 kept-alive
  connections) while a watch on the namespace decodes every event; time from just before the
  first create is sent until the watch has seen every pod with condition ``Ready=True``. Raw
  lower bound: the same creates and watch against a fake with ``kubelet=False``, until the watch
  has seen the 1,000 ``ADDED`` events. The ratio is what the kubelet costs on top of the API.
* **Deployment -> readyReplicas** (info): one ``POST`` of a Deployment of 1,000 replicas; time
  until a watch of it sees ``status.readyReplicas == 1000`` (given up after ``--limit``
  seconds, 60 by default, and reported as skipped); at most 3 repetitions.
* **exec round trips**: one WebSocket exec session of ``cat`` (``v5.channel.k8s.io``); the
  client writes a short line on channel 0 and waits for it on channel 1, N times: round trips
  per second. **exec sessions**: ``echo hi`` in a new WebSocket each time, until the server has
  sent the exit status on channel 3 and closed: sessions per second. Raw lower bound: a bare trio
  TLS WebSocket server (wsproto) on loopback sending the same frames, same client code.

Processes as in ``bench_fake_server.py`` (see `_common`): the orchestrator runs each server in a
fresh process (``--role fake``: fake clusters; ``--role raw``: the bare WebSocket server), and
each server process drives a client in a child process (``--role client``), so the server's
trio loop runs only the server and each side gets a core. The pods -> Ready repetitions run
kubelet on and off alternately in the same process, each in a fresh cluster.

Reproducible: the pods come from `_pods` with a fixed seed (names, manifests), each cluster is
seeded and has a fixed start time, the creates go out in a fixed order over each connection;
times are medians over ``--reps`` repetitions (min-max and n printed) after an untimed warm-up,
``gc.collect()`` in the server before each, outside the timer. See README.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import ssl
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import trio

# _common, _pods: this directory is on sys.path
from _common import (
    CLIENT_TIMEOUT,
    DASH,
    NONE,
    Channel,
    JSONObject,
    client_process,
    fmt_time,
    markdown_table,
    now,
    play_role,
    print_results,
    ratio,
    run_role,
    serve_commands,
    spread,
)
from _pods import pod_manifest, pod_name
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
)

from kr8s_trio._core._channel_status import encode_status, success_status
from kr8s_trio._core._channels import V5, get_protocol
from kr8s_trio.testing._podhealth import is_ready

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "testing"))
from wsclient import open_ws

if TYPE_CHECKING:
    from kr8s_trio.testing import FakeCluster

START = datetime.datetime(2026, 11, 21, 9, 0, 0, tzinfo=datetime.UTC)
NAMESPACE = "default"
PODS_PATH = f"/api/v1/namespaces/{NAMESPACE}/pods"
DEPLOYMENTS_PATH = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
DEPLOYMENT = "living"
EXEC_POD = "exec-target"
WARMUP_PODS = 20
DEPLOYMENT_REPS = 3  # an info row: fewer repetitions, to keep the run short
SCRIPT = os.path.abspath(__file__)
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
#: the exit status frame of a command that succeeded (channel 3), as the fake encodes it
SUCCESS = bytes([3]) + cast(bytes, encode_status(get_protocol(V5), success_status()))
MARKER = b"\x01"  # the empty stdout message that says the session is established
CLOSE_STDIN = b"\xff\x00"  # v5: the client closes stdin


def living_pod(seed: int, index: int) -> JSONObject:
    """Pod ``index`` of `_pods` as a client would create it for the simulated kubelet: no
    owner (no ReplicaSet to adopt or delete it), no ``nodeName`` (the fake's scheduler binds
    it), and a readiness probe with no initial delay (else it is ready only 5 s later)."""
    pod = pod_manifest(seed, index, "", NAMESPACE)
    del pod["metadata"]["ownerReferences"]
    del pod["spec"]["nodeName"]
    pod["spec"]["containers"][0]["readinessProbe"]["initialDelaySeconds"] = 0
    return pod


def living_deployment(seed: int, replicas: int) -> JSONObject:
    spec = living_pod(seed, 0)["spec"]
    labels = {"app.kubernetes.io/name": DEPLOYMENT}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


# -- the client process ------------------------------------------------------------------------


class Endpoint:
    """Where the client connects: what `wsclient.open_ws` reads of a `FakeCluster`."""

    def __init__(self, url: str, ca_pem: str, token: str) -> None:
        self.url, self.token, self._ca_pem = url, token, ca_pem

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=self._ca_pem)
        return ctx

    def http(self, connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            verify=self.ssl_context(),
            headers={"Authorization": f"Bearer {self.token}"},
            limits=httpx.Limits(max_connections=connections),
            timeout=httpx.Timeout(CLIENT_TIMEOUT),
        )


class Watch:
    """One watch stream, decoding every event until ``finished(event)`` says so."""

    def __init__(self, finished: Callable[[JSONObject], bool]) -> None:
        self.finished = finished
        self.events: Counter[str] = Counter()
        self.bytes = 0
        self.t_done = 0.0
        self.done = trio.Event()

    async def run(
        self,
        api: httpx.AsyncClient,
        path: str,
        params: dict[str, str],
        task_status: trio.TaskStatus[None],
    ) -> None:
        params = {**params, "watch": "1", "allowWatchBookmarks": "false"}
        async with api.stream("GET", path, params=params) as response:
            if response.status_code != 200:
                raise RuntimeError(f"watch answered {response.status_code}")
            task_status.started()
            async for line in response.aiter_lines():
                if not line:
                    continue
                event = json.loads(line)
                self.events[event["type"]] += 1
                self.bytes += len(line) + 1
                if self.finished(event):
                    self.t_done = now()
                    self.done.set()
                    return


async def _resource_version(api: httpx.AsyncClient, path: str) -> str:
    listed = await api.get(path, params={"limit": "1"})
    listed.raise_for_status()
    return str(listed.json()["metadata"]["resourceVersion"])


async def create_pods(endpoint: Endpoint, cmd: JSONObject) -> JSONObject:
    """Create ``n`` pods over ``connections`` connections (connection ``w`` sends pods
    ``w, w + connections, ...`` in order) while a watch waits for all of them: Ready (``ready``)
    or just ADDED."""
    n: int = cmd["n"]
    connections: int = cmd["connections"]
    want_ready: bool = cmd["ready"]
    bodies = [json.dumps(living_pod(cmd["seed"], i)).encode() for i in range(n)]
    names: set[str] = set()

    def finished(event: JSONObject) -> bool:
        obj = event["object"]
        if is_ready(obj) if want_ready else event["type"] == "ADDED":
            names.add(obj["metadata"]["name"])
        return len(names) == n

    watch = Watch(finished)
    answered: list[float] = []

    async def creator(api: httpx.AsyncClient, first: int) -> None:
        for i in range(first, n, connections):
            response = await api.post(PODS_PATH, content=bodies[i], headers=JSON_HEADERS)
            if response.status_code != 201:
                raise RuntimeError(f"create answered {response.status_code}: {response.text}")
        answered.append(now())

    async with endpoint.http(connections) as api, endpoint.http(1) as watch_api:
        rv = await _resource_version(api, PODS_PATH)
        async with trio.open_nursery() as nursery:
            # the connections are open before the timer starts, as a client's that has been up
            for _ in range(connections):
                nursery.start_soon(api.get, "/version")
        async with trio.open_nursery() as nursery:
            await nursery.start(watch.run, watch_api, PODS_PATH, {"resourceVersion": rv})
            t0 = now()
            for w in range(connections):
                nursery.start_soon(creator, api, w)
            with trio.fail_after(CLIENT_TIMEOUT):
                await watch.done.wait()
    if names != {pod_name(cmd["seed"], i) for i in range(n)}:
        raise RuntimeError("the watch saw other pods than those created")
    return {
        "seconds": watch.t_done - t0,
        "answered": max(answered) - t0,
        "events": dict(watch.events),
        "watch_bytes": watch.bytes,
    }


async def create_deployment(endpoint: Endpoint, cmd: JSONObject) -> JSONObject:
    """Create a Deployment of ``n`` replicas; wait until a watch sees them all ready."""
    n = cmd["n"]
    body = json.dumps(living_deployment(cmd["seed"], n)).encode()
    watch = Watch(lambda event: (event["object"].get("status") or {}).get("readyReplicas") == n)
    out: JSONObject = {"seconds": None, "answered": None}
    async with endpoint.http(1) as api, endpoint.http(1) as watch_api:
        rv = await _resource_version(api, DEPLOYMENTS_PATH)
        params = {"resourceVersion": rv, "fieldSelector": f"metadata.name={DEPLOYMENT}"}
        async with trio.open_nursery() as nursery:
            await nursery.start(watch.run, watch_api, DEPLOYMENTS_PATH, params)
            with trio.move_on_after(cmd["limit"]):
                t0 = now()
                response = await api.post(DEPLOYMENTS_PATH, content=body, headers=JSON_HEADERS)
                if response.status_code != 201:
                    raise RuntimeError(f"create answered {response.status_code}: {response.text}")
                out["answered"] = now() - t0
                await watch.done.wait()
                out["seconds"] = watch.t_done - t0
            nursery.cancel_scope.cancel()
    out["events"] = dict(watch.events)
    return out


def _exec_path(*argv: str, stdin: bool = False) -> str:
    query = "&".join(f"command={a}" for a in argv)
    return f"{PODS_PATH}/{EXEC_POD}/exec?{query}{'&stdin=true' if stdin else ''}&stdout=true"


async def exec_round_trips(endpoint: Endpoint, cmd: JSONObject) -> JSONObject:
    """Per repetition (the first is a short warm-up), one ``cat`` session: ``n`` lines written
    on channel 0, each awaited back on channel 1; then stdin closed and the status awaited."""
    target = cast("FakeCluster", endpoint)  # open_ws reads url, token and ssl_context()
    rates: list[float] = []
    for rep in range(cmd["reps"] + 1):
        count = cmd["n"] if rep else max(cmd["n"] // 10, 10)
        lines = [f"round trip {i:06d}\n".encode() for i in range(count)]
        async with open_ws(target, _exec_path("cat", stdin=True), subprotocols=[V5]) as ws:
            if await ws.receive() != MARKER:
                raise RuntimeError("no connection-established message")
            t0 = now()
            for line in lines:
                await ws.send(b"\x00" + line)
                echoed = await ws.receive()
                if echoed != b"\x01" + line:
                    raise RuntimeError(f"expected {line!r} back, got {echoed!r}")
            seconds = now() - t0
            await ws.send(CLOSE_STDIN)
            rest = await ws.receive_all()
        if rest != [SUCCESS]:
            raise RuntimeError(f"cat ended with {rest!r}")
        if rep:
            rates.append(count / seconds)
    return {"rates": rates, "line_bytes": len(lines[0])}


async def exec_sessions(endpoint: Endpoint, cmd: JSONObject) -> JSONObject:
    """Per repetition (the first is a warm-up of 10), ``n`` sessions of ``echo hi`` one after
    the other, each a new TLS connection and WebSocket, read until the server has closed it."""
    target = cast("FakeCluster", endpoint)
    rates: list[float] = []
    expected = [MARKER, b"\x01hi\n", SUCCESS]
    for rep in range(cmd["reps"] + 1):
        count = cmd["n"] if rep else 10
        t0 = now()
        for _ in range(count):
            async with open_ws(target, _exec_path("echo", "hi"), subprotocols=[V5]) as ws:
                messages = await ws.receive_all()
            if messages != expected:
                raise RuntimeError(f"echo hi: expected {expected!r}, got {messages!r}")
        if rep:
            rates.append(count / (now() - t0))
    return {"rates": rates}


async def client_role() -> None:
    endpoint: Endpoint | None = None
    ops = {
        "pods": create_pods,
        "deployment": create_deployment,
        "exec_round_trips": exec_round_trips,
        "exec_sessions": exec_sessions,
    }

    async def handle(cmd: JSONObject, nursery: trio.Nursery) -> JSONObject:
        nonlocal endpoint
        if cmd["op"] == "hello":
            endpoint = Endpoint(cmd["url"], cmd["ca"], cmd["token"])
            return {}
        assert endpoint is not None, "hello first"
        return await ops[cmd["op"]](endpoint, cmd)

    await serve_commands(handle)


# -- the server roles --------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def hello(chan: Channel, url: str, ca_pem: bytes, token: str) -> None:
    await chan.call({"op": "hello", "url": url, "ca": ca_pem.decode(), "token": token})


async def run_exec(chan: Channel, args: argparse.Namespace) -> JSONObject:
    """The two exec scenarios, against whatever server the client was told about."""
    gc.collect()
    cpu0 = time.process_time()
    rtt = await chan.call({"op": "exec_round_trips", "n": args.round_trips, "reps": args.reps})
    cpu1 = time.process_time()
    gc.collect()
    sessions = await chan.call({"op": "exec_sessions", "n": args.sessions, "reps": args.reps})
    cpu2 = time.process_time()
    runs = args.reps * args.round_trips + max(args.round_trips // 10, 10)
    return {
        "exec_rtt": rtt["rates"],
        "exec_line_bytes": rtt["line_bytes"],
        "exec_sessions": sessions["rates"],
        "exec_rtt_cpu": (cpu1 - cpu0) / runs,
        "exec_session_cpu": (cpu2 - cpu1) / (args.reps * args.sessions + 10),
    }


async def fake_role(args: argparse.Namespace) -> JSONObject:
    from kr8s_trio.testing import open_fake_cluster
    from kr8s_trio.testing._state import ClusterConfig

    def config(**changes: Any) -> ClusterConfig:
        return ClusterConfig(seed=args.seed, start_time=START, **changes)

    out: JSONObject = {"role": "fake"}
    async with client_process(SCRIPT) as chan:

        async def pods_once(kubelet: bool, n: int) -> JSONObject:
            async with open_fake_cluster(config(kubelet=kubelet)) as cluster:
                await hello(chan, cluster.url, cluster.ca_pem, cluster.token)
                gc.collect()
                cpu0 = time.process_time()
                result = await chan.call(
                    {
                        "op": "pods",
                        "n": n,
                        "ready": kubelet,
                        "seed": args.seed,
                        "connections": args.connections,
                    }
                )
                result["server_cpu"] = time.process_time() - cpu0
                # checks, outside the timer
                pods = cluster.list("pods", NAMESPACE)
                ready = sum(is_ready(p) for p in pods)
                if len(pods) != n or ready != (n if kubelet else 0):
                    raise RuntimeError(f"{len(pods)} pods, {ready} ready; expected {n}")
                result["nodes"] = sorted({p["spec"].get("nodeName") or "" for p in pods})
                return result

        for kubelet in (True, False):
            await pods_once(kubelet, WARMUP_PODS)
        for key in ("pods_ready", "pods_added"):
            out[key] = []
        for rep in range(args.reps):
            for kubelet, key in ((True, "pods_ready"), (False, "pods_added")):
                progress(f"fake: {args.pods:,} pods, kubelet {kubelet}, {rep + 1}/{args.reps}")
                out[key].append(await pods_once(kubelet, args.pods))

        out["deployment"] = []
        deployment_reps = min(args.reps, DEPLOYMENT_REPS)
        for rep in range(deployment_reps):
            progress(f"fake: Deployment of {args.pods:,} replicas, {rep + 1}/{deployment_reps}")
            async with open_fake_cluster(config()) as cluster:
                await hello(chan, cluster.url, cluster.ca_pem, cluster.token)
                gc.collect()
                cpu0 = time.process_time()
                result = await chan.call(
                    {"op": "deployment", "n": args.pods, "seed": args.seed, "limit": args.limit},
                    limit=args.limit + CLIENT_TIMEOUT,
                )
                result["server_cpu"] = time.process_time() - cpu0
                out["deployment"].append(result)
                if result["seconds"] is None:
                    break  # it took too long: once is enough to say so
                status = cluster.get("deployments", DEPLOYMENT).get("status") or {}
                if status.get("readyReplicas") != args.pods:
                    raise RuntimeError(f"Deployment status after the watch: {status}")

        progress(f"fake: exec ({args.round_trips:,} round trips, {args.sessions} sessions)")
        async with open_fake_cluster(config()) as cluster:
            cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": EXEC_POD},
                    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
                }
            )
            if not cluster.kubelet.pod(EXEC_POD).containers["main"].running:
                raise RuntimeError("the exec target's container does not run")
            await hello(chan, cluster.url, cluster.ca_pem, cluster.token)
            out.update(await run_exec(chan, args))
    return out


class EchoServer:
    """The exec lower bound: a bare TLS WebSocket server (wsproto) sending what the fake's exec
    sends: the connection-established message, then for ``cat`` each stdin frame back on
    channel 1 (and the exit status when stdin is closed), for anything else ``hi\\n`` and the
    exit status; then it closes (1000)."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx

    async def handle(self, tcp: trio.SocketStream) -> None:
        stream = trio.SSLStream(tcp, self.ctx, server_side=True, https_compatible=True)
        ws = WSConnection(ConnectionType.SERVER)
        partial = b""

        async def send(event: Any) -> None:
            await stream.send_all(ws.send(event))

        async def finish() -> None:
            await send(BytesMessage(data=SUCCESS))
            await send(CloseConnection(code=1000))

        try:
            while data := await stream.receive_some(65536):
                ws.receive_data(bytes(data))
                for event in ws.events():
                    if isinstance(event, Request):
                        await send(AcceptConnection(subprotocol=V5))
                        await send(BytesMessage(data=MARKER))
                        if "command=cat" not in event.target:
                            await send(BytesMessage(data=b"\x01hi\n"))
                            await finish()
                    elif isinstance(event, BytesMessage):
                        partial += bytes(event.data)
                        if not event.message_finished:
                            continue
                        message, partial = partial, b""
                        if message == CLOSE_STDIN:
                            await finish()
                        elif message[:1] == b"\x00":
                            await send(BytesMessage(data=b"\x01" + message[1:]))
                    elif isinstance(event, Ping):
                        await send(event.response())
                    elif isinstance(event, CloseConnection):
                        if ws.state is ConnectionState.REMOTE_CLOSING:
                            await send(event.response())
                        return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


async def raw_role(args: argparse.Namespace) -> JSONObject:
    from kr8s_trio.testing._tls import ClusterPKI

    pki = ClusterPKI()  # a CA and serving certificate made as the fake's, same context settings
    server = EchoServer(pki.server_ssl_context())
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = int(listeners[0].socket.getsockname()[1])
        nursery.start_soon(trio.serve_listeners, server.handle, listeners)
        async with client_process(SCRIPT) as chan:
            progress(f"raw: exec ({args.round_trips:,} round trips, {args.sessions} sessions)")
            await hello(chan, f"https://127.0.0.1:{port}", pki.ca_pem, "bench")
            out: JSONObject = {"role": "raw", **await run_exec(chan, args)}
        nursery.cancel_scope.cancel()
    return out


# -- the orchestrator --------------------------------------------------------------------------


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s"


def report(fake: JSONObject, raw: JSONObject, args: argparse.Namespace) -> str:
    """The table and its notes."""
    med = statistics.median
    n = args.pods

    def times(runs: list[JSONObject], key: str = "seconds") -> list[float]:
        return [r[key] for r in runs]

    ready, added = times(fake["pods_ready"]), times(fake["pods_added"])
    deployed = [r["seconds"] for r in fake["deployment"] if r["seconds"] is not None]
    rows: list[tuple[str, str, str, str]] = [
        (
            f"{n:,} pods created over HTTPS -> watch sees all Ready",
            spread(ready),
            f"{spread(added)} (kubelet off: {n:,} ADDED)",
            ratio(ready, added),
        ),
        (
            f"Deployment of {n:,} replicas -> readyReplicas {n:,} (info)",
            spread(deployed) if deployed else f"skipped (> {args.limit:g} s)",
            NONE,
            NONE,
        ),
    ]
    for key, label in (
        ("exec_rtt", f"exec round trips, one session (cat, {fake['exec_line_bytes']} B lines)"),
        ("exec_sessions", "exec sessions, a new WebSocket each (echo hi)"),
    ):
        # the ratio as for times: how many times longer one takes than on the raw server
        rows.append(
            (
                label,
                spread(fake[key], fmt_rate),
                spread(raw[key], fmt_rate),
                ratio(raw[key], fake[key]),
            )
        )
    table = markdown_table(("scenario", "living fake", "raw lower bound", "ratio"), rows)

    def med_of(runs: list[JSONObject], key: str, per: int = 1) -> str:
        return fmt_time(med(r[key] for r in runs) / per)

    on, off, deps = fake["pods_ready"], fake["pods_added"], fake["deployment"]
    events = ", ".join(f"{v:,} {k}" for k, v in sorted(on[0]["events"].items()))
    if deployed:
        deployment = (
            f"Deployment: one POST; the create was answered after {med_of(deps, 'answered')} "
            "(the controllers, scheduler and kubelet run the whole rollout inside the request), "
            f"the watch saw readyReplicas {n:,} at {fmt_time(med(deployed))}; server CPU "
            f"{med_of(deps, 'server_cpu')}."
        )
    else:
        deployment = (
            f"Deployment: not ready within {args.limit:g} s (watch events: {deps[0]['events']})."
        )
    paragraphs = [
        f"Times: median (min{DASH}max, n = repetitions, each in a fresh cluster; for the pods, "
        "kubelet on and off alternate). Ratio: fake median / raw median; for rates, raw rate / "
        "fake rate (how many times longer one takes on the fake).",
        f"Pods: {n:,} deterministic pods from _pods.py (seed {args.seed}) without owner or "
        "nodeName, readiness probe without initial delay, POSTed over "
        f"{args.connections} kept-alive httpx connections (HTTP/1.1 over TLS; connection w "
        f"sends pods w, w+{args.connections}, ... in order); one more connection watches the "
        "namespace from the resourceVersion before the first create and decodes every event. "
        f"Kubelet on: the watch saw {events} ({on[0]['watch_bytes'] / 1e6:.1f} MB), pods on "
        f"{len(on[0]['nodes'])} nodes; the last create was answered at "
        f"{med_of(on, 'answered')} (the scheduler and kubelet run inside each create request). "
        f"Kubelet off: {off[0]['watch_bytes'] / 1e6:.1f} MB of ADDED events, the last create "
        f"answered at {med_of(off, 'answered')}. Per pod: {med_of(on, 'seconds', n)} vs "
        f"{med_of(off, 'seconds', n)} wall; server CPU {med_of(on, 'server_cpu', n)} vs "
        f"{med_of(off, 'server_cpu', n)}.",
        deployment,
        "exec: tests/testing/wsclient.py (wsproto over trio TLS) in the client process, the "
        "same code for both servers. Round trips: one line of "
        f"{fake['exec_line_bytes']} B on channel 0, awaited on channel 1, "
        f"{args.round_trips:,} per session (after a short warm-up session): "
        f"{fmt_time(1 / med(fake['exec_rtt']))} each on the fake, "
        f"{fmt_time(1 / med(raw['exec_rtt']))} on the raw server. Sessions: {args.sessions} "
        "per repetition, one after the other, each a new TCP and TLS connection and WebSocket "
        "upgrade, read until the server has closed it (marker, hi, exit status on channel 3, "
        f"close 1000): {fmt_time(1 / med(fake['exec_sessions']))} each vs "
        f"{fmt_time(1 / med(raw['exec_sessions']))}. Server CPU per round trip "
        f"{fmt_time(fake['exec_rtt_cpu'])} vs {fmt_time(raw['exec_rtt_cpu'])}; per session "
        f"{fmt_time(fake['exec_session_cpu'])} vs {fmt_time(raw['exec_session_cpu'])}.",
    ]
    return table + "\n\n" + "\n\n".join(paragraphs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per scenario")
    parser.add_argument("--pods", type=int, default=1_000, help="pods (and Deployment replicas)")
    parser.add_argument("--connections", type=int, default=4, help="connections creating pods")
    parser.add_argument("--round-trips", type=int, default=2_000, help="per exec session")
    parser.add_argument("--sessions", type=int, default=200, help="exec sessions per repetition")
    parser.add_argument(
        "--limit", type=float, default=60.0, help="give the Deployment up after so many seconds"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="300 pods, 500 round trips, 50 sessions, 2 reps"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw results there")
    parser.add_argument("--role", choices=("fake", "raw", "client"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.pods, args.round_trips, args.sessions, args.reps = 300, 500, 50, 2
    servers = {"fake": lambda: fake_role(args), "raw": lambda: raw_role(args)}
    if play_role(args.role, client_role, servers):
        return 0
    started = time.monotonic()
    options = [f"--{k.replace('_', '-')}={v}" for k, v in sorted(vars(args).items())]
    options = [o for o in options if not o.startswith(("--quick=", "--json=", "--role="))]
    progress("fake cluster ...")
    fake = run_role(SCRIPT, "fake", options)
    progress("raw lower bound ...")
    raw = run_role(SCRIPT, "raw", options)
    versions = f", httpx {httpx.__version__}"
    results = {"fake": fake, "raw": raw}
    print_results("bench_living", started, report(fake, raw, args), results, args.json, versions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
