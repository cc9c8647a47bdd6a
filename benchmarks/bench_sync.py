"""What the blocking facade ``kr8s_trio.sync`` adds per call: ``version()`` through the facade
from a plain thread against the same call awaited in a trio loop, the portal hop alone, and
kr8s 0.20.15's sync API against the same fake server; then listing pods through both.

    python benchmarks/bench_sync.py            # ~2 min: 2,000 calls x 3 reps per row
    python benchmarks/bench_sync.py --quick    # ~15 s smoke run: 300 calls x 2 reps
    python benchmarks/bench_sync.py --skip-kr8s
    python benchmarks/bench_sync.py --help

Per call (each call timed on its own, ``time.perf_counter`` around it; mean and median over
every call of every repetition):

* **async, own loop**: ``await api.version()`` in the client process's trio loop, with
  ``api = await kr8s_trio.api(kubeconfig=path)``: what an async program pays.
* **async, facade's loop**: ``await api.version()`` on the facade's client,
  ``await kr8s_trio.version()`` and ``await (await kr8s_trio.api()).version()``, timed inside
  the facade's loop thread (one ``portal().call`` per chunk of calls): the same client, the same
  connection and the same loop as the sync rows, without the hop.
* **sync facade**: ``api.version()`` (``api = kr8s_trio.sync.api(kubeconfig=path)``),
  ``kr8s_trio.sync.version()``, ``kr8s_trio.sync.api().version()``, and ``api.version()`` on
  an ``Api(http2=False, bypass_factory=True)`` (kr8s talks HTTP/1.1), from a plain worker
  thread. *added by the facade* is the sync median minus the median of the same call in the
  facade's loop; the difference to the own-loop row is shown too. Target: under 100 µs.
* **bridge alone**: ``kr8s_trio.sync._portal.portal().call(noop)``, ``noop`` an empty
  coroutine function: the raw cost of one hop to the loop thread and back.
* **for scale**: ``trio.from_thread.run(noop)`` from the same kind of thread into the client
  process's trio loop: trio's own blocking hop, with none of the facade's code.
* **kr8s sync** (0.20.15): ``kr8s.api(kubeconfig=path).version()`` (kr8s's cached ``api()``
  sends ``GET /version`` itself on every hit) and ``api.version()`` on a held client.

Listing (second table): ``--pods`` pods in one namespace, every name read: async
``[p.name async for p in kr8s_trio.get(...)]``, sync ``[p.name for p in
kr8s_trio.sync.get(...)]`` from a plain thread, and kr8s's sync ``kr8s.get(...)``; items/s.

The fake cluster (kubelet and controllers off) runs in its own process (``--role fake``) over
TLS on loopback and starts the client in a child process (``--role client``), as in
``bench_api.py``. Rows are interleaved in chunks (``--chunk``), in rotating order;
``gc.collect()`` before each chunk.
See README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

# this directory is on sys.path
from _common import (
    NONE,
    TIMES,
    JSONObject,
    client_process,
    fmt_time,
    markdown_table,
    play_role,
    print_results,
    run_role,
    serve_commands,
    spread,
)
from _pods import pod_object

SCRIPT = os.path.abspath(__file__)
NAMESPACE = "bench"
CREATED = "2026-11-21T09:00:00Z"
ADDED_TARGET = 100e-6

#: per-call rows: key -> (label, the async row it is compared with, or None)
CALL_ROWS: dict[str, tuple[str, str | None]] = {
    "async_api": ("async `await api.version()`, own trio loop", None),
    "async_api_p": ("async `await api.version()`, facade's loop and client", None),
    "async_fn_p": ("async `await kr8s_trio.version()`, facade's loop", None),
    "async_chain_p": ("async `await (await kr8s_trio.api()).version()`, facade's loop", None),
    "async_h1_p": ("async `await api.version()`, facade's loop, `http2=False` client", None),
    "sync_api": ("sync `api.version()` (held `kr8s_trio.sync.api()`)", "async_api_p"),
    "sync_h1": ("sync `api.version()`, `Api(http2=False, bypass_factory=True)`", "async_h1_p"),
    "sync_fn": ("sync `kr8s_trio.sync.version()`", "async_fn_p"),
    "sync_chain": ("sync `kr8s_trio.sync.api().version()`", "async_chain_p"),
    "bridge": ("bridge alone: `portal().call(noop)`", None),
    "trio_hop": ("for scale: trio's `trio.from_thread.run(noop)`", None),
    "kr8s_chain": ("kr8s sync `kr8s.api(kubeconfig=...).version()`", None),
    "kr8s_api": ("kr8s sync `api.version()` (held client)", None),
}
KR8S_ROWS = ("kr8s_chain", "kr8s_api")
LIST_ROWS = {
    "async": "async `[p.name async for p in kr8s_trio.get(...)]`",
    "sync": "sync `[p.name for p in kr8s_trio.sync.get(...)]`",
    "kr8s": "kr8s sync `[p.name for p in kr8s.get(...)]`",
}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the client process ------------------------------------------------------------------------


def time_sync(n: int, call: Callable[[], Any]) -> list[float]:
    """Seconds of each of ``n`` calls of ``call`` (run in a plain thread)."""
    gc.collect()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        call()
        out.append(clock() - t0)
    return out


async def time_async(n: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    """Seconds of each of ``n`` awaits of ``call()``, in this trio loop."""
    gc.collect()
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        await call()
        out.append(clock() - t0)
    return out


class Client:
    """The clients of every row, made once (warm: connection open, TLS done)."""

    def __init__(self, cmd: JSONObject) -> None:
        self.cmd = cmd
        self.path: str = cmd["kubeconfig"]
        self.skip_kr8s: bool = cmd["skip_kr8s"]

    async def setup(self) -> None:
        import kr8s_trio
        import kr8s_trio.sync as ksync

        self.api = await kr8s_trio.api(kubeconfig=self.path)
        self.sync_api = await trio.to_thread.run_sync(lambda: ksync.api(kubeconfig=self.path))
        # kr8s talks HTTP/1.1: a client of ours that does too, for the held-client comparison
        self.sync_h1 = await trio.to_thread.run_sync(
            lambda: ksync.Api(kubeconfig=self.path, bypass_factory=True, http2=False)
        )
        if not self.skip_kr8s:
            import kr8s

            self.kr8s_api = await trio.to_thread.run_sync(lambda: kr8s.api(kubeconfig=self.path))

    def _sync_call(self, key: str) -> Callable[[], Any]:
        import kr8s_trio.sync as ksync
        from kr8s_trio.sync._portal import portal

        async def noop() -> None:
            pass

        bridge = portal()
        if key == "sync_api":
            return self.sync_api.version
        if key == "sync_h1":
            return self.sync_h1.version
        if key == "sync_fn":
            return ksync.version
        if key == "sync_chain":
            return lambda: ksync.api().version()
        if key == "bridge":
            return lambda: bridge.call(noop)
        if key == "trio_hop":
            # into the client's own trio loop, from the thread trio.to_thread started
            return lambda: trio.from_thread.run(noop)
        import kr8s

        if key == "kr8s_chain":
            return lambda: kr8s.api(kubeconfig=self.path).version()
        assert key == "kr8s_api"
        return self.kr8s_api.version

    async def per_call(self, key: str, n: int) -> list[float]:
        import kr8s_trio

        if key == "async_api":
            return await time_async(n, self.api.version)
        if key.endswith("_p"):
            # timed inside the facade's loop thread, on the client the sync rows use
            from kr8s_trio.sync._portal import portal

            async def chain() -> None:
                await (await kr8s_trio.api()).version()

            calls = {
                "async_api_p": self.sync_api._async.version,
                "async_h1_p": self.sync_h1._async.version,
                "async_fn_p": kr8s_trio.version,
                "async_chain_p": chain,
            }
            call = calls[key]
            return await trio.to_thread.run_sync(lambda: portal().call(time_async, n, call))
        call = self._sync_call(key)
        times: list[float] = await trio.to_thread.run_sync(time_sync, n, call)
        return times

    async def listing(self, key: str) -> JSONObject:
        import kr8s_trio
        import kr8s_trio.sync as ksync

        gc.collect()
        if key == "async":
            t0 = time.perf_counter()
            names = [p.name async for p in kr8s_trio.get("pods", namespace=NAMESPACE)]
            seconds = time.perf_counter() - t0
        else:

            def in_thread() -> tuple[list[str], float]:
                if key == "sync":
                    t0 = time.perf_counter()
                    got = [p.name for p in ksync.get("pods", namespace=NAMESPACE)]
                else:
                    import kr8s

                    t0 = time.perf_counter()
                    got = [p.name for p in kr8s.get("pods", namespace=NAMESPACE, api=self.kr8s_api)]
                return got, time.perf_counter() - t0

            names, seconds = await trio.to_thread.run_sync(in_thread)
        assert len(names) == self.cmd["pods"] == len(set(names)), (key, len(names))
        return {"seconds": seconds}


async def client_role() -> None:
    import kr8s_trio

    client: Client | None = None
    async with kr8s_trio.open_registry():

        async def handle(cmd: JSONObject, nursery: trio.Nursery) -> JSONObject:
            nonlocal client
            if cmd["op"] == "setup":
                client = Client(cmd)
                await client.setup()
                return {}
            assert client is not None
            if cmd["op"] == "call":
                return {"times": await client.per_call(cmd["key"], cmd["n"])}
            if cmd["op"] == "list":
                return await client.listing(cmd["key"])
            raise ValueError(f"unknown op {cmd['op']!r}")

        await serve_commands(handle)


# -- the server process --------------------------------------------------------------------------


async def fake_role(args: argparse.Namespace) -> JSONObject:
    from kr8s_trio.testing import open_fake_cluster
    from kr8s_trio.testing._store import object_key

    call_keys = [k for k in CALL_ROWS if not (args.skip_kr8s and k in KR8S_ROWS)]
    list_keys = [k for k in LIST_ROWS if not (args.skip_kr8s and k == "kr8s")]
    async with open_fake_cluster(seed=1, kubelet=False, controllers=False) as cluster:
        state = cluster.state
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        pods = state.resource("pods").storage_key
        for i in range(args.pods):
            obj = pod_object(1, i, "", NAMESPACE, CREATED)
            del obj["metadata"]["ownerReferences"]
            state.store.put(pods, object_key(NAMESPACE, obj["metadata"]["name"]), obj)
        out: JSONObject = {
            "call_keys": call_keys,
            "list_keys": list_keys,
            "calls": {k: [] for k in call_keys},
            "lists": {k: [] for k in list_keys},
        }
        async with client_process(SCRIPT) as chan:
            await chan.call(
                {
                    "op": "setup",
                    "kubeconfig": str(cluster.kubeconfig_path),
                    "skip_kr8s": args.skip_kr8s,
                    "pods": args.pods,
                }
            )

            def calls(key: str) -> int:
                return args.kr8s_calls if key in KR8S_ROWS else args.calls

            progress("warm-up")
            for key in call_keys:
                n = max(10, calls(key) // 10)
                await chan.call({"op": "call", "key": key, "n": n}, limit=600)
            for key in list_keys:
                await chan.call({"op": "list", "key": key}, limit=600)
            before = len(cluster.requests)
            for rep in range(args.reps):
                progress(f"per-call repetition {rep + 1}/{args.reps}")
                # rows interleaved in chunks, so that drift in the machine's load and the
                # server's state spreads over every row alike
                chunks = max(1, args.calls // args.chunk)
                for chunk in range(chunks):
                    shift = (rep * chunks + chunk) % len(call_keys)
                    for key in call_keys[shift:] + call_keys[:shift]:
                        n = max(1, calls(key) // chunks)
                        got = await chan.call({"op": "call", "key": key, "n": n}, limit=600)
                        out["calls"][key].extend(got["times"])
            out["requests"] = len(cluster.requests) - before
            for rep in range(args.list_reps):
                progress(f"list repetition {rep + 1}/{args.list_reps}")
                shift = rep % len(list_keys)
                for key in list_keys[shift:] + list_keys[:shift]:
                    if key == "kr8s" and rep >= args.kr8s_list_reps:
                        continue
                    got = await chan.call({"op": "list", "key": key}, limit=600)
                    out["lists"][key].append(got["seconds"])
    return out


# -- the report ----------------------------------------------------------------------------------


def _micro(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def _signed(seconds: float) -> str:
    return f"{seconds * 1e6:+,.0f} µs"


def report(result: JSONObject, args: argparse.Namespace) -> str:
    calls: dict[str, list[float]] = result["calls"]
    med = {k: statistics.median(v) for k, v in calls.items()}
    mean = {k: statistics.fmean(v) for k, v in calls.items()}
    kr8s_base = med.get("kr8s_chain")
    rows: list[list[str]] = []
    verdicts: list[tuple[str, bool]] = []
    for key in result["call_keys"]:
        label, paired = CALL_ROWS[key]
        own = NONE
        if paired is not None:
            added_med, added_mean = med[key] - med[paired], mean[key] - mean[paired]
            added = f"{_signed(added_med)} / {_signed(added_mean)}"
            if key != "sync_h1":  # the own-loop client is HTTP/2
                own_med, own_mean = med[key] - med["async_api"], mean[key] - mean["async_api"]
                own = f"{_signed(own_med)} / {_signed(own_mean)}"
            verdicts.append((label, added_med < ADDED_TARGET))
        elif key in ("bridge", "trio_hop"):
            added = f"({_micro(med[key])} / {_micro(mean[key])})"
        else:
            added = NONE
        rows.append(
            [
                label,
                f"{len(calls[key]):,}",
                _micro(mean[key]),
                _micro(med[key]),
                added,
                own,
                f"{med[key] / med['async_api']:.2f}{TIMES}",
                f"{med[key] / kr8s_base:.3f}{TIMES}" if kr8s_base else NONE,
            ]
        )
    table = markdown_table(
        [
            "per call",
            "n",
            "mean",
            "median",
            "added by the facade: vs same call, facade's loop (median / mean)",
            "vs own-loop async (median / mean)",
            f"{TIMES} async (own loop)",
            f"{TIMES} kr8s sync",
        ],
        rows,
    )
    lists: dict[str, list[float]] = result["lists"]
    pods = args.pods
    lrows = []
    base = statistics.median(lists["async"])
    for key in result["list_keys"]:
        seconds = lists[key]
        rates = [pods / s for s in seconds]
        lrows.append(
            [
                f"{LIST_ROWS[key]}, {pods:,} pods",
                spread(rates, lambda r: f"{r:,.0f}/s"),
                fmt_time(statistics.median(seconds) / pods),
                spread(seconds),
                f"{statistics.median(seconds) / base:.2f}{TIMES}",
            ]
        )
    ltable = markdown_table(
        ["listing", "items/s, median (min-max, n)", "per item", "time per list", f"{TIMES} async"],
        lrows,
    )
    notes = (
        f"Per call: {args.calls:,} calls per row and repetition (kr8s rows {args.kr8s_calls:,}), "
        f"{args.reps} repetitions, the rows interleaved in chunks of {args.chunk:,} calls in "
        "rotating order, after a warm-up; mean and median over every call. *added by the "
        "facade*: the sync row minus the same call awaited in the facade's loop thread on the "
        "same client (the target's measure); *vs own-loop async*: minus "
        "`await api.version()` in the client process's own trio loop, on its own client; "
        f"{TIMES} async: median over that own-loop row's median; {TIMES} kr8s sync: over "
        f"`kr8s.api(kubeconfig=...).version()`. The fake saw {result['requests']:,} requests "
        "during the timed per-call rows. Listing: "
        f"{args.list_reps} repetitions (kr8s {min(args.kr8s_list_reps, args.list_reps)}); "
        f"kr8s_trio pages at 500, kr8s at 100."
    )
    failed = [label for label, ok in verdicts if not ok]
    verdict = (
        "target met: every sync row adds < 100 µs (median) to its async call"
        if not failed
        else "TARGET MISSED (>= 100 µs added): " + "; ".join(failed)
    )
    return f"{table}\n\n{ltable}\n\n{notes}\n\n{verdict}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2_000, help="calls per row and repetition")
    parser.add_argument("--kr8s-calls", type=int, default=200, help="the same for kr8s rows")
    parser.add_argument("--reps", type=int, default=3, help="per-call repetitions")
    parser.add_argument("--chunk", type=int, default=200, help="calls in a row before the next")
    parser.add_argument("--pods", type=int, default=1_000, help="pods listed")
    parser.add_argument("--list-reps", type=int, default=5, help="lists per row")
    parser.add_argument("--kr8s-list-reps", type=int, default=2, help="lists for kr8s")
    parser.add_argument("--quick", action="store_true", help="300 calls (kr8s 50), 2 reps")
    parser.add_argument("--skip-kr8s", action="store_true", help="leave kr8s out")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results there")
    parser.add_argument("--role", choices=("fake", "client"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.kr8s_calls, args.reps, args.list_reps = 300, 50, 2, 2
        args.chunk = 100
    if play_role(args.role, client_role, {"fake": lambda: fake_role(args)}):
        return 0
    started = time.monotonic()
    options = [
        f"--calls={args.calls}",
        f"--kr8s-calls={args.kr8s_calls}",
        f"--reps={args.reps}",
        f"--chunk={args.chunk}",
        f"--pods={args.pods}",
        f"--list-reps={args.list_reps}",
        f"--kr8s-list-reps={args.kr8s_list_reps}",
    ] + ["--skip-kr8s"] * args.skip_kr8s
    progress(f"fake cluster with {args.pods:,} pods, and the client ...")
    result = run_role(SCRIPT, "fake", options)
    versions = ""
    if not args.skip_kr8s:
        import importlib.metadata

        versions = f", kr8s {importlib.metadata.version('kr8s')}"
    print_results("bench_sync", started, report(result, args), result, args.json, versions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
