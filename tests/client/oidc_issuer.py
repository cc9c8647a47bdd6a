"""A tiny OpenID issuer on 127.0.0.1 over TLS, for the OIDC refresh tests: discovery and a token
endpoint with the refresh-token grant, nothing more. HTTP/1.1 with h11, one request per
connection.

Imported as ``from oidc_issuer import ...`` (pytest's "prepend" import mode puts this folder
on sys.path).
"""

from __future__ import annotations

import base64
import functools
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

import attrs
import h11
import trio
import trustme


def make_jwt(claims: dict[str, object]) -> str:
    """An unsigned-looking JWT carrying ``claims`` (nobody verifies the signature here)."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@attrs.define
class TokenRequest:
    """One call of the token endpoint: the form it posted."""

    form: dict[str, str]


@attrs.define
class OIDCIssuer:
    """The issuer's state: what the token endpoint accepts and hands out next."""

    url: str
    ca_pem: bytes
    client_id: str
    client_secret: str
    #: the refresh token the endpoint accepts (replaced by ``next_refresh_token`` on success)
    refresh_token: str
    #: what a successful refresh returns
    next_id_token: str = ""
    next_refresh_token: str = ""
    #: the requests' paths in order, and the token requests' forms
    paths: list[str] = attrs.field(factory=list)
    token_requests: list[TokenRequest] = attrs.field(factory=list)

    def route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        self.paths.append(path)
        if method == "GET" and path == "/.well-known/openid-configuration":
            return 200, {"issuer": self.url, "token_endpoint": f"{self.url}/token"}
        if method != "POST" or path != "/token":
            return 404, {"error": "not_found"}
        form = dict(parse_qsl(body.decode()))
        self.token_requests.append(TokenRequest(form))
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "bad refresh token"}
        self.refresh_token = self.next_refresh_token
        return 200, {
            "access_token": "opaque-access-token",
            "token_type": "Bearer",
            "id_token": self.next_id_token,
            "refresh_token": self.next_refresh_token,
        }

    async def handle(self, stream: trio.abc.Stream) -> None:
        conn = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        body = bytearray()
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
            if request is None:
                return
            status, payload = self.route(
                request.method.decode(), request.target.decode(), bytes(body)
            )
            data = json.dumps(payload).encode()
            headers = [
                ("content-type", "application/json"),
                ("content-length", str(len(data))),
                ("connection", "close"),
            ]
            await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers)))
            await stream.send_all(conn.send(h11.Data(data=data)))
            await stream.send_all(conn.send(h11.EndOfMessage()))
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


@asynccontextmanager
async def open_oidc_issuer(
    *, client_id: str, client_secret: str, refresh_token: str
) -> AsyncIterator[OIDCIssuer]:
    """Serve an issuer on 127.0.0.1 (TLS, certificate from a fresh CA) until the block exits."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    issuer = OIDCIssuer(
        url="",
        ca_pem=ca.cert_pem.bytes(),
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
    )

    async def serve(stream: trio.SocketStream) -> None:
        await issuer.handle(trio.SSLStream(stream, server_ctx, server_side=True))

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, serve, 0, host="127.0.0.1")
        )
        issuer.url = f"https://127.0.0.1:{listeners[0].socket.getsockname()[1]}"
        yield issuer
        nursery.cancel_scope.cancel()
