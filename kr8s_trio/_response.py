"""The streamed `Response` that `Api.call_api` yields.

Its headers are read, its body is not: read it whole (`Response.read`, `Response.json`,
`Response.text`) or as it arrives (`Response.aiter_bytes`, `Response.aiter_lines`). Network
errors while reading become `TransportError` / `APITimeoutError`. The response belongs to the
``call_api`` block that yielded it, which closes it on exit.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

import httpx
import trio

from kr8s_trio._connections import stop_http2_stream
from kr8s_trio._transport import map_httpx_errors

__all__ = ["GC_PAUSE_BYTES", "Response", "gc_paused"]

#: bodies from this size up are decoded with the cyclic garbage collector paused
GC_PAUSE_BYTES = 1 << 20

_T = TypeVar("_T")


class _GCPause:
    """Pauses Python's cyclic garbage collector while at least one holder is inside.

    Decoding a large JSON document allocates millions of containers, and each allocation
    threshold reached runs a collection over everything decoded so far: a 60 MB list of 10,000
    pods decodes in 1.2 s with the collector on and 0.42 s with it paused (benchmarks/README.md).
    Pausing alone only postpones most of that work: the next young collections would traverse
    every container just decoded. So before enabling the collector again the last holder
    promotes the survivors to the oldest generation (``gc.freeze(); gc.unfreeze()``), where only
    full collections look at them: measured on that list, 1.65 s with the collector on, 1.43 s
    paused, 0.47 s paused and promoted (benchmarks/bench_objects.py). The cost: young garbage
    cycles of the moment wait for the next full collection. Skipped when something froze objects
    (``gc.unfreeze`` would release them; some interpreters start so, e.g. a 3.12.1 build here),
    leaving the plain pause.
    Re-entrant and thread-safe (the sync facade runs trio in its own thread); the collector is
    enabled again only if it was enabled when the first holder came in.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    if gc.get_freeze_count() == 0:  # never unfreeze what someone else froze
                        gc.freeze()
                        gc.unfreeze()
                    gc.enable()


#: ``with gc_paused(): ...`` pauses the cyclic garbage collector (see `_GCPause`)
gc_paused = _GCPause()


class Response:
    """An HTTP response from the API server, body not yet read.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers (case-insensitive).
    """

    __slots__ = ("_response", "_streams", "headers", "status_code")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._streams: list[_Stream[Any]] = []
        self.status_code: int = response.status_code
        self.headers: httpx.Headers = response.headers

    def __repr__(self) -> str:
        request = self._response.request
        return f"<Response [{self.status_code}] {request.method} {request.url.raw_path.decode()}>"

    @property
    def http_version(self) -> str:
        """``HTTP/1.1`` or ``HTTP/2``."""
        return self._response.http_version

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    async def read(self) -> bytes:
        """The whole body (read once; later calls return the same bytes).

        Raises:
            TransportError, APITimeoutError: the connection failed while reading.

        Cancellation:
            Safe; the body is then unusable and the connection is discarded on exit.
        """
        with map_httpx_errors():
            return await self._response.aread()

    async def json(self) -> Any:
        """The body decoded as JSON (from 1 MiB up, with the cyclic garbage collector paused
        while decoding: see `gc_paused`).

        Raises:
            TransportError, APITimeoutError: as `read`.
            ValueError: the body is not JSON.

        Cancellation:
            As `read`.
        """
        body = await self.read()
        if len(body) < GC_PAUSE_BYTES:
            return json.loads(body)
        with gc_paused():
            return json.loads(body)

    async def text(self) -> str:
        """The body decoded as text (the charset from Content-Type, else UTF-8).

        Cancellation:
            As `read`.
        """
        await self.read()
        return self._response.text

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives, decompressed.

        Raises:
            TransportError, APITimeoutError: the connection failed while reading.

        Cancellation:
            Safe; the connection is discarded when the ``call_api`` block exits.
        """
        return self._stream(self._response.aiter_bytes(chunk_size))

    def aiter_lines(self) -> AsyncIterator[str]:
        """The body line by line (without line endings), as it arrives.

        Raises:
            TransportError, APITimeoutError: the connection failed while reading.

        Cancellation:
            As `aiter_bytes`.
        """
        return self._stream(self._response.aiter_lines())

    def _stream(self, items: AsyncIterator[_T]) -> _Stream[_T]:
        assert isinstance(items, AsyncGenerator)
        stream = _Stream(items)
        self._streams.append(stream)
        return stream

    async def _aclose(self) -> None:
        """Close the body iterators handed out, then the response (the ``call_api`` exit)."""
        await stop_http2_stream(self._response)
        for stream in self._streams:
            await stream.aclose()
        await self._response.aclose()


class _Stream(Generic[_T]):
    """One of httpx's body iterators, with httpx's errors mapped. Not an async generator, so
    that breaking out of an ``async for`` leaves nothing for the garbage collector to finalise:
    the ``call_api`` block closes it on exit."""

    __slots__ = ("_items",)

    def __init__(self, items: AsyncGenerator[_T, None]) -> None:
        self._items = items

    def __aiter__(self) -> _Stream[_T]:
        return self

    async def __anext__(self) -> _T:
        with map_httpx_errors():
            return await anext(self._items)

    async def aclose(self) -> None:
        """Finish the iterator. httpx's body iterators are async generators wrapping one
        another; closing the outermost would leave the inner ones suspended, for the garbage
        collector to finalise (trio warns about each). Pulling from it in a cancelled scope
        instead makes the ``Cancelled`` run up through every layer, which finishes them all; no
        I/O happens (the first checkpoint raises). Whatever else they raise is discarded with
        the body."""
        with trio.CancelScope() as scope, contextlib.suppress(Exception, StopAsyncIteration):
            scope.cancel()
            while True:
                await anext(self._items)
