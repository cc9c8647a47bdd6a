"""Small HTTP vocabulary shared by the fake API server's handlers: requests, responses, media types.

Handlers are plain functions from a `Request` to a `Response` (or an async stream for watches and
logs); the ASGI layer in `_app` does the I/O. Keeping handlers free of ASGI details keeps them easy
to test and to read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import attrs

__all__ = [
    "JSON_TYPE",
    "MediaRange",
    "Request",
    "Response",
    "dumps",
    "json_response",
    "parse_accept",
]

JSON_TYPE = "application/json"


def dumps(obj: object) -> bytes:
    """Compact JSON, as kube-apiserver writes it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@attrs.frozen
class MediaRange:
    """One entry of an Accept header: ``application/json;as=Table;v=v1;g=meta.k8s.io``."""

    type: str
    params: Mapping[str, str]

    def matches_json(self) -> bool:
        return self.type in ("application/json", "application/*", "*/*")


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header, in the client's order (``q`` is ignored, as
    kube-apiserver effectively does for the types it serves)."""
    out: list[MediaRange] = []
    for clause in header.split(","):
        clause = clause.strip()
        if not clause:
            continue
        parts = [p.strip() for p in clause.split(";")]
        params: dict[str, str] = {}
        for p in parts[1:]:
            key, sep, value = p.partition("=")
            if sep:
                params[key.strip().lower()] = value.strip().strip('"')
        out.append(MediaRange(parts[0].lower(), params))
    return out


@attrs.define
class Request:
    """What a handler sees of an HTTP request."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes = b""
    _query: dict[str, list[str]] | None = None

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def accept(self) -> list[MediaRange]:
        return parse_accept(self.header("accept") or "*/*")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


@attrs.define
class Response:
    """A complete (non-streamed) HTTP answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = attrs.field(factory=list)

    def header_list(self) -> list[tuple[bytes, bytes]]:
        out = [(b"content-type", self.content_type.encode())] if self.content_type else []
        out += [(k.lower().encode(), v.encode()) for k, v in self.headers]
        out.append((b"content-length", str(len(self.body)).encode()))
        return out


def json_response(obj: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return Response(status=status, body=dumps(obj), headers=list(headers))
