"""Listing pods into objects: kr8s_trio against kr8s and a bare ``httpx`` GET + ``json.loads``,
side by side in one run against the same fake API server.

    python benchmarks/bench_objects.py              # full run (~7 min): 10,000 pods
    python benchmarks/bench_objects.py --quick      # smoke run (~45 s): 1,000 pods
    python benchmarks/bench_objects.py --skip-kr8s  # without the (slow) kr8s rows
    python benchmarks/bench_objects.py --help

Rows (targets from the issue):

* **bare**: one ``GET /api/v1/namespaces/default/pods`` (no limit) on an ``httpx.AsyncClient``
  (trio, HTTP/1.1, the same CA and bearer token), then ``json.loads(r.content)["items"]``, with
  the garbage collector left on as a user would: the plain list of dicts. The baseline.
* **kr8s_trio**: ``[p async for p in kr8s_trio.get("pods", namespace="default", api=api)]``
  (Pod objects, pages of 500); target: at most 1.0x bare and at least 10x faster than kr8s.
  Info rows: ``raw=True`` (dicts), ``limit=0`` (one request), HTTP/1.1, and the objects with
  the GC pause of ``Response.json`` disabled (``_response.GC_PAUSE_BYTES`` set out of reach),
  and with a pause that does not promote the survivors to the oldest generation afterwards
  (``gc.freeze(); gc.unfreeze()``, which `_response.gc_paused` does since this benchmark
  showed what it saves).
* **kr8s** 0.20.15: ``[p async for p in kr8s.asyncio.get("pods", namespace="default",
  api=api)]`` on an asyncio loop in a thread of the same process (it pages at a fixed 100).
  kr8s takes ~3.4 ms per pod, so it gets fewer repetitions (``--kr8s-reps``).

Every timed operation ends with a Python list of all the pods and their names read (``p.name``,
``p["metadata"]["name"]``); the names are checked against the seeded ones outside the timer.

Phases (``--breakdown``): a few more lists of some rows, split into HTTP read, ``json.loads``,
cyclic GC and the rest.

Memory (tracemalloc, a separate untimed pass per row): after ``gc.collect()``, the peak of
traced Python memory while listing and the memory still allocated once the list is built (the
list kept alive, garbage collected), both divided by the number of pods. Target: kr8s_trio's
objects within 1.3x of the plain dicts of the bare row, peak and retained.

The fake cluster (kubelet and controllers off, seeded pods from `_pods`, ~6 KB of JSON each)
runs in its own process (``--role fake``) over TLS on loopback and starts the client in a child
process (``--role client``, the `_common.py` plumbing), so the server does not share the
client's core. Every row has one untimed warm-up (connection, TLS, discovery; for kr8s a list of
a 5-pod namespace), then repetitions in rotating order with ``gc.collect()`` before each.
Reproducible: fixed seed, fixed start time; medians with min-max and n. See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import cProfile
import datetime
import gc
import io
import json
import os
import pstats
import ssl
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any

import httpx
import trio

# this directory is on sys.path
from _common import (
    DASH,
    NONE,
    TIMES,
    JSONObject,
    client_process,
    fmt_bytes,
    markdown_table,
    play_role,
    print_results,
    run_role,
    serve_commands,
    spread,
)
from _pods import APPS, create_replicasets, pod_name, pod_object

SCRIPT = os.path.abspath(__file__)
NAMESPACE = "default"
WARM_NAMESPACE = "warm"
WARM_PODS = 5
LIST_PATH = f"/api/v1/namespaces/{NAMESPACE}/pods"
START = datetime.datetime(2026, 11, 21, 9, 0, 0, tzinfo=datetime.UTC)
CREATED = "2026-11-21T09:00:00Z"
TIME_TARGET = 1.0  # kr8s_trio objects / bare, at most
KR8S_TARGET = 10.0  # kr8s / kr8s_trio objects, at least
MEMORY_TARGET = 1.3  # kr8s_trio objects / plain dicts, per pod, at most

#: the timed rows besides kr8s: key -> label (the first is the baseline)
ROWS: dict[str, str] = {
    "bare": "bare httpx GET + json.loads (one request, GC on)",
    "objects": "kr8s_trio get() -> Pod objects (pages of 500)",
    "raw": "kr8s_trio get(raw=True) -> dicts (pages of 500)",
    "limit0": "kr8s_trio get(limit=0) -> Pod objects (one request)",
    "h1": "kr8s_trio get() -> Pod objects, HTTP/1.1",
    "nopause": "kr8s_trio get() -> Pod objects, GC pause disabled",
    "nopromote": "kr8s_trio get() -> Pod objects, GC paused but not promoted",
}
#: the rows the phase breakdown (``--breakdown``) splits
BREAKDOWN = ("bare", "objects", "limit0", "h1", "nopromote")
KR8S_LABEL = "kr8s 0.20.15 asyncio get() -> objects (pages of 100)"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the client process ------------------------------------------------------------------------


class GCMeter:
    """Collections and the time spent in them, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GCMeter:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


class AsyncioThread:
    """An asyncio loop running in its own thread, for kr8s (whose clients belong to the loop
    they were made on, so one loop serves every command)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await trio.to_thread.run_sync(future.result)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


Lister = Callable[[], Awaitable[tuple[list[Any], list[str]]]]


class Client:
    """The clients, made once; ``listers`` turn a row key into a list-and-read-names call."""

    def __init__(self, cmd: JSONObject) -> None:
        import kr8s_trio
        from kr8s_trio import _response

        self.cmd = cmd
        self.expected = {pod_name(cmd["seed"], i) for i in range(cmd["pods"])}
        self.kr8s_trio = kr8s_trio
        self._response = _response
        self.bare = httpx.AsyncClient(
            base_url=cmd["url"],
            verify=ssl.create_default_context(cadata=cmd["ca"]),
            headers={"Authorization": f"Bearer {cmd['token']}"},
            timeout=120,
        )
        self.api = kr8s_trio.Api(kubeconfig=cmd["kubeconfig"], bypass_factory=True)
        self.api_h1 = kr8s_trio.Api(kubeconfig=cmd["kubeconfig"], bypass_factory=True, http2=False)
        self.asyncio: AsyncioThread | None = None
        self.kr8s_api: Any = None
        self.body_bytes = 0
        self.http_versions: dict[str, str] = {}

    async def __aenter__(self) -> Client:
        await self.bare.__aenter__()
        await self.api.__aenter__()
        await self.api_h1.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.api_h1.__aexit__(None, None, None)
        await self.api.__aexit__(None, None, None)
        await self.bare.__aexit__(None, None, None)
        if self.asyncio is not None:
            self.asyncio.close()

    # the rows

    async def list_bare(self, namespace: str = NAMESPACE) -> tuple[list[Any], list[str]]:
        r = await self.bare.get(f"/api/v1/namespaces/{namespace}/pods")
        r.raise_for_status()
        self.body_bytes = len(r.content)
        self.http_versions["bare"] = r.http_version
        items: list[Any] = json.loads(r.content)["items"]
        return items, [p["metadata"]["name"] for p in items]

    async def list_kr8s_trio(
        self, namespace: str = NAMESPACE, *, h1: bool = False, raw: bool = False, limit: int = 500
    ) -> tuple[list[Any], list[str]]:
        api = self.api_h1 if h1 else self.api
        get = self.kr8s_trio.get
        if raw:
            items = [p async for p in get("pods", namespace=namespace, api=api, raw=True)]
            return items, [p["metadata"]["name"] for p in items]
        objs = [p async for p in get("pods", namespace=namespace, api=api, limit=limit)]
        return objs, [p.name for p in objs]

    async def list_nopause(self, namespace: str = NAMESPACE) -> tuple[list[Any], list[str]]:
        saved = self._response.GC_PAUSE_BYTES
        self._response.GC_PAUSE_BYTES = 1 << 62
        try:
            return await self.list_kr8s_trio(namespace)
        finally:
            self._response.GC_PAUSE_BYTES = saved

    async def list_nopromote(self, namespace: str = NAMESPACE) -> tuple[list[Any], list[str]]:
        """The objects with the pause as it was first written: the collector is disabled during
        the decode and enabled again, without promoting the survivors to the oldest generation,
        so the young collections that follow traverse everything just decoded."""
        saved = self._response.gc_paused

        @contextlib.contextmanager
        def pause_only() -> Iterator[None]:
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                yield
            finally:
                if was_enabled:
                    gc.enable()

        self._response.gc_paused = pause_only
        try:
            return await self.list_kr8s_trio(namespace)
        finally:
            self._response.gc_paused = saved

    async def list_kr8s(self, namespace: str = NAMESPACE) -> tuple[list[Any], list[str]]:
        import kr8s.asyncio

        async def in_asyncio() -> tuple[list[Any], list[str]]:
            if self.kr8s_api is None:
                self.kr8s_api = await kr8s.asyncio.api(kubeconfig=self.cmd["kubeconfig"])
            got = kr8s.asyncio.get("pods", namespace=namespace, api=self.kr8s_api)
            objs = [p async for p in got]
            return objs, [p.name for p in objs]

        if self.asyncio is None:
            self.asyncio = AsyncioThread()
        result: tuple[list[Any], list[str]] = await self.asyncio.run(in_asyncio())
        return result

    def lister(self, key: str, namespace: str = NAMESPACE) -> Lister:
        calls: dict[str, Lister] = {
            "bare": lambda: self.list_bare(namespace),
            "objects": lambda: self.list_kr8s_trio(namespace),
            "raw": lambda: self.list_kr8s_trio(namespace, raw=True),
            "limit0": lambda: self.list_kr8s_trio(namespace, limit=0),
            "h1": lambda: self.list_kr8s_trio(namespace, h1=True),
            "nopause": lambda: self.list_nopause(namespace),
            "nopromote": lambda: self.list_nopromote(namespace),
            "kr8s": lambda: self.list_kr8s(namespace),
        }
        return calls[key]

    def check(self, key: str, names: list[str]) -> None:
        if len(names) != len(self.expected) or set(names) != self.expected:
            raise AssertionError(f"{key}: {len(names)} pods, not the {len(self.expected)} seeded")

    # the commands

    async def warm(self, key: str) -> JSONObject:
        """One untimed list: the 5-pod namespace for kr8s, the whole list for the others."""
        if key == "kr8s":
            _, names = await self.lister(key, WARM_NAMESPACE)()
            assert len(names) == WARM_PODS, names
        else:
            _, names = await self.lister(key)()
            self.check(key, names)
        if key == "objects":
            params = {"limit": "1"}
            async with self.api.call_api("GET", base=LIST_PATH, version="", params=params) as r:
                await r.read()
                self.http_versions["kr8s_trio"] = r.http_version
        return {"body_bytes": self.body_bytes, "http_versions": self.http_versions}

    async def time(self, key: str) -> JSONObject:
        call = self.lister(key)
        gc.collect()
        with GCMeter() as meter:
            t0 = time.perf_counter()
            objs, names = await call()
            seconds = time.perf_counter() - t0
        self.check(key, names)
        kind = type(objs[0]).__module__ + "." + type(objs[0]).__qualname__
        del objs, names
        gc.collect()
        return {
            "seconds": seconds,
            "gc_seconds": meter.seconds,
            "collections": meter.collections,
            "type": kind,
        }

    async def memory(self, key: str) -> JSONObject:
        call = self.lister(key)
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            objs, names = await call()
            self.check(key, names)
            del names
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        n = len(objs)
        del objs
        gc.collect()
        return {"peak_per_pod": (peak - base) / n, "retained_per_pod": (current - base) / n}

    async def breakdown(self, key: str) -> JSONObject:
        """One list of ``key`` split into phases: the HTTP read of the bodies (``Response.read``;
        for bare, ``AsyncClient.get``, which reads the body), ``json.loads``, the cyclic
        collector (gc.callbacks, wherever it ran), and the rest (wrapping, paging, names);
        read and decode exclude the collections that ran inside them."""
        from kr8s_trio._response import Response

        meter = GCMeter()
        spent = {"read": 0.0, "decode": 0.0}

        @contextlib.contextmanager
        def phase(name: str) -> Iterator[None]:
            t0, gc0 = time.perf_counter(), meter.seconds
            try:
                yield
            finally:
                spent[name] += time.perf_counter() - t0 - (meter.seconds - gc0)

        class TimedJSON:
            def __getattr__(self, name: str) -> Any:
                return getattr(json, name)

            def loads(self, data: Any) -> Any:
                with phase("decode"):
                    return json.loads(data)

        original_read = Response.read

        async def read(response: Response) -> bytes:
            with phase("read"):
                return await original_read(response)

        call = self.lister(key)
        gc.collect()
        Response.read = read  # type: ignore[method-assign]
        self._response.json = TimedJSON()  # type: ignore[assignment]
        try:
            with meter:
                t0 = time.perf_counter()
                if key == "bare":
                    with phase("read"):
                        r = await self.bare.get(LIST_PATH)
                    with phase("decode"):
                        items = json.loads(r.content)["items"]
                    objs, names = items, [p["metadata"]["name"] for p in items]
                    del r
                else:
                    objs, names = await call()
                total = time.perf_counter() - t0
        finally:
            Response.read = original_read  # type: ignore[method-assign]
            self._response.json = json
        self.check(key, names)
        del objs, names
        gc.collect()
        other = total - spent["read"] - spent["decode"] - meter.seconds
        return {"total": total, "gc": meter.seconds, "other": other, **spent}

    async def profile(self, key: str) -> JSONObject:
        """cProfile one list of ``key``; the top functions go to stderr."""
        call = self.lister(key)
        gc.collect()
        prof = cProfile.Profile()
        prof.enable()
        objs, names = await call()
        prof.disable()
        self.check(key, names)
        del objs, names
        gc.collect()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(order).print_stats(25)
            progress(f"-- cProfile of {key!r}, by {order} --\n{out.getvalue()}")
        return {}


async def client_role() -> None:
    client: Client | None = None

    async def handle(cmd: JSONObject, nursery: trio.Nursery) -> JSONObject:
        nonlocal client
        if cmd["op"] == "setup":
            client = await Client(cmd).__aenter__()
            return {}
        assert client is not None
        if cmd["op"] == "close":
            await client.__aexit__(None, None, None)
            return {}
        op: Callable[[str], Awaitable[JSONObject]] = getattr(client, cmd["op"])
        return await op(cmd["key"])

    await serve_commands(handle)


# -- the server process --------------------------------------------------------------------------


async def fake_role(args: argparse.Namespace) -> JSONObject:
    from kr8s_trio.testing import open_fake_cluster
    from kr8s_trio.testing._store import object_key

    keys = list(ROWS) + ([] if args.skip_kr8s else ["kr8s"])
    async with open_fake_cluster(
        seed=args.seed, start_time=START, kubelet=False, controllers=False
    ) as cluster:
        state = cluster.state
        uids = create_replicasets(cluster, args.seed)
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": WARM_NAMESPACE}}
        )
        pods = state.resource("pods").storage_key
        sizes = []
        for i in range(args.pods):
            obj = pod_object(args.seed, i, uids[APPS[i % len(APPS)][0]], NAMESPACE, CREATED)
            state.store.put(pods, object_key(NAMESPACE, obj["metadata"]["name"]), obj)
            sizes.append(len(json.dumps(obj, separators=(",", ":"))))
        for i in range(WARM_PODS):
            obj = pod_object(args.seed, args.pods + i, "", WARM_NAMESPACE, CREATED)
            del obj["metadata"]["ownerReferences"]
            state.store.put(pods, object_key(WARM_NAMESPACE, obj["metadata"]["name"]), obj)
        out: JSONObject = {
            "keys": keys,
            "pod_bytes_median": statistics.median(sizes),
            "times": {k: [] for k in keys},
            "gc_seconds": {k: [] for k in keys},
            "collections": {k: [] for k in keys},
            "requests": {},
            "memory": {},
            "types": {},
        }
        async with client_process(SCRIPT) as chan:
            await chan.call(
                {
                    "op": "setup",
                    "url": cluster.url,
                    "ca": cluster.ca_pem.decode(),
                    "token": cluster.token,
                    "kubeconfig": str(cluster.kubeconfig_path),
                    "seed": args.seed,
                    "pods": args.pods,
                }
            )
            limit = 3600

            async def timed(key: str) -> None:
                before = len(cluster.requests)
                got = await chan.call({"op": "time", "key": key}, limit=limit)
                out["requests"][key] = len(cluster.requests) - before
                out["times"][key].append(got["seconds"])
                out["gc_seconds"][key].append(got["gc_seconds"])
                out["collections"][key].append(got["collections"])
                out["types"][key] = got["type"]

            fast = [k for k in keys if k != "kr8s"]
            for key in keys:
                progress(f"warm-up: {key}")
                warm = await chan.call({"op": "warm", "key": key}, limit=limit)
            out["body_bytes"] = warm["body_bytes"]
            out["http_versions"] = warm["http_versions"]
            for rep in range(args.reps):
                progress(f"repetition {rep + 1}/{args.reps}")
                shift = rep % len(fast)
                for key in fast[shift:] + fast[:shift]:
                    await timed(key)
            if "kr8s" in keys:
                for rep in range(args.kr8s_reps):
                    progress(f"kr8s repetition {rep + 1}/{args.kr8s_reps}")
                    await timed("kr8s")
            for key in keys:
                progress(f"memory (tracemalloc): {key}")
                out["memory"][key] = await chan.call({"op": "memory", "key": key}, limit=limit)
            if args.breakdown:
                for key in BREAKDOWN:
                    progress(f"breakdown: {key}")
                    runs = [
                        await chan.call({"op": "breakdown", "key": key}, limit=limit)
                        for _ in range(args.breakdown)
                    ]
                    out.setdefault("breakdown", {})[key] = runs
            if args.profile:
                for key in ("bare", "objects", "limit0", "nopause"):
                    await chan.call({"op": "profile", "key": key}, limit=limit)
            await chan.call({"op": "close"})
    return out


# -- the report ----------------------------------------------------------------------------------


def report(result: JSONObject, args: argparse.Namespace) -> str:
    times: dict[str, list[float]] = result["times"]
    keys: list[str] = result["keys"]
    bare = statistics.median(times["bare"])
    objects = statistics.median(times["objects"])
    kr8s = statistics.median(times["kr8s"]) if "kr8s" in keys else None
    verdicts: list[tuple[str, bool]] = []
    rows: list[list[str]] = []
    for key in keys:
        med = statistics.median(times[key])
        gc_med = statistics.median(result["gc_seconds"][key])
        label = KR8S_LABEL if key == "kr8s" else ROWS[key]
        target = result_cell = "info"
        if key == "bare":
            target = result_cell = NONE
        elif key == "objects":
            target = f"<= {TIME_TARGET:.1f}{TIMES} bare"
            passed = med <= TIME_TARGET * bare
            result_cell = "PASS" if passed else "FAIL"
            verdicts.append(("kr8s_trio objects <= 1.0x bare", passed))
        elif key == "kr8s":
            assert kr8s is not None
            target = f">= {KR8S_TARGET:.0f}{TIMES} kr8s_trio objects"
            passed = kr8s >= KR8S_TARGET * objects
            result_cell = f"{'PASS' if passed else 'FAIL'} ({kr8s / objects:.0f}{TIMES})"
            verdicts.append(("kr8s_trio objects >= 10x faster than kr8s", passed))
        rows.append(
            [
                label,
                spread(times[key]),
                f"{med / bare:.2f}{TIMES}",
                f"{med / args.pods * 1e6:.0f} µs",
                f"{gc_med * 1000:.0f} ms",
                str(result["requests"][key]),
                target,
                result_cell,
            ]
        )
    table = markdown_table(
        [
            "row",
            f"median (min{DASH}max, n)",
            f"{TIMES} bare",
            "per pod",
            "in GC",
            "reqs",
            "target",
            "result",
        ],
        rows,
    )
    memory: dict[str, JSONObject] = result["memory"]
    dict_peak = memory["bare"]["peak_per_pod"]
    dict_kept = memory["bare"]["retained_per_pod"]
    mrows: list[list[str]] = []
    for key in keys:
        m = memory[key]
        peak_ratio = m["peak_per_pod"] / dict_peak
        kept_ratio = m["retained_per_pod"] / dict_kept
        target = result_cell = "info"
        if key == "bare":
            target = result_cell = NONE
        elif key == "objects":
            target = f"<= {MEMORY_TARGET}{TIMES} dicts (both)"
            passed = peak_ratio <= MEMORY_TARGET and kept_ratio <= MEMORY_TARGET
            result_cell = "PASS" if passed else "FAIL"
            verdicts.append(("kr8s_trio objects memory <= 1.3x dicts", passed))
        mrows.append(
            [
                KR8S_LABEL if key == "kr8s" else ROWS[key],
                fmt_bytes(m["peak_per_pod"]),
                f"{peak_ratio:.2f}{TIMES}",
                fmt_bytes(m["retained_per_pod"]),
                f"{kept_ratio:.2f}{TIMES}",
                target,
                result_cell,
            ]
        )
    mtable = markdown_table(
        [
            "row",
            "peak / pod",
            f"{TIMES} dicts",
            "retained / pod",
            f"{TIMES} dicts",
            "target",
            "result",
        ],
        mrows,
    )
    kr8s_note = (
        f"kr8s: {args.kr8s_reps} repetition(s) after a warm-up list of a {WARM_PODS}-pod "
        "namespace (discovery); "
        if "kr8s" in keys
        else "kr8s skipped (--skip-kr8s); "
    )
    gen2 = {k: statistics.median(c[2] for c in result["collections"][k]) for k in keys}
    notes = (
        f"{args.pods:,} pods, median {result['pod_bytes_median']:,.0f} B of JSON each; the "
        f"one-request list is {result['body_bytes'] / 1e6:.1f} MB. HTTP: bare "
        f"{result['http_versions'].get('bare', '?')}, kr8s_trio default "
        f"{result['http_versions'].get('kr8s_trio', '?')}. {args.reps} repetitions of the "
        f"other rows in rotating order; {kr8s_note}*in GC* = median time inside the cyclic "
        "garbage collector during the timed list (gc.callbacks); gen-2 collections per list: "
        + ", ".join(f"{k} {gen2[k]:g}" for k in keys)
        + ". *reqs* = requests the fake served for the last timed list. Memory: tracemalloc "
        "(Python allocations only), one untimed list per row: peak while listing, and retained "
        f"once the list is built and garbage collected, per pod; *{TIMES} dicts* divides by "
        "the bare row (the plain dicts of json.loads). Object types: "
        + ", ".join(f"{k} {result['types'][k]}" for k in keys)
        + "."
    )
    btable = ""
    if result.get("breakdown"):
        brows = []
        for key, runs in result["breakdown"].items():

            def cell(field: str, runs: list[JSONObject] = runs) -> str:
                value = statistics.median(r[field] for r in runs)
                total = statistics.median(r["total"] for r in runs)
                return f"{value * 1000:.0f} ms ({value / total:.0%})"

            brows.append(
                [ROWS[key], spread([r["total"] for r in runs])]
                + [cell(f) for f in ("read", "decode", "gc", "other")]
            )
        btable = (
            markdown_table(
                ["row", "total", "HTTP read", "json.loads", "cyclic GC", "rest (wrap, paging)"],
                brows,
            )
            + f"\n\nPhases: {args.breakdown} more lists per row, medians; read and decode "
            "exclude the collections that ran inside them.\n\n"
        )
    failed = [name for name, ok in verdicts if not ok]
    verdict = "all targets met" if not failed else "TARGET MISSED: " + "; ".join(failed)
    return f"{table}\n\n{mtable}\n\n{btable}{notes}\n\n{verdict}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per fast row")
    parser.add_argument("--kr8s-reps", type=int, default=2, help="timed repetitions for kr8s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 pods, 3 reps (kr8s: 2)")
    parser.add_argument("--skip-kr8s", action="store_true", help="leave kr8s out")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=3,
        metavar="N",
        help="split N more lists of some rows into phases (read, decode, GC, rest); 0: none",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the measurements, cProfile one list of bare, objects, limit0 and nopause "
        "in the client and print the top functions to stderr",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw results there")
    parser.add_argument("--role", choices=("fake", "client"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.pods, args.reps = 1_000, 3
    if play_role(args.role, client_role, {"fake": lambda: fake_role(args)}):
        return 0
    started = time.monotonic()
    options = [
        f"--pods={args.pods}",
        f"--reps={args.reps}",
        f"--kr8s-reps={args.kr8s_reps}",
        f"--seed={args.seed}",
        f"--breakdown={args.breakdown}",
    ]
    options += ["--skip-kr8s"] * args.skip_kr8s + ["--profile"] * args.profile
    progress(f"fake cluster with {args.pods:,} pods, and the client ...")
    result = run_role(SCRIPT, "fake", options)
    versions = f", httpx {httpx.__version__}"
    if not args.skip_kr8s:
        import importlib.metadata

        versions += f", kr8s {importlib.metadata.version('kr8s')}"
    print_results("bench_objects", started, report(result, args), result, args.json, versions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
