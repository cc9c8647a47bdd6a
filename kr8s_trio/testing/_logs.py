"""``GET pods/{name}/log``: container logs from the simulated kubelets, followed or not.

The request is checked the way kube-apiserver checks it (``PodLogOptions`` validation, 422; the
container name, 400 when it is missing for a pod with several containers or names none of
them), then answered the way the kubelet answers it: from the container's current instance,
from the previous one with ``previous=true`` (or while the container waits to restart), or 400
when the container has not started yet. ``sinceSeconds``/``sinceTime``, ``tailLines``,
``timestamps`` (RFC 3339 with nine fractional digits), ``limitBytes`` and ``stream`` (Stdout,
Stderr, All) shape the text. With ``follow=true`` the answer is a chunked ``text/plain`` stream
that sends lines as they are written and ends when the container instance stops (its log closes)
or the client goes away.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import attrs

from kr8s_trio.testing._exec import resolve_container
from kr8s_trio.testing._handlers import StreamingResponse
from kr8s_trio.testing._http import Request, Response
from kr8s_trio.testing._status import GroupResource, bad_request, not_found, status_error

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._runtime import LogBuffer, LogLine
    from kr8s_trio.testing._state import ClusterState

__all__ = ["LogOptions", "pod_log"]

JSONObject = dict[str, Any]

TEXT = "text/plain"
_NODES = GroupResource("", "nodes")


@attrs.frozen
class LogOptions:
    """The query of a log request, parsed (``PodLogOptions``)."""

    container: str = ""
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: datetime.datetime | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None
    stream: str = "All"


def _flag(request: Request, name: str) -> bool:
    value = request.param(name)
    if value is None:
        return False
    if value in ("true", "True", "TRUE", "1", "t", "T"):
        return True
    if value in ("false", "False", "FALSE", "0", "f", "F", ""):
        return False
    raise bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _int(request: Request, name: str) -> int | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def parse_options(request: Request, pod_name: str) -> LogOptions:
    """The log options of a request, validated as ``ValidatePodLogOptions`` does.

    Raises:
        APIError: 400 for values that do not parse, 422 for invalid combinations.
    """
    since_time = None
    raw_time = request.param("sinceTime")
    if raw_time:
        try:
            since_time = datetime.datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(
                f'parsing time "{raw_time}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                f'"{raw_time}" as "2006"'
            ) from None
        if since_time.tzinfo is None:
            since_time = since_time.replace(tzinfo=datetime.UTC)
    options = LogOptions(
        container=request.param("container") or "",
        follow=_flag(request, "follow"),
        previous=_flag(request, "previous"),
        timestamps=_flag(request, "timestamps"),
        since_seconds=_int(request, "sinceSeconds"),
        since_time=since_time,
        tail_lines=_int(request, "tailLines"),
        limit_bytes=_int(request, "limitBytes"),
        stream=request.param("stream") or "All",
    )
    errors: list[tuple[str, str, str]] = []  # (reason, field, message body)
    if options.tail_lines is not None and options.tail_lines < 0:
        errors.append(
            (
                "FieldValueInvalid",
                "tailLines",
                f"Invalid value: {options.tail_lines}: must be greater than or equal to 0",
            )
        )
    if options.limit_bytes is not None and options.limit_bytes < 1:
        errors.append(
            (
                "FieldValueInvalid",
                "limitBytes",
                f"Invalid value: {options.limit_bytes}: must be greater than 0",
            )
        )
    if options.since_seconds is not None and options.since_time is not None:
        errors.append(
            (
                "FieldValueForbidden",
                "",
                "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            )
        )
    elif options.since_seconds is not None and options.since_seconds < 1:
        errors.append(
            (
                "FieldValueInvalid",
                "sinceSeconds",
                f"Invalid value: {options.since_seconds}: must be greater than 0",
            )
        )
    if options.stream not in ("All", "Stdout", "Stderr"):
        errors.append(
            (
                "FieldValueNotSupported",
                "stream",
                f'Unsupported value: "{options.stream}": supported values: "All", "Stderr", '
                '"Stdout"',
            )
        )
    elif options.stream != "All" and options.tail_lines is not None:
        errors.append(
            (
                "FieldValueForbidden",
                "",
                "Forbidden: `tailLines` and specific `stream` are mutually exclusive for now",
            )
        )
    if errors:
        rendered = [f"{field}: {body}" for _, field, body in errors]
        shown = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
        causes = []
        for reason, field, body in errors:
            cause = {"reason": reason, "message": body}
            if field:
                cause["field"] = field
            causes.append(cause)
        raise status_error(
            422,
            "Invalid",
            f'PodLogOptions "{pod_name}" is invalid: {shown}',
            {"name": pod_name, "kind": "PodLogOptions", "causes": causes},
        )
    return options


def _format(line: LogLine, timestamps: bool) -> bytes:
    text = line.text + "\n"
    if timestamps:
        t = line.time.astimezone(datetime.UTC)
        text = f"{t.strftime('%Y-%m-%dT%H:%M:%S')}.{t.microsecond * 1000:09d}Z {text}"
    return text.encode()


def pod_log(
    state: ClusterState, request: Request, rt: ResourceType, namespace: str | None, name: str
) -> Response | StreamingResponse:
    """Serve ``GET pods/{name}/log``.

    Raises:
        APIError: as kube-apiserver and the kubelet answer (see the module docstring).
    """
    options = parse_options(request, name)
    pod = state.rest.get(rt, namespace, name).obj
    container = str(resolve_container(pod, options.container).get("name"))
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        return Response(200, b"", TEXT)  # not scheduled: nothing to ask a kubelet for
    nodes_rt = state.registry.get("", "v1", "nodes")
    if nodes_rt is None or state.rest.find(nodes_rt, None, node) is None:
        raise not_found(_NODES, node)
    pr = state.runtime.pod(namespace or "default", name)
    c = pr.container(container) if pr is not None else None
    if pr is None or pr.uid != pod["metadata"].get("uid") or c is None:
        raise status_error(
            404,
            "NotFound",
            f"the server could not find the requested resource ( pods/log {name})",
            {"name": name, "kind": "pods/log"},
        )
    buffer: LogBuffer | None
    if options.previous:
        buffer = c.previous_log if c.last_termination is not None else None
        if buffer is None:
            raise bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
    elif c.state in ("running", "terminated"):
        buffer = c.log
    elif c.last_termination is not None and c.previous_log is not None:
        buffer = c.previous_log  # waiting to restart: the last instance's log
    else:
        raise bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: {c.reason}'
        )
    lines = _select(buffer.lines, options, state.now())
    if not options.follow or buffer.closed:
        body = b"".join(_format(line, options.timestamps) for line in lines)
        if options.limit_bytes is not None:
            body = body[: options.limit_bytes]
        return Response(200, body, TEXT)
    start = len(buffer.lines)
    return StreamingResponse(_follow(buffer, lines, start, options), content_type=TEXT)


def _wanted(line: LogLine, options: LogOptions) -> bool:
    return options.stream == "All" or line.stream == options.stream.lower()


def _select(lines: list[LogLine], options: LogOptions, now: datetime.datetime) -> list[LogLine]:
    since = options.since_time
    if options.since_seconds is not None:
        since = now - datetime.timedelta(seconds=options.since_seconds)
    chosen = [
        line for line in lines if _wanted(line, options) and (since is None or line.time >= since)
    ]
    if options.tail_lines is not None:
        chosen = chosen[len(chosen) - options.tail_lines :] if options.tail_lines else []
    return chosen


async def _follow(
    buffer: LogBuffer, first: list[LogLine], seen: int, options: LogOptions
) -> AsyncIterator[bytes]:
    """The lines chosen so far, then each new line, until the log closes or the byte limit."""
    left = options.limit_bytes
    pending = list(first)
    while True:
        for line in pending:
            chunk = _format(line, options.timestamps)
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            yield chunk
            if left == 0:
                return
        if buffer.closed and seen >= len(buffer.lines):
            return
        await buffer.wait_beyond(seen)
        pending = [line for line in buffer.lines[seen:] if _wanted(line, options)]
        seen = len(buffer.lines)
