"""The write repair of kr8s_trio._connections: a cancelled write finishes (or, past its grace,
fails the connection) instead of breaking a TLS connection other requests share."""

from __future__ import annotations

import httpcore
import pytest
import trio
import trio.testing

from kr8s_trio._connections import WRITE_GRACE, _TLSClosingStream


class _SlowStream(httpcore.AsyncNetworkStream):
    """A network stream whose writes wait for ``release``."""

    def __init__(self) -> None:
        self.release = trio.Event()
        self.written: list[bytes] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.release.wait()
        self.written.append(buffer)

    async def aclose(self) -> None:
        pass


async def test_connections_cancelled_write_finishes_then_is_cancelled() -> None:
    inner = _SlowStream()
    stream = _TLSClosingStream(inner)
    scope = trio.CancelScope()

    async def release_after_cancel() -> None:
        await trio.testing.wait_all_tasks_blocked()
        scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert inner.written == []  # still writing, despite the cancel
        inner.release.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(release_after_cancel)
        with scope:
            await stream.write(b"frame")
            raise AssertionError("the cancellation was not delivered after the write")
    assert scope.cancelled_caught
    assert inner.written == [b"frame"]


async def test_connections_stuck_cancelled_write_fails_after_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    stream = _TLSClosingStream(_SlowStream())
    start = trio.current_time()
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(httpcore.WriteError, match="did not finish"):
            await stream.write(b"frame")
    assert trio.current_time() - start == pytest.approx(WRITE_GRACE)


async def test_connections_write_passes_through_uncancelled() -> None:
    inner = _SlowStream()
    inner.release.set()
    await _TLSClosingStream(inner).write(b"a")
    assert inner.written == [b"a"]
