"""Every error kr8s_trio raises, in one tree.

```
Kr8sError
├── ConfigError              bad or missing kubeconfig, unknown context, invalid field
├── SelectorError            a label or field selector does not parse (also a ValueError)
├── PatchError               a patch cannot be applied to a document (also a ValueError)
├── AuthError                exec plugin failed, token unreadable, refresh failed
├── TransportError           the network failed (the httpx error is the __cause__)
│   ├── APITimeoutError
│   └── ConnectionClosedError    a WebSocket (exec, attach, port-forward) closed: .code .reason
├── APIError                 the server answered with an error Status: .status .code .reason
│   ├── BadRequestError          400
│   ├── UnauthorizedError        401
│   ├── ForbiddenError           403
│   ├── NotFoundError            404
│   ├── MethodNotAllowedError    405
│   ├── NotAcceptableError       406
│   ├── ConflictError            409
│   │   └── AlreadyExistsError   409, reason AlreadyExists
│   ├── GoneError                410 (resourceVersion or continue token expired)
│   ├── UnsupportedMediaTypeError 415
│   ├── InvalidError             422
│   ├── TooManyRequestsError     429
│   └── ServerError              5xx
├── ProtocolError            malformed watch line or channel frame
│   ├── LocalProtocolError       we tried to send something illegal
│   └── RemoteProtocolError      the server sent something illegal
└── ExecError                a remote command exited non-zero (.exit_code, .status)
```

`APIError.from_status` is the one place a Kubernetes `Status` (a dict, as decoded from the wire)
becomes an exception; the fake API server builds its error answers the same way in reverse, so the
client and the server agree on what each status means.

`trio.Cancelled` is never caught or wrapped by kr8s_trio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "APIError",
    "APITimeoutError",
    "AlreadyExistsError",
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConnectionClosedError",
    "ExecError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "Kr8sError",
    "LocalProtocolError",
    "MethodNotAllowedError",
    "NotAcceptableError",
    "NotFoundError",
    "PatchError",
    "ProtocolError",
    "RemoteProtocolError",
    "SelectorError",
    "ServerError",
    "TooManyRequestsError",
    "TransportError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
]

#: A decoded JSON value, as far as the sans-IO layer cares.
JSONDict = dict[str, object]


class Kr8sError(Exception):
    """Base class of every error kr8s_trio raises."""


class ConfigError(Kr8sError):
    """The client configuration (kubeconfig, service account, arguments) is unusable."""


class SelectorError(Kr8sError, ValueError):
    """A label or field selector is malformed; the message says what and where."""


class PatchError(Kr8sError, ValueError):
    """A patch (JSON, merge, strategic or apply) cannot be applied to a document."""


class AuthError(Kr8sError):
    """Credentials could not be obtained or refreshed."""


class TransportError(Kr8sError):
    """The request did not get an HTTP answer (connection refused, reset, TLS failure...)."""


class APITimeoutError(TransportError):
    """The request or stream timed out."""


class ConnectionClosedError(TransportError):
    """A WebSocket (exec, attach, port-forward) is closed: by the peer, by us, or because the
    connection broke.

    Attributes:
        code: the close code (1000 normal; 1005 none given; 1006 the connection dropped).
        reason: the close reason the peer gave.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"websocket closed with code {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class APIError(Kr8sError):
    """The API server answered with an error `Status`.

    Attributes:
        status: the Status object as sent by the server (or synthesised from a non-JSON body).
        code: the HTTP status code.
        reason: the Status ``reason`` (``"NotFound"``, ``"AlreadyExists"``, ...), or ``""``.
        message: the Status ``message``.
    """

    #: HTTP status code this class stands for (0 for the base class).
    status_code: ClassVar[int] = 0

    def __init__(self, status: Mapping[str, object], *, retry_after: float | None = None) -> None:
        self.status: JSONDict = dict(status)
        code = status.get("code")
        self.code: int = code if isinstance(code, int) else self.status_code
        reason = status.get("reason")
        self.reason: str = reason if isinstance(reason, str) else ""
        message = status.get("message")
        self.message: str = message if isinstance(message, str) else ""
        self.retry_after = retry_after
        super().__init__(self.message or f"HTTP {self.code}")

    @property
    def details(self) -> JSONDict:
        """The Status ``details`` (name, group, kind, causes, retryAfterSeconds), or ``{}``."""
        details = self.status.get("details")
        return dict(details) if isinstance(details, dict) else {}

    @staticmethod
    def from_status(status: Mapping[str, object], *, retry_after: float | None = None) -> APIError:
        """Build the exception that matches a Status (by ``code``, then ``reason``)."""
        code = status.get("code")
        cls: type[APIError] = APIError
        if isinstance(code, int):
            cls = ServerError if code >= 500 else _BY_CODE.get(code, APIError)
            if cls is ConflictError and status.get("reason") == "AlreadyExists":
                cls = AlreadyExistsError
        return cls(status, retry_after=retry_after)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, reason={self.reason!r}, "
            f"message={self.message!r})"
        )


class BadRequestError(APIError):
    status_code = 400


class UnauthorizedError(APIError):
    status_code = 401


class ForbiddenError(APIError):
    status_code = 403


class NotFoundError(APIError):
    status_code = 404


class MethodNotAllowedError(APIError):
    status_code = 405


class NotAcceptableError(APIError):
    status_code = 406


class ConflictError(APIError):
    status_code = 409


class AlreadyExistsError(ConflictError):
    pass


class GoneError(APIError):
    status_code = 410


class UnsupportedMediaTypeError(APIError):
    status_code = 415


class InvalidError(APIError):
    status_code = 422


class TooManyRequestsError(APIError):
    status_code = 429


class ServerError(APIError):
    status_code = 500


_BY_CODE: dict[int, type[APIError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        NotAcceptableError,
        ConflictError,
        GoneError,
        UnsupportedMediaTypeError,
        InvalidError,
        TooManyRequestsError,
    )
}


class ProtocolError(Kr8sError):
    """A stream (watch lines, channel frames) broke its protocol."""


class LocalProtocolError(ProtocolError):
    """We tried to send something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The server sent something the protocol does not allow."""


class ExecError(Kr8sError):
    """A command run in a container exited with a non-zero code."""

    def __init__(self, message: str, *, exit_code: int, status: Mapping[str, object]) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status: JSONDict = dict(status)
