"""Trio-native port-forward: local TCP listeners bridged to ``pods/<name>/portforward``.

`PortForward` listens on one or more local addresses with trio (``trio.serve_listeners``), and
opens one WebSocket to the pod per accepted connection, offering the kubelet's channel protocol
(``v4.channel.k8s.io``, then ``v4.base64.channel.k8s.io``): the forwarded port uses data channel
0 and error channel 1, and the first message on each channel carries the port (16-bit
little-endian), which is skipped. Bytes are bridged both ways:

* the local client half-closing (TCP EOF) cannot be passed on: the channel protocol has no
  half-close. The tunnel stops sending and keeps delivering what the pod sends until the pod
  closes, the client goes away, or nothing has arrived for ``eof_linger`` seconds;
* the pod closing the WebSocket half-closes, then closes, the TCP connection;
* a message on the error channel (nothing listens on the port in the pod, say) is logged on the
  ``kr8s_trio.portforward`` logger, kept in `PortForward.errors`, and ends that connection; the
  forwarder goes on serving others.

A Service or a Deployment (anything with ``ready_pods``) is forwarded through one of its ready
pods, chosen at random on the first connection and kept (sticky) until a connection to it fails
(the WebSocket is refused, or the error channel speaks): the next connection picks again. Waiting
for a ready pod is bounded (``ready_timeout``).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

import attrs
import trio

from kr8s_trio._core._channels import (
    BASE64_V4,
    V4,
    get_protocol,
)
from kr8s_trio._core._exceptions import Kr8sError
from kr8s_trio._listeners import (
    LocalPortType,
    bind_group,
    check_port,
    close_all,
    resolve_addresses,
    wanted_local_ports,
)
from kr8s_trio._pftunnel import Tunnel, bridge
from kr8s_trio._ws import open_websocket

if TYPE_CHECKING:
    from types import TracebackType

    from kr8s_trio._objects._base import APIObject
    from kr8s_trio._objects._core_v1 import Pod

__all__ = ["LocalPortType", "PortForward", "PortForwardError"]

logger = logging.getLogger("kr8s_trio.portforward")


#: the subprotocols offered, best first (the kubelet serves both, and ``""``)
SUBPROTOCOLS = (V4, BASE64_V4)
#: how many forwarding errors `PortForward.errors` keeps
_KEPT_ERRORS = 100


class PortForwardError(Kr8sError):
    """Forwarding one connection failed: the pod's node reported an error (``message``, from the
    error channel), the WebSocket could not be opened, or no pod was ready in time.

    Attributes:
        remote_port: the port forwarded to.
        pod: ``namespace/name`` of the pod, when one was chosen.
        message: what went wrong (the error channel's text, as the node wrote it).
    """

    def __init__(self, message: str, *, remote_port: int, pod: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remote_port = remote_port
        self.pod = pod


@runtime_checkable
class _HasReadyPods(Protocol):
    async def ready_pods(self) -> list[Pod]: ...


@attrs.define
class _Pick:
    """A ready pod being picked: what connections arriving meanwhile wait for."""

    done: trio.Event = attrs.field(factory=trio.Event)
    error: PortForwardError | None = None


class PortForward:
    """Forward local TCP ports to ports of a pod (or of a ready pod of a Service or Deployment).

    ::

        async with pod.portforward(8080, local_port="auto") as pf:
            url = f"http://127.0.0.1:{pf.local_port}/"

    or, in a nursery: ``pf = await nursery.start(PortForward(pod, 8080).run)``.

    Args:
        resource: a Pod, or an object with ``ready_pods`` (Service, Deployment...).
        remote_port: the pod's port, or a list of ports (each gets its own local port).
        local_port: ``"match"`` (the remote port), ``"auto"`` or None (a free port: port 0 is
            bound, so there is no check-then-bind race), a port, or for several remote ports a
            list of ports.
        address: the local address to listen on, or a list of them (a host name listens on each
            of its addresses); with ``"auto"`` every address gets the same port.
        ready_timeout: seconds to wait for a ready pod (Service, Deployment) before a connection
            fails.
        eof_linger: seconds a connection lives on, once the local client sent EOF, while the pod
            sends nothing (None: until the pod closes).
        connect_attempts: WebSocket tries per connection, each with a newly picked pod (Service,
            Deployment; a Pod is tried once).

    Attributes:
        resource, remote_ports, addresses: as given (one-element tuples for single values).
        pod: the pod connections go to (for a Service or Deployment: None until picked).
        errors: the latest forwarding failures (`PortForwardError`), oldest first.

    Raises:
        ValueError: ``resource`` has no pods to forward to, or the ports do not fit.
    """

    def __init__(
        self,
        resource: APIObject,
        remote_port: int | Sequence[int],
        local_port: LocalPortType | Sequence[int] = "match",
        address: str | Sequence[str] = "127.0.0.1",
        *,
        ready_timeout: float = 60.0,
        eof_linger: float | None = 1.0,
        connect_attempts: int = 6,
    ) -> None:
        from kr8s_trio._objects._core_v1 import Pod

        if isinstance(resource, Pod):
            self._fixed_pod: bool = True
        elif isinstance(resource, _HasReadyPods):
            self._fixed_pod = False
        else:
            raise ValueError(  # noqa: TRY004 (kr8s raises ValueError)
                f"cannot forward to a {resource.kind}: it is not a Pod and has no ready_pods"
            )
        self.resource = resource
        if isinstance(remote_port, int):
            remote: tuple[int, ...] = (check_port(remote_port, "remote_port"),)
        else:
            remote = tuple(check_port(p, "remote_port") for p in remote_port)
            if not remote:
                raise ValueError("no remote port given")
        self.remote_ports = remote
        self._wanted = wanted_local_ports(remote, local_port)
        self.addresses: tuple[str, ...] = (address,) if isinstance(address, str) else tuple(address)
        if not self.addresses:
            raise ValueError("no address to listen on")
        self.ready_timeout = ready_timeout
        self.eof_linger = eof_linger
        self.connect_attempts = max(1, connect_attempts)
        self.pod: Pod | None = resource if isinstance(resource, Pod) else None
        self.errors: collections.deque[PortForwardError] = collections.deque(maxlen=_KEPT_ERRORS)
        self._local_ports: tuple[int, ...] | None = None
        self._listening: tuple[tuple[str, int], ...] = ()
        self._picking: _Pick | None = None
        self._running = False
        self._connections = 0
        self._stack: contextlib.AsyncExitStack | None = None
        self._scope: trio.CancelScope | None = None

    def __repr__(self) -> str:
        ports = ", ".join(map(str, self.remote_ports))
        return f"<PortForward {self.resource.kind}/{self.resource.name} ports {ports}>"

    # -- what was bound ---------------------------------------------------------------------

    @property
    def remote_port(self) -> int:
        """The (first) remote port."""
        return self.remote_ports[0]

    @property
    def address(self) -> str:
        """The (first) local address."""
        return self.addresses[0]

    @property
    def local_ports(self) -> tuple[int, ...]:
        """The local port of each remote port, once listening (known before for ``"match"``
        and numbers).

        Raises:
            RuntimeError: ``"auto"`` ports before the forward listens.
        """
        if self._local_ports is not None:
            return self._local_ports
        if 0 in self._wanted:
            raise RuntimeError("the local port is known once the forward listens")
        return self._wanted

    @property
    def local_port(self) -> int:
        """The (first) local port (see `local_ports`)."""
        return self.local_ports[0]

    @property
    def sockets(self) -> tuple[tuple[str, int], ...]:
        """Every ``(address, port)`` listened on, while listening."""
        return self._listening

    @property
    def active_connections(self) -> int:
        """How many forwarded connections are open now."""
        return self._connections

    # -- running ----------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Self] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and forward until cancelled; ``task_status.started(self)`` once listening.

        Raises:
            OSError: an address cannot be listened on (the port is in use, say).
            RuntimeError: the forward is already running.

        Cancellation:
            The way to stop it: the listeners close, every forwarded connection's WebSocket
            and TCP connection are closed, no task is left.
        """
        groups = await self._bind()
        await self._serve(groups, task_status)

    async def _bind(self) -> list[list[trio.SocketListener]]:
        if self._running:
            raise RuntimeError(f"{self!r} is already running")
        self._running = True
        groups: list[list[trio.SocketListener]] = []
        try:
            hosts = await resolve_addresses(self.addresses)
            for port in self._wanted:
                groups.append(await bind_group(hosts, port))
        except BaseException:
            for group in groups:
                close_all(group)
            self._running = False
            raise
        self._local_ports = tuple(int(g[0].socket.getsockname()[1]) for g in groups)
        self._listening = tuple(
            (str(lst.socket.getsockname()[0]), int(lst.socket.getsockname()[1]))
            for group in groups
            for lst in group
        )
        return groups

    async def _serve(
        self, groups: list[list[trio.SocketListener]], task_status: trio.TaskStatus[Self]
    ) -> None:
        """Serve the bound listeners until cancelled (then closes them)."""
        try:
            async with trio.open_nursery() as nursery:
                for index, group in enumerate(groups):
                    handler = functools.partial(self._handle, index=index)
                    nursery.start_soon(functools.partial(trio.serve_listeners, handler, group))
                task_status.started(self)
        finally:
            for group in groups:
                close_all(group)
            self._listening = ()
            self._running = False

    async def __aenter__(self) -> Self:
        """Listen (see `run`); yields the forward itself (kr8s yields the local port: here it
        is ``pf.local_port``).

        Raises:
            OSError: an address cannot be listened on (the port is in use, say).
            RuntimeError: the forward is already running.

        Cancellation:
            Nothing is left listening.
        """
        groups = await self._bind()
        stack = contextlib.AsyncExitStack()
        try:
            nursery = await stack.enter_async_context(trio.open_nursery())
            await nursery.start(self._serve, groups)
        except BaseException as exc:
            for group in groups:
                close_all(group)
            self._running = False
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._stack, self._scope = stack, nursery.cancel_scope
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Stop: close the listeners and every forwarded connection. An exception of the block
        comes out as it was raised (not in an exception group).

        Cancellation:
            Closing is not interrupted.
        """
        stack, scope = self._stack, self._scope
        self._stack = self._scope = None
        assert stack is not None
        assert scope is not None
        scope.cancel()
        try:
            return await stack.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:
            if exc is not None and len(group.exceptions) == 1 and group.exceptions[0] is exc:
                raise exc from exc.__cause__
            raise

    # -- one connection ---------------------------------------------------------------------

    async def _handle(self, tcp: trio.SocketStream, index: int) -> None:
        """Forward one accepted connection; failures are logged, never raised."""
        remote_port = self.remote_ports[index]
        self._connections += 1
        try:
            async with self._open_tunnel(tcp, remote_port) as tunnel:
                await bridge(tunnel, self.eof_linger)
                if tunnel.error is not None:
                    self._failed(
                        PortForwardError(tunnel.error, remote_port=remote_port, pod=tunnel.pod)
                    )
        except PortForwardError as exc:
            self._failed(exc)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the local client went away
        except Exception as exc:
            self._failed(PortForwardError(f"{type(exc).__name__}: {exc}", remote_port=remote_port))
        finally:
            self._connections -= 1

    def _failed(self, error: PortForwardError) -> None:
        self.errors.append(error)
        logger.warning(
            "port-forward to %s port %d failed: %s",
            error.pod or self.resource.name,
            error.remote_port,
            error.message,
        )

    async def _current_pod(self) -> Pod:
        """The pod to forward to: the Pod itself, or the sticky choice of a ready pod. One
        connection picks; the others arriving meanwhile share its outcome (so a bounded wait
        for a ready pod is waited once, not once per queued connection)."""
        while self.pod is None:
            pick = self._picking
            if pick is not None:
                await pick.done.wait()
                if pick.error is not None:
                    raise PortForwardError(pick.error.message, remote_port=pick.error.remote_port)
                continue  # picked (or the picker was cancelled: pick anew)
            pick = self._picking = _Pick()
            try:
                self.pod = await self._pick_ready_pod()
            except PortForwardError as exc:
                pick.error = exc
                raise
            finally:
                self._picking = None
                pick.done.set()
        return self.pod

    async def _pick_ready_pod(self) -> Pod:
        """A ready pod at random, waiting at most ``ready_timeout`` for one: with the object's
        ``wait_ready_pod`` (a watch) when it has one, else by polling ``ready_pods``."""
        resource = self.resource
        assert isinstance(resource, _HasReadyPods)
        wait = getattr(resource, "wait_ready_pod", None)
        try:
            if wait is not None:
                pod: Pod = await wait(self.ready_timeout)
                return pod
            delay = 0.05
            with trio.fail_after(self.ready_timeout):
                while True:
                    pods = await resource.ready_pods()
                    if pods:
                        return random.choice(pods)
                    await trio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        except TimeoutError:
            raise PortForwardError(
                f"no ready pod for {self.resource.kind} {self.resource.name} within "
                f"{self.ready_timeout} s",
                remote_port=self.remote_port,
            ) from None

    def _forget(self, pod: Pod) -> None:
        """Pick another ready pod next time (a Pod stays)."""
        if not self._fixed_pod and self.pod is pod:
            self.pod = None

    @contextlib.asynccontextmanager
    async def _open_tunnel(self, tcp: trio.SocketStream, remote_port: int) -> AsyncIterator[Tunnel]:
        """The WebSocket to the pod's port, retried with another ready pod when refused."""
        attempt = 0
        async with contextlib.AsyncExitStack() as stack:
            while True:
                pod = await self._current_pod()
                api = await pod._client()
                try:
                    ws = await stack.enter_async_context(
                        open_websocket(
                            api,
                            version="v1",
                            namespace=pod._namespace_for(api),
                            url=f"pods/{pod.name}/portforward",
                            params={"ports": str(remote_port)},
                            subprotocols=SUBPROTOCOLS,
                        )
                    )
                except Exception as exc:
                    self._forget(pod)
                    attempt += 1
                    if self._fixed_pod or attempt >= self.connect_attempts:
                        raise PortForwardError(
                            f"cannot open the port-forward WebSocket: {exc}",
                            remote_port=remote_port,
                            pod=f"{pod.namespace}/{pod.name}",
                        ) from exc
                    await trio.sleep(0.1 * attempt)
                    continue
                break
            tunnel = Tunnel(
                tcp=tcp,
                ws=ws,
                protocol=get_protocol(ws.subprotocol or ""),
                remote_port=remote_port,
                pod=f"{pod.namespace}/{pod.name}",
            )
            try:
                yield tunnel
            finally:
                if tunnel.error is not None:
                    self._forget(pod)
