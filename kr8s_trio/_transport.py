"""The transport under every `Api`: one ``httpx.AsyncClient``, retries, a rate limiter, and the
one place where httpx's exceptions become ours.

* `build_http_client` turns a `ClientConfig` and an ``httpx.Auth`` into the client: TLS from the
  config's ``SSLContext``, HTTP/2 when ``h2`` is importable, the context's proxy (else the
  environment's), default timeouts (connect 10 s, read/write/pool 30 s), ``User-Agent:
  kr8s_trio/<version>``, the ``Impersonate-*`` headers, ``Accept-Encoding: identity`` when
  compression is disabled, and a pool whose keep-alive size equals its connection limit (a burst
  does not pay for new TLS handshakes).
* `send` sends one request with retries (`RetryPolicy`) and rate limiting (`TokenBucket`), both
  on trio's clock, so a ``MockClock`` drives them in tests. It returns the streamed response with
  its headers read; the caller owns it and must close it.
* `map_httpx_errors` maps ``httpx.TimeoutException`` to `APITimeoutError` and every other
  ``httpx.RequestError`` to `TransportError` (the httpx error is the ``__cause__``).
  ``trio.Cancelled`` is never caught.

What is retried (idempotent methods are GET, HEAD, PUT, DELETE, OPTIONS):

=====================================================  =========================================
what happened                                          retried for
=====================================================  =========================================
connect failed or timed out, no free pool slot         every method (the request was never
                                                       sent), unless the server's certificate
                                                       was rejected
connection broke after the request went out            idempotent methods
429 without a JSON body (API Priority and Fairness     every method (APF rejects before the
and max-in-flight answer in plain text)                request is executed)
429 with a Status body (e.g. an eviction blocked by    idempotent methods
a PodDisruptionBudget), 500, 502, 503, 504
=====================================================  =========================================

The wait before retry *n* (from 0) is ``Retry-After`` when the server sent one, else a random
delay in ``[0, min(max_delay, base_delay * 2**n)]`` ("full jitter"). The attempts are capped
(`RetryPolicy.max_attempts`), and so is the time from the first attempt to the end of the last
wait (`RetryPolicy.max_wait`): when the next wait would end past it, or ``Retry-After`` asks for
more than that, the last answer (or error) is what the caller gets.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import math
import random
import ssl
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Final

import attrs
import httpx
import trio

from kr8s_trio._connections import close_sockets_on_cancel, reset_orphaned_http2_streams
from kr8s_trio._core._clientconfig import ClientConfig
from kr8s_trio._core._exceptions import APITimeoutError, TransportError
from kr8s_trio._core._requests import redact_url

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "USER_AGENT",
    "RetryPolicy",
    "TokenBucket",
    "build_http_client",
    "map_httpx_errors",
    "parse_retry_after",
    "send",
    "without_read_timeout",
]


def _package_version() -> str:
    try:
        return importlib.metadata.version("kr8s_trio")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


USER_AGENT: Final = f"kr8s_trio/{_package_version()}"

#: connect 10 s; read, write and waiting for a pool slot 30 s
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})

#: httpx errors raised before the request reached the server: safe to retry for any method
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_HTTP2: Final = importlib.util.find_spec("h2") is not None


def without_read_timeout(timeout: httpx.Timeout) -> httpx.Timeout:
    """``timeout`` with no read timeout: for streams that may stay quiet (watches, logs)."""
    return httpx.Timeout(connect=timeout.connect, read=None, write=timeout.write, pool=timeout.pool)


@contextlib.contextmanager
def map_httpx_errors() -> Iterator[None]:
    """Translate httpx's request errors into `TransportError` / `APITimeoutError`."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise APITimeoutError(_describe(exc)) from exc
    except httpx.RequestError as exc:
        raise TransportError(_describe(exc)) from exc


def _describe(exc: httpx.RequestError) -> str:
    """``ConnectError: <the first non-empty message down the cause chain> (GET https://...)``;
    httpx's own message is often empty, the TLS or socket error under it is what helps."""
    reason = ""
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None or (reason := str(cause)):
            break
        cause = cause.__cause__ or cause.__context__
    try:
        request = exc.request
        where = f" ({request.method} {redact_url(str(request.url))})"
    except RuntimeError:  # no request attached
        where = ""
    return f"{type(exc).__name__}: {reason or 'failed'}{where}"


def build_http_client(
    config: ClientConfig,
    auth: httpx.Auth | None,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 100,
    http2: bool | None = None,
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` for one `Api` (see the module docstring).

    Args:
        config: where and how to connect.
        auth: the authentication flow (from ``kr8s_trio._auth.build_auth``), or None.
        timeout: the default timeouts.
        max_connections: the pool size, also the number of kept-alive connections.
        http2: offer HTTP/2 (default: when ``h2`` is installed).
    """
    headers: list[tuple[str, str]] = [
        ("User-Agent", USER_AGENT),
        ("Accept", "application/json"),
    ]
    if config.disable_compression:
        headers.append(("Accept-Encoding", "identity"))
    headers.extend(config.impersonate)
    verify: object = config.ssl_context if config.ssl_context is not None else True
    client = httpx.AsyncClient(
        base_url=config.server,
        auth=auth,
        headers=headers,
        verify=verify,  # type: ignore[arg-type]
        http2=_HTTP2 if http2 is None else http2,
        proxy=config.proxy_url,
        # with an explicit proxy-url the environment's proxies must not apply
        trust_env=config.proxy_url is None,
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
    )
    close_sockets_on_cancel(client)
    return client


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or
    unparsable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import datetime

        seconds = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return max(seconds, 0.0)


@attrs.frozen
class RetryPolicy:
    """How requests are retried (see the module docstring for what is retried).

    Attributes:
        max_attempts: attempts in all, the first included (1: never retry).
        base_delay: the jitter ceiling of the first retry, doubled for each one after.
        max_delay: the largest jitter ceiling.
        max_wait: the most time spent waiting between attempts, for one request.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    max_wait: float = 30.0

    def delay(self, retry: int, retry_after: float | None) -> float:
        """The wait before retry number ``retry`` (0 for the first)."""
        if retry_after is not None:
            return retry_after
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2.0**retry))


class TokenBucket:
    """A client-side rate limiter: ``qps`` requests a second on average, bursts of ``burst``.

    Waiting callers are served in the order they arrived (each reserves its token, then sleeps
    until it is due); a caller cancelled while waiting gives its token back. Time is trio's.
    """

    def __init__(self, qps: float, burst: int = 1) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps}, burst={burst}")
        self.qps = qps
        self.burst = burst
        self._tokens = float(burst)
        self._stamp: float | None = None

    def __repr__(self) -> str:
        return f"TokenBucket(qps={self.qps}, burst={self.burst})"

    def _refill(self) -> float:
        now = trio.current_time()
        if self._stamp is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.qps)
        self._stamp = now
        return now

    async def acquire(self) -> None:
        """Take one token, waiting until one is available.

        Cancellation:
            The waiting caller gives its token back; nothing else changes.
        """
        self._refill()
        self._tokens -= 1.0
        if self._tokens >= 0.0:
            await trio.lowlevel.checkpoint()
            return
        try:
            await trio.sleep(-self._tokens / self.qps)
        except BaseException:
            self._tokens += 1.0  # cancelled: the token was not used
            raise


def _certificate_rejected(exc: BaseException) -> bool:
    """Whether the server's certificate failed verification (trying again will not help)."""
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _retry_allowed(method: str, response: httpx.Response) -> bool:
    if response.status_code not in _RETRIED_STATUSES:
        return False
    if method in IDEMPOTENT_METHODS:
        return True
    # APF (and the max-in-flight filter) reject before executing, in plain text
    return response.status_code == 429 and not response.headers.get("content-type", "").startswith(
        "application/json"
    )


async def send(
    client: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    *,
    retry: RetryPolicy,
    limiter: TokenBucket | None = None,
    replayable: bool = True,
) -> httpx.Response:
    """Send the request ``build()`` makes, streamed, retrying per ``retry``.

    Args:
        client: the Api's client.
        build: makes the request (called again for each attempt).
        retry: how to retry.
        limiter: a rate limiter every attempt goes through, if any.
        replayable: whether the body can be sent again (False for a streamed upload).

    Returns:
        The response with its headers read and its body unread (the caller closes it). A
        response still failing when the attempts or the time run out is returned as it is.

    Raises:
        TransportError, APITimeoutError: the last attempt did not get an answer.

    Cancellation:
        Safe at any point; a response discarded between attempts is closed first.
    """
    deadline = trio.current_time() + retry.max_wait
    attempt = 0
    while True:
        request = build()
        if limiter is not None:
            await limiter.acquire()
        last_try = not replayable or attempt + 1 >= retry.max_attempts
        try:
            response = await client.send(request, stream=True)
        except BaseException as exc:
            # (cancelled or failed before the response: no HTTP/2 stream left open server-side)
            await reset_orphaned_http2_streams(client)
            if not isinstance(exc, httpx.RequestError):
                raise
            retryable = not _certificate_rejected(exc) and (
                isinstance(exc, _NOT_SENT) or request.method in IDEMPOTENT_METHODS
            )
            wait = None if last_try or not retryable else retry.delay(attempt, None)
            if wait is None or trio.current_time() + wait > deadline:
                with map_httpx_errors():
                    raise
        else:
            if last_try or not _retry_allowed(request.method, response):
                return response
            wait = retry.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
            if trio.current_time() + wait > deadline:
                return response
            try:
                # read the (small) error body, so that the connection can be used again
                with map_httpx_errors():
                    await response.aread()
            except TransportError:
                pass
            finally:
                await response.aclose()
        await trio.sleep(wait)
        attempt += 1
