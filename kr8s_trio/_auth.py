"""The ``httpx.Auth`` flows that put credentials on requests, made from the specs of
`kr8s_trio._core._clientconfig` by `build_auth`.

=================  ==========================================================================
spec               flow
=================  ==========================================================================
`NoAuthSpec`       none (``build_auth`` returns None)
`TokenSpec`        `BearerTokenAuth`: a fixed ``Authorization: Bearer`` header
`BasicAuthSpec`    `BasicAuth`: a fixed ``Authorization: Basic`` header
`TokenFileSpec`    `TokenFileAuth`: the file's token, re-read when it changed (looked at no more
                   than once a minute) and after a 401
`ExecSpec`         `ExecAuth`: a credential plugin's token, cached until its expiry, renewed after
                   a 401
`OIDCSpec`         `OIDCAuth`: the id-token until its ``exp``, then the refresh-token grant
=================  ==========================================================================

The renewing flows share `_RenewingAuth`: a request uses the cached credential with no I/O and
no lock while it is fresh; renewal is single-flight (one ``trio.Lock``, so concurrent requests
share one plugin run or one refresh). When the server answers 401 the credential is renewed once
and the request sent once more, inside the flow, so the caller sees only the final response; a
renewal that yields the same credential is not retried, nor is a request whose body cannot be
replayed (a streamed upload: the caller gets the 401, the next request the new credential).
Expiry is measured on ``trio.current_time()`` (so a MockClock drives it) and checked against
the wall clock too, since expiry times are wall-clock times.

Secrets (tokens, passwords, refresh tokens, client secrets, the plugin's output) never appear
in a repr, a log record or an `AuthError` message; nothing is written to disk.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Generator

import httpx
import trio

from kr8s_trio._core._clientconfig import (
    AuthSpec,
    BasicAuthSpec,
    ExecSpec,
    NoAuthSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._exceptions import AuthError
from kr8s_trio._execauth import ExecAuth
from kr8s_trio._oidc import OIDCAuth
from kr8s_trio._renewing import _RenewingAuth

__all__ = [
    "BasicAuth",
    "BearerTokenAuth",
    "ExecAuth",
    "OIDCAuth",
    "TokenFileAuth",
    "build_auth",
]

logger = logging.getLogger(__name__)


#: how often a token file is looked at for a new token (seconds)
TOKEN_FILE_CHECK_INTERVAL = 60.0


def build_auth(spec: AuthSpec) -> httpx.Auth | None:
    """The flow for ``spec``; None when there is nothing to add to requests."""
    if isinstance(spec, NoAuthSpec):
        return None
    if isinstance(spec, TokenSpec):
        return BearerTokenAuth(spec.token)
    if isinstance(spec, BasicAuthSpec):
        return BasicAuth(spec.username, spec.password)
    if isinstance(spec, TokenFileSpec):
        return TokenFileAuth(spec)
    if isinstance(spec, ExecSpec):
        return ExecAuth(spec)
    return OIDCAuth(spec)


class BearerTokenAuth(httpx.Auth):
    """A static bearer token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "<BearerTokenAuth token=***>"


class BasicAuth(httpx.Auth):
    """HTTP basic authentication (the user name and password UTF-8 encoded)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        userpass = f"{username}:{password}".encode()
        self._header = "Basic " + base64.b64encode(userpass).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"<BasicAuth username={self.username!r} password=***>"


def _file_identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


class TokenFileAuth(_RenewingAuth):
    """A bearer token read from a file (a projected service-account token rotates on disk).

    The file is read when first needed (unless the spec carries its content), looked at again
    at most once every `TOKEN_FILE_CHECK_INTERVAL` seconds (re-read when its mtime, size or
    inode changed) and re-read after a 401. A file that cannot be read at a periodic check keeps
    the token we have.
    """

    def __init__(self, spec: TokenFileSpec) -> None:
        super().__init__()
        self.path = spec.path
        self._token = spec.initial.strip() if spec.initial else None
        self._identity: tuple[int, int, int, int] | None = None
        self._next_check = -float("inf")

    def __repr__(self) -> str:
        return f"<TokenFileAuth path={self.path!r}>"

    def _fresh(self) -> bool:
        return trio.current_time() < self._next_check

    async def _renew(self, *, rejected: bool) -> str:
        first = self._header is None
        self._next_check = trio.current_time() + TOKEN_FILE_CHECK_INTERVAL
        if first and self._token is not None:
            return f"Bearer {self._token}"
        try:
            await self._read(force=rejected or self._token is None)
        except AuthError:
            if self._token is None or rejected:
                raise
            logger.warning("%r: keeping the current token, the file cannot be read", self)
        assert self._token is not None
        return f"Bearer {self._token}"

    async def _read(self, *, force: bool) -> None:
        path = trio.Path(self.path)
        try:
            identity = _file_identity(await path.stat())
            if not force and identity == self._identity:
                return
            token = (await path.read_text(encoding="utf-8")).strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthError(
                f"cannot read the token file {self.path}: {type(exc).__name__}"
                f"{': ' + exc.strerror if isinstance(exc, OSError) and exc.strerror else ''}"
            ) from None
        if not token:
            raise AuthError(f"the token file {self.path} is empty")
        if token != self._token:
            logger.debug("%r: read a new token", self)
        self._identity = identity
        self._token = token
