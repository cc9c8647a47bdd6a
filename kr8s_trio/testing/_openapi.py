"""OpenAPI v3 documents of the fake API server: enough for ``kubectl apply`` and ``explain``.

kubectl reads ``/openapi/v3`` for three things: whether a PATCH operation of a kind carries a
``fieldValidation`` parameter (then it leaves validation to the server), the
``x-kubernetes-patch-*`` extensions of a kind's schema (to compute a client-side-apply strategic
merge patch), and the schemas themselves (``explain``). This module serves one document per
served group-version of the `ResourceRegistry` (built by
`kr8s_trio.testing._openapi_document`). Documents are cached per registry generation and served
with kube-openapi's hash protocol (``?hash=`` URLs, 301 for a stale hash, immutable caching for a
current one).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import attrs

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._http import Request, Response, dumps
from kr8s_trio.testing._openapi_document import DocumentBuilder, SchemaSource, gv_path
from kr8s_trio.testing._resources import ResourceRegistry
from kr8s_trio.testing._status import path_not_found

__all__ = ["OpenAPI"]

JSONObject = dict[str, Any]


@attrs.frozen
class _Served:
    body: bytes
    hash: str  # sha512, upper-case hex, unquoted


def _served(doc: JSONObject) -> _Served:
    body = dumps(doc)
    return _Served(body, hashlib.sha512(body).hexdigest().upper())


class OpenAPI:
    """Serves ``/openapi/v3`` (index and per group-version documents) and a 404 ``/openapi/v2``.

    Args:
        registry: the served resource types.
        schemas: gives a custom resource version's ``openAPIV3Schema`` (None when it has none);
            built-in kinds use the hand-written catalog (`_openapi_catalog`).
    """

    def __init__(self, registry: ResourceRegistry, schemas: SchemaSource | None = None) -> None:
        self._registry = registry
        self._schemas = schemas
        self._generation = -1
        self._docs: dict[str, _Served] = {}
        self._index = _Served(b"", "")

    def invalidate(self) -> None:
        """Rebuild the documents on next use (a CRD's schema changed, its served set did not)."""
        self._generation = -1

    def document(self, path: str) -> JSONObject | None:
        """The OpenAPI document of a group-version (``api/v1``, ``apis/apps/v1``), if served."""
        group, version = _parse_gv_path(path)
        if version is None or not self._registry.in_group_version(group, version):
            return None
        builder = DocumentBuilder(group, version, self._schemas)
        for rt in self._registry.in_group_version(group, version):
            builder.add(rt)
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "unversioned"},
            "paths": builder.paths,
            "components": {
                "schemas": dict(sorted(builder.schemas.items())),
                "securitySchemes": {
                    "BearerToken": {
                        "type": "apiKey",
                        "description": "Bearer Token authentication",
                        "name": "authorization",
                        "in": "header",
                    }
                },
            },
            "security": [{"BearerToken": []}],
        }

    def handle(self, request: Request) -> Response | None:
        """Answer ``GET /openapi/v3[/<gv>]`` and ``GET /openapi/v2``; None for other requests."""
        if request.method != "GET":
            return None
        path = request.path.rstrip("/")
        if path == "/openapi/v2" or path.startswith("/openapi/v2/"):
            return _error(path_not_found())
        if path != "/openapi/v3" and not path.startswith("/openapi/v3/"):
            return None
        self._refresh()
        if path == "/openapi/v3":
            return _serve(request, self._index, [])
        gv = path.removeprefix("/openapi/v3/")
        served = self._docs.get(gv)
        if served is None:
            return _error(path_not_found())
        headers = [("Vary", "Accept")]
        if not any(c.matches_json() for c in request.accept):
            return Response(status=406, body=b"", content_type="", headers=headers)
        wanted = request.param("hash")
        if wanted and wanted != served.hash:
            location = f"/openapi/v3/{gv}?hash={served.hash}"
            body = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            headers += [("ETag", f'"{served.hash}"'), ("Location", location)]
            return Response(301, body, "text/html; charset=utf-8", headers)
        if wanted:
            expires = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
            headers += [("Cache-Control", "public, immutable"), ("Expires", expires)]
        return _serve(request, served, headers)

    def _refresh(self) -> None:
        if self._registry.generation == self._generation:
            return
        docs: dict[str, _Served] = {}
        for group, versions in self._registry.group_versions().items():
            for version in versions:
                key = gv_path(group, version)
                doc = self.document(key)
                if doc is not None:
                    docs[key] = _served(doc)
        index = {
            "paths": {
                key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={docs[key].hash}"}
                for key in sorted(docs)
            }
        }
        self._docs, self._index = docs, _served(index)
        self._generation = self._registry.generation


def _parse_gv_path(path: str) -> tuple[str, str | None]:
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis" and parts[1]:
        return parts[1], parts[2]
    return "", None


def _serve(request: Request, served: _Served, headers: list[tuple[str, str]]) -> Response:
    """200 with the document and its ETag, or 304 when the client has it (If-None-Match)."""
    etag = f'"{served.hash}"'
    headers = [*headers, ("ETag", etag)]
    if request.header("if-none-match") == etag:
        return Response(status=304, body=b"", content_type="", headers=headers)
    return Response(body=served.body, headers=headers)


def _error(exc: APIError) -> Response:
    return Response(status=exc.code, body=dumps(exc.status))
