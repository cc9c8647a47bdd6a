"""exec and attach: a remote process on a WebSocket speaking a channel protocol.

`open_process` upgrades ``pods/<name>/exec`` (or ``attach``) offering ``v5.channel.k8s.io`` then
``v4.channel.k8s.io`` (`kr8s_trio._ws`), and yields an `ExecProcess`: ``stdin`` is a trio
``SendStream`` (its ``aclose`` sends v5's stream close ``[255, 0]``: the end of stdin),
``stdout`` / ``stderr`` are trio ``ReceiveStream`` s (``b""`` at the end), `ExecProcess.resize`
writes the terminal size on channel 4, `ExecProcess.wait` returns the exit code from the status
channel. A task in a nursery owned by the block reads the WebSocket and routes the frames
(decoded by `kr8s_trio._core._channels`); leaving the block closes everything.

Output is buffered a little (`kr8s_trio._execstreams.OUTPUT_BUFFER` messages per stream), then
the reading stops, which holds the remote process back: read what you asked for (or do not ask
for it), as with pipes of a local process. `run_process` does that for you, and returns a
`CompletedExec`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import IO, TYPE_CHECKING, TypeAlias

import trio

from kr8s_trio._core._channel_status import ExecStatus, parse_status
from kr8s_trio._core._channels import (
    ERROR,
    STDERR,
    STDOUT,
    V4,
    V5,
    CloseStream,
    TerminalSize,
    decode_message,
    encode_resize,
    get_protocol,
)
from kr8s_trio._core._exceptions import (
    ExecError,
    Kr8sError,
    RemoteProtocolError,
)
from kr8s_trio._execstreams import STDIN_CHUNK, Output, Stdin
from kr8s_trio._ws import ConnectionClosed, WebSocket, open_websocket

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["CompletedExec", "ExecProcess", "StdinSource", "open_process", "run_process"]

#: what ``exec(stdin=...)`` accepts
StdinSource: TypeAlias = (
    bytes | str | IO[bytes] | IO[str] | AsyncIterable[bytes] | AsyncIterable[str]
)


@dataclasses.dataclass
class CompletedExec:
    """A finished remote command (kr8s's name and fields).

    Attributes:
        args: the command.
        stdout, stderr: what it wrote (empty unless captured).
        returncode: its exit code.
    """

    args: list[str]
    stdout: bytes
    stderr: bytes
    returncode: int
    status: dict[str, object] = dataclasses.field(default_factory=dict, repr=False)

    def check_returncode(self) -> None:
        """Raise `ExecError` if the exit code is non-zero."""
        if self.returncode:
            message = str(self.status.get("message") or f"exit code {self.returncode}")
            raise ExecError(message, exit_code=self.returncode, status=self.status)


class ExecProcess:
    """A remote process (from `open_process`, ``pod.open_exec`` or ``pod.open_attach``).

    Attributes:
        args: the command (empty for attach).
        stdin: its stdin (None unless asked for).
        stdout, stderr: its output (None unless asked for; with a terminal, stderr joins
            stdout).
        protocol: the channel protocol the server chose.
        returncode: the exit code once known (None before, and when the command did not run).
        status: the Status the server reported (None before the end).
    """

    def __init__(self, ws: WebSocket, args: list[str], *, stdin: bool, stdout: bool, stderr: bool):
        self.args = args
        self.protocol = get_protocol(ws.subprotocol or "")
        self._ws = ws
        self.stdin: trio.abc.SendStream | None = Stdin(ws, self.protocol) if stdin else None
        self._stdout = Output("stdout") if stdout else None
        self._stderr = Output("stderr") if stderr else None
        self.stdout: trio.abc.ReceiveStream | None = self._stdout
        self.stderr: trio.abc.ReceiveStream | None = self._stderr
        self.returncode: int | None = None
        self.status: dict[str, object] | None = None
        self._result: ExecStatus | None = None
        self._error: BaseException | None = None
        self._done = trio.Event()

    def __repr__(self) -> str:
        return f"<ExecProcess {self.args!r} protocol={self.protocol.name!r} rc={self.returncode}>"

    async def resize(self, width: int, height: int) -> None:
        """Set the terminal's size (channel 4; only a ``tty`` session has a terminal).

        Cancellation:
            The size may not have been sent.
        """
        await self._ws.send(encode_resize(self.protocol, TerminalSize(width, height)))

    async def wait(self) -> int:
        """Wait for the process to end; its exit code.

        Raises:
            APIError: the command could not run (not found, container gone...).
            ConnectionClosed: the session ended without a status.
            RemoteProtocolError: the server broke the protocol.

        Cancellation:
            Safe; the process runs on.
        """
        await self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        if self._result.exit_code is None:
            error = self._result.error()
            assert error is not None
            raise error
        return self._result.exit_code

    def _route(self, message: bytes | str, status: bytearray) -> Awaitable[None] | None:
        event = decode_message(self.protocol, message)
        if isinstance(event, CloseStream):
            out = {STDOUT: self._stdout, STDERR: self._stderr}.get(event.channel)
            if out is not None:
                out.end()
            return None
        if event is None or not event.data:
            return None
        if event.channel == ERROR:
            status += event.data
            return None
        out = {STDOUT: self._stdout, STDERR: self._stderr}.get(event.channel)
        if out is None:
            raise RemoteProtocolError(f"unexpected data on channel {event.channel}")
        return out.deliver(event.data)

    async def _pump(self) -> None:
        """Read the WebSocket until it closes, routing frames (never raises: errors go to
        `wait`)."""
        status = bytearray()
        closed: ConnectionClosed | None = None
        try:
            while True:
                try:
                    message = await self._ws.receive()
                except ConnectionClosed as exc:
                    closed = exc
                    break
                delivery = self._route(message, status)
                if delivery is not None:
                    with contextlib.suppress(trio.BrokenResourceError):  # the reader left
                        await delivery
            assert closed is not None
            if status or (closed.code == 1000 and not self.protocol.json_status):
                self._result = parse_status(self.protocol, bytes(status))
                self.status = dict(self._result.status)
                self.returncode = self._result.exit_code
            else:
                self._error = closed
        except Kr8sError as exc:
            self._error = exc
        finally:
            for out in (self._stdout, self._stderr):
                if out is not None:
                    out.end()
            self._done.set()


def _params(
    command: Sequence[str],
    container: str | None,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
) -> list[tuple[str, str]]:
    query = [("command", str(c)) for c in command]
    if container:
        query.append(("container", container))
    flags = {"stdin": stdin, "stdout": stdout, "stderr": stderr, "tty": tty}
    query += [(k, "true") for k, on in flags.items() if on]
    return query


@contextlib.asynccontextmanager
async def open_process(
    api: Api,
    namespace: str | None,
    pod: str,
    command: Sequence[str] = (),
    *,
    subresource: str = "exec",
    container: str | None = None,
    stdin: bool = False,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
) -> AsyncIterator[ExecProcess]:
    """Start ``command`` in a container of ``pod`` (or attach to it) and yield the process.

    Yields:
        The `ExecProcess`. Leaving the block ends the session (the remote command is stopped
        if it still runs) and closes the WebSocket.

    Raises:
        APIError: the server refused (404 no pod, 400 bad container, 403...).
        TransportError: no answer.

    Cancellation:
        Safe at every phase; the WebSocket is closed and the pump task ends.
    """
    if isinstance(command, str):
        raise TypeError("command is a list of arguments, not a string")
    params = _params(command, container, stdin, stdout, stderr, tty)
    async with open_websocket(
        api,
        namespace=namespace,
        url=f"pods/{pod}/{subresource}",
        params=params,
        subprotocols=(V5, V4),
    ) as ws:
        proc = ExecProcess(ws, list(command), stdin=stdin, stdout=stdout, stderr=stderr)
        failure: BaseException | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(proc._pump)
            try:
                yield proc
            except BaseException as exc:  # re-raised below, not wrapped in a group
                failure = exc
            finally:
                nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure


# -- run to completion ---------------------------------------------------------------------------


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


async def _chunks(source: StdinSource) -> AsyncIterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
    elif isinstance(source, str):
        yield source.encode("utf-8")
    elif isinstance(source, AsyncIterable):
        async for item in source:
            yield item.encode("utf-8") if isinstance(item, str) else bytes(item)
    elif hasattr(source, "read"):
        while True:
            data: bytes | str = await trio.to_thread.run_sync(source.read, STDIN_CHUNK)
            if not data:
                break
            yield data.encode("utf-8") if isinstance(data, str) else bytes(data)
    else:
        raise TypeError(f"stdin cannot be a {type(source).__name__}")


async def _feed(stdin: trio.abc.SendStream, source: StdinSource) -> None:
    try:
        async for chunk in _chunks(source):
            await stdin.send_all(chunk)
    except ConnectionClosed:
        return  # the process ended without reading it all, as a closed pipe
    await stdin.aclose()


async def _collect(
    stream: trio.abc.ReceiveStream, buffer: bytearray | None, sink: IO[bytes] | None
) -> None:
    while data := await stream.receive_some():
        if buffer is not None:
            buffer += data
        if sink is not None:
            await _maybe_await(sink.write(data))


async def _run_all(*jobs: Callable[[], Awaitable[None]]) -> None:
    """Run ``jobs`` concurrently; the first error of one cancels the rest and is raised (not
    wrapped in an exception group)."""
    errors: list[Exception] = []

    async def guard(job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except Exception as exc:
            errors.append(exc)
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        for job in jobs:
            nursery.start_soon(guard, job)
    if errors:
        raise errors[0]


async def run_process(
    api: Api,
    namespace: str | None,
    pod: str,
    command: Sequence[str] = (),
    *,
    subresource: str = "exec",
    container: str | None = None,
    stdin: StdinSource | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    check: bool = True,
    capture_output: bool = True,
    timeout: float | None = None,  # noqa: ASYNC109 (kr8s's signature)
    tty: bool = False,
) -> CompletedExec:
    """Run ``command`` to completion (see ``Pod.exec``): feed stdin, collect the output, wait.

    Raises:
        ExecError: ``check`` and a non-zero exit.
        APIError: refused, or the command could not run.
        TimeoutError: not finished within ``timeout`` seconds.

    Cancellation:
        Safe at every phase; the session is closed and the remote command stopped.
    """
    result: CompletedExec | None = None
    with trio.move_on_after(float("inf") if timeout is None else timeout):
        async with open_process(
            api,
            namespace,
            pod,
            command,
            subresource=subresource,
            container=container,
            stdin=stdin is not None,
            stdout=True,
            stderr=not tty,
            tty=tty,
        ) as proc:
            out = bytearray() if capture_output else None
            err = bytearray() if capture_output else None
            jobs: list[Callable[[], Awaitable[None]]] = []
            if stdin is not None and proc.stdin is not None:
                source, pipe = stdin, proc.stdin
                jobs.append(lambda: _feed(pipe, source))
            if proc.stdout is not None:
                jobs.append(lambda: _collect(proc.stdout, out, stdout))  # type: ignore[arg-type]
            if proc.stderr is not None:
                jobs.append(lambda: _collect(proc.stderr, err, stderr))  # type: ignore[arg-type]
            await _run_all(*jobs)
            code = await proc.wait()
            result = CompletedExec(
                list(command), bytes(out or b""), bytes(err or b""), code, dict(proc.status or {})
            )
    if result is None:
        raise TimeoutError(f"{list(command)!r} in pod {pod!r} did not finish within {timeout} s")
    if check:
        result.check_returncode()
    return result
