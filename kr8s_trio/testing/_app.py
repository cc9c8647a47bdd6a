"""The fake API server as an ASGI application.

Every request goes through the same pipeline as in kube-apiserver, in the same order: read the
body (3 MiB limit), classify the request (`request_info`), record it, authenticate (token, client
certificate, anonymous), impersonate, apply armed faults, then serve non-resource paths
(health, discovery, OpenAPI) or authorize and dispatch to the resource handlers. Errors are
`APIError`s carrying a Status and are answered with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._auth import RequestAttributes, UserInfo, impersonation_forbidden
from kr8s_trio.testing._exec import serve_attach, serve_exec
from kr8s_trio.testing._faults import Fault, RequestRecord
from kr8s_trio.testing._handlers import StreamingResponse, handle_resource
from kr8s_trio.testing._http import Request, Response, dumps
from kr8s_trio.testing._portforward import serve_portforward
from kr8s_trio.testing._requestinfo import RequestInfo, request_info
from kr8s_trio.testing._server import Receive, Scope, Send, connection_from_scope
from kr8s_trio.testing._status import method_not_supported, path_not_found, status_error
from kr8s_trio.testing._subresources import handle_subresource, handle_virtual
from kr8s_trio.testing._watch import RESET
from kr8s_trio.testing._websocket import WebSocket, WebSocketClosed

if TYPE_CHECKING:
    from kr8s_trio.testing._discovery import Discovery
    from kr8s_trio.testing._openapi import OpenAPI
    from kr8s_trio.testing._server import ConnectionHandle
    from kr8s_trio.testing._state import ClusterState

__all__ = ["FakeAPIServerApp"]

_HEALTH = ("/healthz", "/livez", "/readyz")

StreamHandler = Callable[["ClusterState", WebSocket, Request, RequestInfo], Awaitable[None]]
#: the WebSocket subresources of pods and who serves them
_STREAMS: dict[str, StreamHandler] = {
    "exec": serve_exec,
    "attach": serve_attach,
    "portforward": serve_portforward,
}
#: bodies larger than this are sent in slices of this size (see `FakeAPIServerApp._send`)
_SEND_SLICE = 256 * 1024


def error_response(exc: APIError) -> Response:
    headers = []
    if exc.retry_after is not None:
        headers.append(("Retry-After", str(int(exc.retry_after))))
    return Response(status=exc.code, body=dumps(exc.status), headers=headers)


def _fault_response(fault: Fault) -> Response:
    headers = (
        [("Retry-After", str(int(fault.retry_after)))] if fault.retry_after is not None else []
    )
    if fault.status == 429:
        return Response(
            429,
            b"Too many requests, please try again later.\n",
            "text/plain; charset=utf-8",
            headers,
        )
    reasons = {
        500: ("InternalError", "Internal error occurred: injected fault"),
        503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504: ("Timeout", "Timeout: request did not complete within the allotted timeout"),
    }
    reason, message = reasons.get(fault.status, ("InternalError", f"injected fault {fault.status}"))
    # kube-apiserver derives the Retry-After header from the Status' details.retryAfterSeconds
    details: dict[str, object] | None = (
        {"retryAfterSeconds": int(fault.retry_after)} if fault.retry_after is not None else None
    )
    exc = status_error(fault.status, reason, message, details, retry_after=fault.retry_after)
    response = error_response(exc)
    return response


class FakeAPIServerApp:
    """ASGI app serving a `ClusterState`."""

    def __init__(self, state: ClusterState, discovery: Discovery, openapi: OpenAPI) -> None:
        self.state = state
        self.discovery = discovery
        self.openapi = openapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- http ---------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        too_large = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if len(body) + len(chunk) > self.state.config.max_body_bytes:
                too_large = True
            elif chunk:
                body += chunk
            if not message.get("more_body", False):
                break
        request = _request(scope, scope["method"], bytes(body))
        info = request_info(request.method, request.path, request.param("watch"))
        record = self._record(request, info)
        connection = connection_from_scope(scope)
        response: Response | StreamingResponse
        try:
            if too_large:
                raise status_error(
                    413,
                    "RequestEntityTooLarge",
                    f"Request entity too large: limit is {self.state.config.max_body_bytes}",
                )
            response = await self._dispatch(request, info, record, connection, scope)
        except APIError as exc:
            response = error_response(exc)
        record.status = response.status
        if isinstance(response, StreamingResponse):
            await self._stream(response, send, receive, connection)
        else:
            await self._send(response, send, record)

    def _record(self, request: Request, info: RequestInfo) -> RequestRecord:
        record = RequestRecord(
            method=request.method,
            path=request.path,
            query=request.query,
            verb=info.verb,
            api_group=info.group,
            api_version=info.version,
            resource=info.resource,
            subresource=info.subresource,
            namespace=info.namespace,
            name=info.name,
            label_selector=request.param("labelSelector"),
            field_selector=request.param("fieldSelector"),
            user_agent=request.header("user-agent"),
            content_type=request.header("content-type"),
            accept=request.header("accept"),
            impersonation={
                k: v for k, v in request.headers.items() if k.startswith("impersonate-")
            },
        )
        self.state.requests.append(record)
        return record

    def _authenticate(self, request: Request, scope: Scope, record: RequestRecord) -> UserInfo:
        """Who is asking (token, client certificate, anonymous), after impersonation."""
        connection = connection_from_scope(scope)
        peer = None
        if connection is not None and connection.peer is not None:
            peer = (connection.peer.username, connection.peer.groups)
        user = self.state.authn.authenticate(request.headers, peer)
        user = self._impersonate(user, scope)
        record.user = user.username
        return user

    async def _dispatch(
        self,
        request: Request,
        info: RequestInfo,
        record: RequestRecord,
        connection: ConnectionHandle | None,
        scope: Scope,
    ) -> Response | StreamingResponse:
        if request.path.rstrip("/") in _HEALTH or request.path.startswith(
            tuple(p + "/" for p in _HEALTH)
        ):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        state = self.state
        user = self._authenticate(request, scope, record)
        fault = state.faults.take("status", record)
        if fault is not None:
            return _fault_response(fault)
        delay = state.faults.take("delay_headers", record)
        if delay is not None:
            await trio.sleep(delay.seconds)
        if not info.is_resource:
            if request.method not in ("GET", "HEAD"):
                raise path_not_found() if request.method != "POST" else _method_not_allowed()
            answer = self.discovery.handle(request) or self.openapi.handle(request)
            if answer is None:
                raise path_not_found()
            return answer
        rt = state.registry.get(info.group, info.version, info.resource)
        if rt is None or (
            # no cluster-scoped resource is served under /namespaces/{ns}/
            not rt.namespaced and info.namespace is not None and info.resource != "namespaces"
        ):
            raise path_not_found()
        state.authz.check(
            user,
            RequestAttributes(
                verb=info.verb,
                group=info.group,
                resource=info.resource,
                subresource=info.subresource,
                namespace=info.namespace
                if rt.namespaced or info.resource == "namespaces"
                else None,
                name=info.name,
            ),
        )
        if rt.virtual:
            if info.verb != "create":
                raise _method_not_allowed() if info.name is None else path_not_found()
            return handle_virtual(state, request, rt, user)
        if info.subresource:
            return await handle_subresource(state, request, info, rt, user)
        collection = info.name is None
        no_route = (
            info.verb not in rt.verbs
            or (collection and info.verb in ("update", "patch"))
            or (rt.namespaced and info.namespace is None and info.verb not in ("list", "watch"))
        )
        if no_route and rt.builtin:
            # kube-apiserver's router: 405 when the path has routes for other methods, else 404
            raise _method_not_allowed() if collection else path_not_found()
        if no_route:
            # the custom resource handler answers for itself
            if rt.namespaced and info.namespace is None:
                raise path_not_found()
            raise method_not_supported(rt.group_resource, info.verb)
        return await handle_resource(state, request, info, rt, record)

    def _impersonate(self, user: UserInfo, scope: Scope) -> UserInfo:
        target: str | None = None
        groups: list[str] = []
        uid = ""
        extra: dict[str, list[str]] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "impersonate-user":
                target = value
            elif name == "impersonate-group":
                groups.append(value)
            elif name == "impersonate-uid":
                uid = value
            elif name.startswith("impersonate-extra-"):
                extra.setdefault(name[len("impersonate-extra-") :], []).append(value)
        if target is None:
            if groups or uid or extra:
                raise status_error(
                    400,
                    "BadRequest",
                    "requested impersonation of groups, uid or extra without impersonating a user",
                )
            return user
        allowed = self.state.authz.allowed(
            user, RequestAttributes(verb="impersonate", group="", resource="users", name=target)
        )
        if not allowed:
            raise impersonation_forbidden(user, target)
        if not target.startswith("system:serviceaccount:") and "system:authenticated" not in groups:
            groups.append("system:authenticated")
        return UserInfo(target, uid, tuple(groups), {k: tuple(v) for k, v in extra.items()})

    async def _send(self, response: Response, send: Send, record: RequestRecord) -> None:
        trickle = (
            self.state.faults.take("trickle", record) if self.state.faults.has_armed() else None
        )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": response.header_list(),
            }
        )
        body = response.body
        if trickle is not None:
            size = max(1, trickle.chunk_size)
            for i in range(0, len(body), size):
                await send(
                    {"type": "http.response.body", "body": body[i : i + size], "more_body": True}
                )
                await trio.sleep(trickle.seconds)
            body = b""
        elif len(body) > _SEND_SLICE:
            # A big body (10,000 pods are ~60 MB) goes out in slices, so TLS encrypts and the
            # socket sends one while the client reads the previous, instead of the whole body
            # being encrypted into memory before its first byte leaves.
            for i in range(0, len(body), _SEND_SLICE):
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[i : i + _SEND_SLICE],
                        "more_body": True,
                    }
                )
            body = b""
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _stream(
        self,
        response: StreamingResponse,
        send: Send,
        receive: Receive,
        connection: ConnectionHandle | None,
    ) -> None:
        headers = [(b"content-type", response.content_type.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in response.headers]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # flush the headers at once: clients block on them before any event exists
        await send({"type": "http.response.body", "body": b"", "more_body": True})

        async def watch_disconnect(cancel: trio.CancelScope) -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    cancel.cancel()
                    return

        reset = False
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_disconnect, nursery.cancel_scope)
            async with contextlib.aclosing(response.body) as body:  # type: ignore[type-var]
                async for chunk in body:
                    if chunk is RESET:
                        reset = True
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if reset:
                if connection is not None:
                    connection.abort()
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            nursery.cancel_scope.cancel()

    # -- websocket ------------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """exec, attach and port-forward: authenticate and authorize like any request (as
        ``create`` on the subresource, as kube-apiserver does for WebSocket upgrades), then hand
        the socket to the subresource's handler."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        ws = WebSocket(scope, receive, send)
        request = _request(scope, "GET", b"")
        info = request_info("GET", request.path, None)
        record = self._record(request, info)
        try:
            user = self._authenticate(request, scope, record)
            handler = _STREAMS.get(info.subresource)
            rt = self.state.registry.get(info.group, info.version, info.resource)
            if not info.is_resource or rt is None or handler is None or info.name is None:
                raise status_error(
                    400,
                    "BadRequest",
                    "unable to upgrade connection: WebSocket upgrades are served for the exec, "
                    "attach and portforward subresources of pods",
                )
            self.state.authz.check(
                user,
                RequestAttributes(
                    verb="create",
                    group=info.group,
                    resource=info.resource,
                    subresource=info.subresource,
                    namespace=info.namespace,
                    name=info.name,
                ),
            )
            record.status = 101
            await handler(self.state, ws, request, info)
            if ws.refused_with is not None:
                record.status = ws.refused_with
        except APIError as exc:
            record.status = exc.code
            if not ws.accepted:
                await ws.reject(exc)
            else:
                await ws.close(1011, exc.message[:120])
        except WebSocketClosed:
            pass


def _request(scope: Scope, method: str, body: bytes) -> Request:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Request(
        method=method,
        path=scope["path"],
        query_string=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=body,
    )


def _method_not_allowed() -> APIError:
    return status_error(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )
