"""What the renewing credential flows share (`kr8s_trio._auth`): a cached credential used with
no I/O and no lock while it is fresh, single-flight renewal, one renewal and one resend after a
401 inside the flow, and expiry measured on trio's clock and checked against the wall clock.

Secrets never appear in a repr, a log record or an `AuthError` message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Generator

import httpx
import trio

from kr8s_trio._core._exceptions import AuthError

__all__ = ["EXPIRY_MARGIN", "WallClock"]

logger = logging.getLogger("kr8s_trio._auth")

#: a credential counts as expired this long before its expiry time (seconds)
EXPIRY_MARGIN = 10.0

WallClock = Callable[[], float]


class _RenewingAuth(httpx.Auth):
    """A credential that is cached, renewed when stale (`_fresh`) and after a 401.

    Subclasses implement `_fresh` (no I/O) and `_renew`, which returns the new Authorization
    header value (or the current one when there is nothing new) and is only called under the
    lock.
    """

    def __init__(self) -> None:
        self._lock = trio.Lock()
        self._header: str | None = None
        #: bumped by every renewal: a 401 renews only if none happened since the request left
        self._generation = 0
        #: renewals attempted, and why the last one failed: requests that waited for a renewal
        #: that failed get its error instead of trying again each
        self._attempts = 0
        self._last_error: str | None = None

    def current_token(self) -> str | None:
        """The bearer token the flow sends now (None before its first request, or when it
        authenticates otherwise)."""
        header = self._header
        if header is None or not header.startswith("Bearer "):
            return None
        return header.removeprefix("Bearer ")

    def _fresh(self) -> bool:
        raise NotImplementedError

    async def _renew(self, *, rejected: bool) -> str:
        raise NotImplementedError

    async def _renew_locked(self, *, rejected: bool) -> None:
        self._attempts += 1
        self._last_error = None
        try:
            header = await self._renew(rejected=rejected)
        except AuthError as exc:
            self._last_error = str(exc)
            raise
        self._header = header
        self._generation += 1

    def _failed_meanwhile(self, attempts: int) -> None:
        if self._attempts != attempts and self._last_error is not None:
            raise AuthError(self._last_error)

    async def _current(self) -> tuple[str, int]:
        header = self._header
        if header is not None and self._fresh():
            return header, self._generation
        attempts = self._attempts
        async with self._lock:
            self._failed_meanwhile(attempts)
            if self._header is None or not self._fresh():
                await self._renew_locked(rejected=False)
            assert self._header is not None
            return self._header, self._generation

    async def _after_rejection(self, sent: str, generation: int) -> str | None:
        attempts = self._attempts
        async with self._lock:
            self._failed_meanwhile(attempts)
            if self._generation == generation:
                await self._renew_locked(rejected=True)
            header = self._header
        return None if header == sent else header

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send ``request`` with the current credential; after a 401, renew it and send again.

        Raises:
            AuthError: the credential could not be obtained or renewed.

        Cancellation: safe at any point; a renewal cut short leaves the cached credential as it
        was (a plugin process is killed, a refresh request abandoned), and the next request
        renews again.
        """
        header, generation = await self._current()
        request.headers["Authorization"] = header
        response = yield request
        if response.status_code != 401:
            return
        logger.debug("%r: the server answered 401, renewing the credential", self)
        renewed = await self._after_rejection(header, generation)
        if renewed is None or not isinstance(request.stream, httpx.ByteStream):
            return  # nothing new to try, or a streamed body that cannot be sent again
        request.headers["Authorization"] = renewed
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(f"{type(self).__name__} works with httpx.AsyncClient only")


class _Expiry:
    """When a credential expires: a wall-clock time, tracked on trio's clock too."""

    def __init__(self, wall_clock: WallClock) -> None:
        self._wall_clock = wall_clock
        self._wall: float | None = None
        self._deadline = float("inf")

    def set(self, expires_at: float | None) -> None:
        """``expires_at``: seconds since the epoch (None: never)."""
        self._wall = None if expires_at is None else expires_at - EXPIRY_MARGIN
        if self._wall is None:
            self._deadline = float("inf")
        else:
            self._deadline = trio.current_time() + (self._wall - self._wall_clock())

    def passed(self) -> bool:
        if self._wall is None:
            return False
        return trio.current_time() >= self._deadline or self._wall_clock() >= self._wall


class _ExpiringAuth(_RenewingAuth):
    """A credential with an expiry time (wall clock), fresh until it passes."""

    def __init__(self, wall_clock: WallClock) -> None:
        super().__init__()
        self._expiry = _Expiry(wall_clock)

    def _fresh(self) -> bool:
        return not self._expiry.passed()
