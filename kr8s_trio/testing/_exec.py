"""exec and attach over WebSocket, answered the way a real cluster answers them.

On a real cluster two parties answer: kube-apiserver checks the request against the Pod (404
when it is missing; 400 when the container name is missing, unknown, or the pod has no node),
then either proxies the WebSocket to the kubelet, or, when the client offers
``v5.channel.k8s.io`` anywhere in its list, accepts it itself and translates to the kubelet
(the *stream translator*). The kubelet then checks the streams (400 ``you must specify at least
1 of stdin, stdout, stderr``), the pod (404 ``pod does not exist``) and that the container runs
(500 ``container not found ("c")``), and finally negotiates ``v4.channel.k8s.io``,
``channel.k8s.io`` (or their base64 variants) or no subprotocol (403 with an empty body for
anything else). The kubelet's
refusals are plain text; through the translator they arrive after the upgrade, as an
``InternalError`` Status on the status channel (``unable to upgrade connection: ...``). This
module keeps that split, so every client sees what it would see on a real cluster; the
messages of a failed command also differ between the two paths (the translator re-wraps them).

After the upgrade: an empty message on the lowest requested output channel ("connection
established"), then the session. exec runs a command handler (`kr8s_trio.testing._commands`)
with the client's stdin and terminal sizes, streams its output as frames (with a terminal,
stderr joins stdout), and ends with the exit status on channel 3 and a close (1000). attach
follows the container's log from its end and hands stdin to the container's attach handler, and
ends with Success when the container stops. A client that goes away cancels the session.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import trio

from kr8s_trio._core._channel_status import (
    exit_code_status,
    internal_error_status,
    success_status,
)
from kr8s_trio._core._channels import (
    BASE64_V1,
    BASE64_V4,
    V1,
    V4,
    V5,
    TerminalSize,
    choose_protocol,
    get_protocol,
)
from kr8s_trio.testing._commands import AttachContext, ExecContext, exit_status
from kr8s_trio.testing._containerenv import container_env
from kr8s_trio.testing._execsession import ChannelSession
from kr8s_trio.testing._fakefs import pod_files
from kr8s_trio.testing._runtime import LogBuffer
from kr8s_trio.testing._status import bad_request
from kr8s_trio.testing._store import copy_json
from kr8s_trio.testing._streams import Stdin

if TYPE_CHECKING:
    from kr8s_trio.testing._http import Request
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._runtime import ContainerRuntime, LogLine
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["refuse_without_websocket", "serve_attach", "serve_exec"]

JSONObject = dict[str, Any]

logger = logging.getLogger("kr8s_trio.testing.exec")

#: what the kubelet negotiates
KUBELET_PROTOCOLS = (V4, BASE64_V4, V1, BASE64_V1, "")


@attrs.frozen
class StreamRequest:
    """The query of an exec or attach request (``PodExecOptions``, ``PodAttachOptions``)."""

    command: tuple[str, ...]
    container: str
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> StreamRequest:
        def flag(name: str) -> bool:
            # apimachinery's Convert_Slice_string_To_bool: absent, "0" and "false" are false
            values = query.get(name) or []
            return bool(values) and values[0] != "0" and values[0].lower() != "false"

        containers = query.get("container") or [""]
        return cls(
            tuple(query.get("command") or ()),
            containers[0],
            flag("stdin"),
            flag("stdout"),
            flag("stderr"),
            flag("tty"),
        )


def _containers(pod: Mapping[str, Any]) -> list[JSONObject]:
    """Init, regular and ephemeral containers, in the order apiserver visits them."""
    spec = pod.get("spec") or {}
    return [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]


def resolve_container(pod: Mapping[str, Any], name: str) -> JSONObject:
    """The container a request targets (``validateContainer``).

    Raises:
        BadRequestError: no name with several containers, or a name the pod does not have.
    """
    pod_name = (pod.get("metadata") or {}).get("name", "")
    regular = (pod.get("spec") or {}).get("containers") or []
    if not name:
        if len(regular) == 1:
            return dict(regular[0])
        if not regular:
            raise bad_request(f"a container name must be specified for pod {pod_name}")
        names = " ".join(str(c.get("name", "")) for c in _containers(pod))
        raise bad_request(
            f"a container name must be specified for pod {pod_name}, choose one of: [{names}]"
        )
    for container in _containers(pod):
        if container.get("name") == name:
            return dict(container)
    raise bad_request(f"container {name} is not valid for pod {pod_name}")


@attrs.frozen
class _Refusal:
    code: int
    text: str


def _kubelet_refusal(
    state: ClusterState, pod: Mapping[str, Any], container: str, req: StreamRequest
) -> _Refusal | ContainerRuntime:
    """What the kubelet answers before upgrading: a refusal, or the running container."""
    if not (req.stdin or req.stdout or (req.stderr and not req.tty)):
        return _Refusal(400, "you must specify at least 1 of stdin, stdout, stderr")
    meta = pod.get("metadata") or {}
    running = state.runtime.pod(str(meta.get("namespace")), str(meta.get("name")))
    if running is None or running.uid != meta.get("uid"):
        return _Refusal(404, "pod does not exist")
    found = running.container(container)
    if found is None or not found.running:
        return _Refusal(500, f'container not found ("{container}")')
    return found


def _locate(
    state: ClusterState, namespace: str | None, name: str, req: StreamRequest
) -> tuple[JSONObject, JSONObject]:
    """kube-apiserver's checks (``streamLocation``): the pod, its container, its node.

    Raises:
        NotFoundError: no such pod.
        BadRequestError: the container is missing or unknown, or the pod has no node.
    """
    rt = state.registry.get("", "v1", "pods")
    assert rt is not None
    pod = copy_json(state.rest.get(rt, namespace, name).obj)
    container = resolve_container(pod, req.container)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {name} does not have a host assigned")
    return pod, container


def refuse_without_websocket(
    state: ClusterState, request: Request, namespace: str | None, name: str
) -> NoReturn:
    """exec or attach over plain HTTP (kubectl's SPDY fallback is a POST): the apiserver's
    checks answer first, as they would on a real cluster; then 400, since only WebSocket
    upgrades are served (``Upgrade request required`` without any upgrade, as the apiserver's
    proxy answers).

    Raises:
        APIError: always.
    """
    _locate(state, namespace, name, StreamRequest.from_query(request.query))
    if "spdy" in request.header("upgrade").lower():
        raise bad_request(
            "unable to upgrade connection: the fake cluster serves exec and attach over "
            "WebSocket (v5.channel.k8s.io, v4.channel.k8s.io), not SPDY/3.1"
        )
    raise bad_request("Upgrade request required")


async def _open(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> tuple[ChannelSession, JSONObject, JSONObject, ContainerRuntime, LogBuffer, int] | None:
    """Check and upgrade an exec or attach request; None when it was refused (answered).

    The last two items are the container instance's log and how many lines it had before the
    upgrade, both taken before any await: where attach starts following (a line written once
    the client has seen the upgrade must reach it, even when the client writes it before this
    task runs again; a restart during the handshake must not switch logs under the mark).
    """
    req = StreamRequest.from_query(request.query)
    pod, container = _locate(state, info.namespace, str(info.name), req)
    verdict = _kubelet_refusal(state, pod, str(container.get("name")), req)
    log = LogBuffer() if isinstance(verdict, _Refusal) else verdict.log  # (unused when refused)
    log_mark = len(log.lines)
    if V5 in ws.offered_subprotocols:
        session = ChannelSession(ws, get_protocol(V5), req)
        await ws.accept(V5)
        await session.send(session.marker_channel, b"")
        if isinstance(verdict, _Refusal):
            error = f"unable to upgrade connection: {verdict.text}"
            await session.finish(internal_error_status(error))
            return None
        return session, pod, container, verdict, log, log_mark
    if isinstance(verdict, _Refusal):
        await ws.reject_plain(verdict.code, verdict.text.encode())
        return None
    name = choose_protocol(ws.offered_subprotocols, KUBELET_PROTOCOLS)
    if name is None:
        await ws.reject_plain(403, b"")
        return None
    session = ChannelSession(ws, get_protocol(name), req)
    await ws.accept(name)
    await session.send(session.marker_channel, b"")
    return session, pod, container, verdict, log, log_mark


def _runtime_error(session: ChannelSession, error: str) -> JSONObject:
    """A failure of the container runtime, as the client receives it."""
    status = internal_error_status(f"error executing command in container: {error}")
    if session.translated:
        status = internal_error_status(str(status["message"]))
    return status


def _exit_status(session: ChannelSession, argv: tuple[str, ...], code: int) -> JSONObject:
    if code == 0:
        return success_status()
    if session.translated:
        inner = f"command terminated with exit code {code}"
    else:
        inner = f"error executing command [{' '.join(argv)}], exit code {code}"
    return exit_code_status(code, f"command terminated with non-zero exit code: {inner}")


def _not_found(state: ClusterState, argv: tuple[str, ...]) -> str:
    program = argv[0] if argv else ""
    if "/" in program:
        why = f'exec: "{program}": stat {program}: no such file or directory'
    else:
        why = f'exec: "{program}": executable file not found in $PATH'
    exec_id = f"{state.rng.getrandbits(256):064x}"
    return (
        f'failed to exec in container: failed to start exec "{exec_id}": OCI runtime exec '
        f"failed: exec failed: unable to start container process: {why}: unknown"
    )


def _channels(
    req_stdin: bool, tty: bool
) -> tuple[
    trio.MemorySendChannel[bytes] | None,
    Stdin,
    trio.MemorySendChannel[TerminalSize] | None,
    trio.MemoryReceiveChannel[TerminalSize],
]:
    stdin_send, stdin_receive = trio.open_memory_channel[bytes](math.inf)
    resize_send, resize_receive = trio.open_memory_channel[TerminalSize](math.inf)
    if not req_stdin:
        stdin_send.close()
    if not tty:
        resize_send.close()
    return (
        stdin_send if req_stdin else None,
        Stdin(stdin_receive) if req_stdin else Stdin(),
        resize_send if tty else None,
        resize_receive,
    )


async def serve_exec(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/exec`` on a WebSocket (see the module).

    Raises:
        APIError: the apiserver's refusals (404, 400), before the upgrade.

    Cancellation: the command is cancelled; the WebSocket is left to the caller.
    """
    opened = await _open(state, ws, request, info)
    if opened is None:
        return
    session, pod, container, *_ = opened
    req = session.req
    namespace, pod_name, name = str(info.namespace), str(info.name), str(container["name"])
    handler = state.commands.find(namespace, pod_name, name, req.command)
    if handler is None:
        await session.finish(_runtime_error(session, _not_found(state, req.command)))
        return
    stdin_send, stdin, resize_send, resizes = _channels(req.stdin, req.tty)
    fs = state.commands.filesystem(namespace, pod_name, name)
    fs.generated = pod_files(state, pod, container)
    ctx = ExecContext(
        argv=req.command,
        env=container_env(state, pod, container, tty=req.tty),
        stdin=stdin,
        stdout=session.sink(session.output_channel("stdout", req.tty)),
        stderr=session.sink(session.output_channel("stderr", req.tty)),
        resize=resizes,
        tty=req.tty,
        namespace=namespace,
        pod_name=pod_name,
        container=name,
        pod=pod,
        fs=fs,
        state=state,
        cwd=str(container.get("workingDir") or "/"),
        resolve=state.commands.resolver(namespace, pod_name, name),
    )

    async def main() -> Mapping[str, object]:
        try:
            code = exit_status(await handler(ctx))
        except Exception as exc:  # a handler's bug: the client sees it as a runtime failure
            logger.exception("exec handler for %s failed", list(req.command))
            return _runtime_error(session, f"{type(exc).__name__}: {exc}")
        return _exit_status(session, req.command, code)

    await session.run(main, stdin_send, resize_send)


async def serve_attach(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/attach`` on a WebSocket (see the module).

    Raises:
        APIError: the apiserver's refusals (404, 400), before the upgrade.

    Cancellation: the session ends; the WebSocket is left to the caller.
    """
    opened = await _open(state, ws, request, info)
    if opened is None:
        return
    session, _, container, running, log, seen = opened
    req = session.req
    namespace, pod_name, name = str(info.namespace), str(info.name), str(container["name"])
    # the terminal is the container's (tty: true in its spec), not the request's
    tty = running.tty
    stdin_send, stdin, resize_send, resizes = _channels(req.stdin and running.stdin, tty)
    ctx = AttachContext(
        stdin=stdin,
        resize=resizes,
        tty=tty,
        log=log,
        namespace=namespace,
        pod_name=pod_name,
        container=name,
        state=state,
    )
    handler = state.commands.find_attach(namespace, pod_name, name)

    async def send_line(line: LogLine) -> None:
        channel = session.output_channel(line.stream, tty)
        if channel is not None:
            await session.sink(channel).send_all((line.text + "\n").encode("utf-8"))

    async def main() -> Mapping[str, object]:
        nonlocal seen
        failure: list[str] = []

        async def process() -> None:
            try:
                await handler(ctx)
            except Exception as exc:  # a handler's bug: the client sees it as a failure
                logger.exception("attach handler of %s/%s failed", namespace, pod_name)
                failure.append(f"{type(exc).__name__}: {exc}")
                nursery.cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(process)
            with contextlib.suppress(trio.BrokenResourceError):  # the client went away
                while True:
                    await log.wait_beyond(seen)
                    seen = min(seen, len(log.lines))
                    for line in log.lines[seen:]:
                        await send_line(line)
                        seen += 1
                    if log.closed and seen >= len(log.lines):
                        break
            nursery.cancel_scope.cancel()
        if failure:
            return _runtime_error(session, failure[0])
        return success_status()

    await session.run(main, stdin_send, resize_send)
