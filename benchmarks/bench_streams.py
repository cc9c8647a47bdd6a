"""Streams through the API server: port-forward throughput and round trips, and exec round trips,
against a direct loopback TCP connection to the same server code in the same run.

    python benchmarks/bench_streams.py            # full run (~1 min): 64 MiB transfers x 5 reps
    python benchmarks/bench_streams.py --quick    # smoke run (~15 s): 16 MiB x 3 reps
    python benchmarks/bench_streams.py --help

Scenarios:

* **download / upload**: one connection moves ``--mib`` MiB (after a one-line command) from the
  server to the client, or from the client to the server (which answers ``ok`` once it has it
  all); MB/s from just before connecting to the last byte (download) or the ``ok`` (upload).
* **4 connections down**: the same total split over 4 concurrent connections.
* **echo round trips**: 64-byte messages echoed back, one at a time, on one open connection.
* **exec round trips** (when ``kr8s_trio._exec`` exists): 64-byte lines through ``cat`` in
  ``pod.open_exec(["cat"], stdin=True)``, compared with the echo over the direct socket.

"through kr8s_trio" is `kr8s_trio.portforward.PortForward` (listening on 127.0.0.1 in the client
process) -> WebSocket over TLS to the fake API server -> the pod's port handler; "direct" is a
plain trio TCP server in the fake's process running the same handler code. The fake cluster
runs in its own process (``--role fake``, kubelet on, controllers off) and starts the client
in a child process (``--role client``): each side gets a core. Medians over ``--reps``;
repetitions alternate which path goes first. See README.md.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.util
import os
import sys
import time
from typing import Any

import trio

# this directory is on sys.path
from _common import (
    JSONObject,
    client_process,
    markdown_table,
    play_role,
    print_results,
    ratio,
    run_role,
    serve_commands,
    spread,
    wait_until,
)

SCRIPT = os.path.abspath(__file__)
BENCH_PORT = 9000
CHUNK = 256 * 1024
ECHO_SIZE = 64
PARALLEL = 4
HAS_EXEC = importlib.util.find_spec("kr8s_trio._exec") is not None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the server side (in the fake's process): one handler for both paths ----------------------


async def _read_line(stream: Any) -> tuple[bytes, bytes]:
    data = b""
    while b"\n" not in data:
        chunk = await stream.receive_some(CHUNK)
        if not chunk:
            raise EOFError("the client left before its command")
        data += chunk
    line, _, rest = data.partition(b"\n")
    return line, rest


async def bench_handler(stream: Any) -> None:
    """``down N``: send N bytes and close; ``up N``: read N bytes, answer ``ok``; ``echo``:
    echo until EOF. ``stream`` is a trio stream (a pod's forwarded connection or a socket)."""
    line, rest = await _read_line(stream)
    verb, _, arg = line.decode().partition(" ")
    if verb == "down":
        left = int(arg)
        block = b"x" * CHUNK
        while left > 0:
            await stream.send_all(block[: min(left, CHUNK)])
            left -= CHUNK
    elif verb == "up":
        left = int(arg) - len(rest)
        while left > 0:
            data = await stream.receive_some(CHUNK)
            if not data:
                return
            left -= len(data)
        await stream.send_all(b"ok")
    elif verb == "echo":
        if rest:
            await stream.send_all(rest)
        while data := await stream.receive_some(CHUNK):
            await stream.send_all(data)


async def fake_role(options: JSONObject) -> JSONObject:
    from kr8s_trio.testing import open_fake_cluster

    async with open_fake_cluster(kubelet=True, controllers=False) as cluster:
        container = {
            "name": "c",
            "image": "busybox",
            "ports": [{"containerPort": BENCH_PORT}],
        }
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "bench"},
                "spec": {"containers": [container]},
            }
        )

        def running() -> bool:
            return cluster.get("pods", "bench").get("status", {}).get("phase") == "Running"

        await wait_until(running)
        cluster.ports.register("default", "bench", BENCH_PORT, bench_handler)
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(trio.serve_tcp, bench_handler, 0, host="127.0.0.1")
            )
            direct_port = listeners[0].socket.getsockname()[1]
            async with client_process(SCRIPT) as chan:
                await chan.call({"op": "setup", "kubeconfig": str(cluster.kubeconfig_path)})
                results = await run_scenarios(chan, direct_port, options)
            nursery.cancel_scope.cancel()
    return results


async def run_scenarios(chan: Any, direct_port: int, options: JSONObject) -> JSONObject:
    size = int(options["mib"]) << 20
    scenarios: list[tuple[str, JSONObject]] = [
        ("download", {"op": "down", "size": size, "parallel": 1}),
        ("upload", {"op": "up", "size": size}),
        (f"{PARALLEL} connections down", {"op": "down", "size": size, "parallel": PARALLEL}),
        ("echo round trips", {"op": "echo", "n": options["trips"]}),
    ]
    results: JSONObject = {name: {"tunnel": [], "direct": []} for name, _ in scenarios}
    if HAS_EXEC:
        results["exec round trips"] = {"tunnel": [], "direct": []}
    for rep in range(int(options["reps"])):
        progress(f"rep {rep + 1}/{options['reps']}")
        paths = ["tunnel", "direct"] if rep % 2 == 0 else ["direct", "tunnel"]
        for name, command in scenarios:
            for path in paths:
                answer = await chan.call({**command, "path": path, "direct_port": direct_port})
                results[name][path].append(answer["value"])
        if HAS_EXEC:
            for path in paths:
                op = "exec" if path == "tunnel" else "echo"
                answer = await chan.call(
                    {"op": op, "n": options["trips"], "path": "direct", "direct_port": direct_port}
                )
                results["exec round trips"][path].append(answer["value"])
    return results


# -- the client process ------------------------------------------------------------------------


class Client:
    def __init__(self) -> None:
        self.pod: Any = None
        self.forward: Any = None

    async def handle(self, cmd: JSONObject, nursery: trio.Nursery) -> JSONObject:
        op = cmd["op"]
        if op == "setup":
            from kr8s_trio.objects import Pod

            os.environ["KUBECONFIG"] = cmd["kubeconfig"]
            self.pod = await Pod.get("bench")
            self.forward = await nursery.start(self.pod.portforward(BENCH_PORT, "auto").run)
            return {}
        port = self.forward.local_port if cmd["path"] == "tunnel" else cmd["direct_port"]
        gc.collect()
        if op == "down":
            return {"value": await self.down(port, cmd["size"], cmd["parallel"])}
        if op == "up":
            return {"value": await self.up(port, cmd["size"])}
        if op == "echo":
            return {"value": await self.echo(port, cmd["n"])}
        if op == "exec":
            return {"value": await self.exec(cmd["n"])}
        raise ValueError(f"unknown op {op!r}")

    @staticmethod
    async def down(port: int, size: int, parallel: int) -> float:
        """MB/s (10^6 bytes) of ``size`` bytes over ``parallel`` connections."""
        share = size // parallel

        async def one() -> None:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(f"down {share}\n".encode())
                got = 0
                while got < share:
                    data = await stream.receive_some(CHUNK)
                    if not data:
                        raise EOFError(f"got {got} of {share} bytes")
                    got += len(data)

        t0 = time.perf_counter()
        async with trio.open_nursery() as n:
            for _ in range(parallel):
                n.start_soon(one)
        return share * parallel / (time.perf_counter() - t0) / 1e6

    @staticmethod
    async def up(port: int, size: int) -> float:
        block = b"y" * CHUNK
        t0 = time.perf_counter()
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(f"up {size}\n".encode())
            left = size
            while left > 0:
                await stream.send_all(block[: min(left, CHUNK)])
                left -= CHUNK
            answer = b""
            while len(answer) < 2:
                data = await stream.receive_some()
                if not data:
                    raise EOFError("no ok")
                answer += data
        return size / (time.perf_counter() - t0) / 1e6

    @staticmethod
    async def _trips(send: Any, receive: Any, n: int) -> float:
        message = b"z" * (ECHO_SIZE - 1) + b"\n"
        t0 = time.perf_counter()
        for _ in range(n):
            await send(message)
            got = 0
            while got < ECHO_SIZE:
                data = await receive()
                if not data:
                    raise EOFError("the echo ended")
                got += len(data)
        return n / (time.perf_counter() - t0)

    async def echo(self, port: int, n: int) -> float:
        """Round trips per second on one connection."""
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(b"echo\n")
            return await self._trips(stream.send_all, stream.receive_some, n)

    async def exec(self, n: int) -> float:
        """Round trips per second through ``cat`` in an exec session."""
        async with self.pod.open_exec(["cat"], stdin=True, stderr=False) as proc:
            rate = await self._trips(proc.stdin.send_all, proc.stdout.receive_some, n)
            await proc.stdin.aclose()
            await proc.wait()
        return rate


async def client_main() -> None:
    client = Client()
    await serve_commands(client.handle)


# -- the orchestrator --------------------------------------------------------------------------


def mbs(value: float) -> str:
    return f"{value:.0f} MB/s"


def per_s(value: float) -> str:
    return f"{value:,.0f}/s"


def report(results: JSONObject) -> str:
    rows = []
    for name, samples in results.items():
        fmt = mbs if "round trips" not in name else per_s
        rows.append(
            [
                name,
                spread(samples["tunnel"], fmt),
                spread(samples["direct"], fmt),
                ratio(samples["direct"], samples["tunnel"]),
            ]
        )
    headers = ["scenario", "through kr8s_trio", "direct loopback", "cost (direct ÷ tunnel)"]
    notes = (
        "\nthrough kr8s_trio: PortForward -> WebSocket (TLS) -> fake API server -> port handler; "
        "direct: a TCP socket to the same handler.\ncost: how many times longer the same work "
        "takes through the tunnel (direct rate ÷ tunnel rate).\nexec round trips: `cat` in "
        "pod.open_exec (through kr8s_trio) vs the echo over the direct socket."
    )
    return markdown_table(headers, rows) + "\n" + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role")
    parser.add_argument("--quick", action="store_true", help="16 MiB, 3 reps, 200 round trips")
    parser.add_argument("--mib", type=int, help="MiB per transfer (default 64)")
    parser.add_argument("--reps", type=int, help="repetitions (default 5)")
    parser.add_argument("--trips", type=int, help="round trips per sample (default 1000)")
    parser.add_argument("--options", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="write every sample to this file")
    args = parser.parse_args()
    import json

    options = json.loads(args.options) if args.options else {}
    if play_role(args.role, client_main, {"fake": functools.partial(fake_role, options)}):
        return
    options = {
        "mib": args.mib or (16 if args.quick else 64),
        "reps": args.reps or (3 if args.quick else 5),
        "trips": args.trips or (200 if args.quick else 1000),
    }
    started = time.monotonic()
    results = run_role(SCRIPT, "fake", ["--options", json.dumps(options)])
    print_results(
        "bench_streams",
        started,
        report(results),
        results,
        args.json,
        versions=f", {options['mib']} MiB per transfer, {options['trips']} round trips",
    )


if __name__ == "__main__":
    main()
