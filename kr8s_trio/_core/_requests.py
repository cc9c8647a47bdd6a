"""Building requests, sans IO: the paths `Api.call_api` sends to, and the Status of an error
answer that has none.

URLs are built as kr8s builds them (`api_path`)::

    version   base      namespace  url            path
    "v1"      ""        None, ""   "pods"         /api/v1/pods
    "v1"      ""        "ns"       "pods/x/log"   /api/v1/namespaces/ns/pods/x/log
    "apps/v1" ""        "ns"       "deployments"  /apis/apps/v1/namespaces/ns/deployments
    ""        "/version"           ""             /version
    ""        "/apis"              "apps/v1"      /apis/apps/v1
    "foo"     ""                                  ValueError (base needed)

`ALL` as the namespace means every namespace (no ``namespaces/<ns>`` segment).
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ALL", "api_path", "error_status", "redact_url", "url_repr"]


class _AllNamespaces(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return "ALL"


#: pass as ``namespace=`` to mean every namespace (compared by identity: the string ``"all"`` is
#: a namespace name like any other)
ALL: Final[str] = _AllNamespaces("all")

#: reasons for error answers without a Status body
_REASONS: Final = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def api_path(
    version: str = "v1", base: str = "", namespace: str | None = None, url: str = ""
) -> str:
    """The request path for `Api.call_api`'s arguments (see the module docstring).

    Raises:
        ValueError: ``version`` is neither ``v1`` nor ``group/version`` and no ``base`` is given.
    """
    if not base:
        if version == "v1":
            base = "/api"
        elif "/" in version:
            base = "/apis"
        else:
            raise ValueError(f"Unknown API version {version!r}, base must be specified.")
    path = base.rstrip("/")
    if version:
        path += "/" + version
    if namespace and namespace is not ALL:
        path += "/namespaces/" + namespace
    if url:
        path += "/" + url.lstrip("/")
    return path


def error_status(code: int, reason_phrase: str, body: bytes) -> dict[str, object]:
    """The Status of an error answer: its body, or one made up from a non-Status body."""
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status":
        decoded.setdefault("code", code)
        return decoded
    message = body.decode("utf-8", "replace").strip() or reason_phrase
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "InternalError" if code >= 500 else ""),
        "code": code,
    }


def redact_url(url: str) -> str:
    """``url`` with the password of its user info masked (``https://user:***@host``), for reprs,
    logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def url_repr(url: str | None) -> str:
    """The repr of an optional URL, its password masked (an attrs field's ``repr=``)."""
    return repr(url if url is None else redact_url(url))
