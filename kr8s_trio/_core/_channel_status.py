"""What exec and attach report on the status channel (3): build it, encode it, read it.

When a command ends, the server writes one message on channel 3. With ``v4.channel.k8s.io`` and
``v5.channel.k8s.io`` it is a JSON ``metav1.Status``: ``{"metadata":{},"status":"Success"}``, or a
``Failure`` with reason ``NonZeroExitCode`` and the exit code as the message of an ``ExitCode``
cause, or any other failure (``InternalError`` when the container or the command could not be
started). The older ``channel.k8s.io`` protocols carry only a failure's message, as text, and
nothing on success.

Status payloads are encoded the way Go's ``encoding/json`` writes ``metav1.Status`` (field order,
no ``kind``/``apiVersion``, ``<``, ``>`` and ``&`` escaped), so byte comparisons with recordings
of a real cluster hold. `parse_status` follows client-go's error decoders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import attrs

from ._channels import ChannelProtocol
from ._exceptions import APIError, ExecError, Kr8sError, RemoteProtocolError

__all__ = [
    "EXIT_CODE_CAUSE",
    "NON_ZERO_EXIT_CODE",
    "ExecStatus",
    "encode_status",
    "exit_code_status",
    "go_html_escape",
    "go_json",
    "internal_error_status",
    "parse_status",
    "success_status",
]

#: ``Status`` reason and cause type of a non-zero exit
NON_ZERO_EXIT_CODE = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"

JSONDict = dict[str, object]


def success_status() -> JSONDict:
    """The status of a command that exited 0."""
    return {"metadata": {}, "status": "Success"}


def exit_code_status(exit_code: int, message: str) -> JSONDict:
    """The status of a command that exited non-zero: ``message`` is the whole message
    (``command terminated with non-zero exit code: ...``)."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": NON_ZERO_EXIT_CODE,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(exit_code)}]},
    }


def internal_error_status(error: str) -> JSONDict:
    """``apierrors.NewInternalError`` of an error whose text is ``error``."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {error}",
        "reason": "InternalError",
        "details": {"causes": [{"message": error}]},
        "code": 500,
    }


#: what Go's ``json.Marshal`` escapes in strings beyond JSON's own escapes (``HTMLEscape``)
_GO_HTML_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def go_html_escape(text: str) -> str:
    """JSON text with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, as Go's ``json.Marshal``
    writes them (none of them can appear outside strings, so the whole text is safe to map)."""
    return text.translate(_GO_HTML_ESCAPES)


def go_json(value: object) -> bytes:
    """Compact JSON as Go's ``json.Marshal`` writes it (HTML characters escaped)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return go_html_escape(text).encode("utf-8")


def encode_status(protocol: ChannelProtocol, status: Mapping[str, object]) -> bytes | None:
    """The status channel payload for ``status``; None when the protocol sends nothing (v1
    protocols on success)."""
    if protocol.json_status:
        return go_json(dict(status))
    if status.get("status") == "Success":
        return None
    return str(status.get("message") or "").encode("utf-8")


@attrs.frozen
class ExecStatus:
    """How a remote command ended, read from the status channel.

    Attributes:
        exit_code: 0 on success, the exit code of a non-zero exit, None when the command did
            not run to an exit (the container was not found, the runtime failed...).
        message: the status message (``""`` on success).
        reason: the status reason (``"NonZeroExitCode"``, ``"InternalError"``...).
        status: the ``Status`` as received (synthesised from the text of v1 protocols).
    """

    exit_code: int | None
    message: str = ""
    reason: str = ""
    status: JSONDict = attrs.field(factory=success_status)

    @property
    def success(self) -> bool:
        return self.exit_code == 0

    def error(self) -> Kr8sError | None:
        """None on success; `ExecError` for a non-zero exit; the `APIError` of the status when
        the command could not run."""
        if self.exit_code == 0:
            return None
        if self.exit_code is not None:
            return ExecError(self.message, exit_code=self.exit_code, status=self.status)
        return APIError.from_status(self.status)


_DIGITS = re.compile(r"[0-9]{1,9}")
_V1_EXIT = re.compile(r"^command terminated with non-zero exit code: .*\bexit code (\d+)$", re.S)


def _parse_text_status(payload: bytes) -> ExecStatus:
    if not payload:
        return ExecStatus(0)
    message = payload.decode("utf-8", "replace")
    match = _V1_EXIT.match(message)
    if match:
        code = int(match.group(1))
        return ExecStatus(code, message, NON_ZERO_EXIT_CODE, exit_code_status(code, message))
    status: JSONDict = {"metadata": {}, "status": "Failure", "message": message}
    return ExecStatus(None, message, "", status)


def parse_status(protocol: ChannelProtocol, payload: bytes) -> ExecStatus:
    """Read what the status channel carried (everything it carried, joined).

    v4 and v5 carry a JSON ``Status``; the exit code of a ``NonZeroExitCode`` failure is in its
    ``ExitCode`` cause. v1 protocols carry nothing on success and a message on failure; the exit
    code is recovered from the kubelet's ``command terminated with non-zero exit code: ... exit
    code N`` message, and is None for any other failure.

    Raises:
        RemoteProtocolError: the payload does not follow the protocol.
    """
    if not protocol.json_status:
        return _parse_text_status(payload)
    try:
        status = json.loads(payload)
    except ValueError as exc:
        raise RemoteProtocolError(f"error stream protocol error: {payload[:200]!r}") from exc
    if not isinstance(status, dict):
        raise RemoteProtocolError(f"error stream protocol error: {payload[:200]!r}")
    outcome = status.get("status")
    raw_message, raw_reason = status.get("message"), status.get("reason")
    message = raw_message if isinstance(raw_message, str) else ""
    reason = raw_reason if isinstance(raw_reason, str) else ""
    if outcome == "Success":
        return ExecStatus(0, message, reason, status)
    if outcome != "Failure":
        raise RemoteProtocolError("error stream protocol error: unknown error")
    if reason != NON_ZERO_EXIT_CODE:
        return ExecStatus(None, message, reason, status)
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    if not isinstance(causes, list):
        raise RemoteProtocolError("error stream protocol error: details must be set")
    for cause in causes:
        if isinstance(cause, dict) and cause.get("reason") == EXIT_CODE_CAUSE:
            text = cause.get("message")
            if not isinstance(text, str) or not _DIGITS.fullmatch(text) or int(text) > 255:
                raise RemoteProtocolError(
                    f"error stream protocol error: invalid exit code value {text!r}"
                )
            return ExecStatus(int(text), message, reason, status)
    raise RemoteProtocolError(f"error stream protocol error: no {EXIT_CODE_CAUSE} cause given")
