"""What the benchmarks share: processes talking JSON lines, a system-wide clock, and the table.

Each benchmark runs its servers in fresh processes (``--role ...``) started by the orchestrator
with `run_role`; a server process starts its client in a child process with `client_process`
(the same script, ``--role client``, whose loop is `serve_commands`), and drives it with
`Channel.call`. Times that start in one process and end in another use `now`
(``CLOCK_MONOTONIC``, system-wide).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import trio

__all__ = [
    "CLIENT_TIMEOUT",
    "DASH",
    "NONE",
    "TIMES",
    "Channel",
    "JSONObject",
    "client_process",
    "fmt_bytes",
    "fmt_time",
    "markdown_table",
    "now",
    "play_role",
    "print_results",
    "ratio",
    "run_role",
    "serve_commands",
    "spread",
    "wait_until",
]

JSONObject = dict[str, Any]

CLIENT_TIMEOUT = 120.0
DASH = "\u2013"  # en dash, for ranges
TIMES = "\u00d7"  # multiplication sign, for ratios
NONE = "\u2014"  # em dash, for an empty cell


def now() -> float:
    """System-wide monotonic seconds: comparable between the server and client processes."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# -- a JSON-lines channel between a server role and its client process -----------------------


class Channel:
    def __init__(self, send: trio.abc.SendStream, receive: trio.abc.ReceiveStream) -> None:
        self._send = send
        self._receive = receive
        self._buf = b""

    async def send(self, message: JSONObject) -> None:
        await self._send.send_all(json.dumps(message).encode() + b"\n")

    async def recv(self) -> JSONObject:
        while b"\n" not in self._buf:
            data = await self._receive.receive_some(65536)
            if not data:
                raise EOFError("the other process closed the channel")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        message: JSONObject = json.loads(line)
        if "error" in message:
            raise RuntimeError(f"client failed: {message['error']}")
        return message

    async def call(self, message: JSONObject, limit: float = CLIENT_TIMEOUT) -> JSONObject:
        await self.send(message)
        with trio.fail_after(limit):
            return await self.recv()


@contextlib.asynccontextmanager
async def client_process(script: str) -> AsyncIterator[Channel]:
    """Run ``script --role client`` as a child process; yield the channel to it."""
    proc = await trio.lowlevel.open_process(
        [sys.executable, script, "--role", "client"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    chan = Channel(proc.stdin, proc.stdout)
    try:
        yield chan
        with trio.move_on_after(10):
            await chan.call({"op": "exit"})
    finally:
        with trio.move_on_after(10):
            await proc.stdin.aclose()
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def serve_commands(
    handle: Callable[[JSONObject, trio.Nursery], Awaitable[JSONObject]],
) -> None:
    """The client process's loop: answer each command from stdin on stdout with ``handle``
    (given a nursery for what outlives one command) until ``exit`` or the end of stdin. A
    command that fails is answered with ``{"error": ...}`` (`Channel.recv` raises it), then
    the process fails."""
    chan = Channel(trio.lowlevel.FdStream(os.dup(1)), trio.lowlevel.FdStream(os.dup(0)))
    async with trio.open_nursery() as nursery:
        while True:
            try:
                cmd = await chan.recv()
            except EOFError:
                break
            if cmd["op"] == "exit":
                await chan.send({})
                break
            try:
                reply = await handle(cmd, nursery)
            except Exception as exc:
                await chan.send({"error": f"{type(exc).__name__}: {exc}"})
                raise
            await chan.send(reply)
        nursery.cancel_scope.cancel()


async def wait_until(predicate: Callable[[], bool], limit: float = 30.0) -> None:
    with trio.fail_after(limit):
        # polling: the predicate is the server's own state, which has no event to wait on
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(0.01)


def play_role(
    role: str | None,
    client: Callable[[], Awaitable[None]],
    servers: Mapping[str, Callable[[], Awaitable[JSONObject]]],
) -> bool:
    """Play this process's ``--role``, if it has one (True): the client, or a server, whose
    result goes to stdout as the last line (`run_role` reads it). False: no role, this process
    is the orchestrator."""
    if role == "client":
        trio.run(client)
        return True
    if role is not None:
        result = trio.run(servers[role])
        print(json.dumps(result), flush=True)
        return True
    return False


def run_role(script: str, role: str, options: Sequence[str]) -> JSONObject:
    """Run ``script --role role *options`` to the end; its last stdout line is its result."""
    argv = [sys.executable, script, "--role", role, *options]
    done = subprocess.run(argv, stdout=subprocess.PIPE, check=True)
    result: JSONObject = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


# -- the table ---------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_bytes(n: float) -> str:
    if abs(n) >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if abs(n) >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n:.0f} B"


def spread(values: Sequence[float], fmt: Callable[[float], str] = fmt_time) -> str:
    """``median (min-max, n=N)``; just the value when there is one."""
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}{DASH}{fmt(max(values))}, n={len(values)})"


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> str:
    """Median over median, as ``2.0x`` (with a multiplication sign)."""
    below = statistics.median(denominator)
    if below <= 0:
        return NONE
    return f"{statistics.median(numerator) / below:.1f}{TIMES}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table with padded columns."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(lines)


def print_results(
    name: str,
    started: float,
    report: str,
    results: JSONObject,
    json_path: str | None,
    versions: str = "",
) -> None:
    """The orchestrator's output: a line on the run (``versions`` after trio's), the report,
    and with ``--json`` every result written to ``json_path``."""
    print(
        f"\n{name}: Python {sys.version.split()[0]}, trio {trio.__version__}{versions}, "
        f"{os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s\n"
    )
    print(report)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=1))
