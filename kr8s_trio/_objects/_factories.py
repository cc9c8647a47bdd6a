"""Objects from what users have at hand: a manifest dict (`object_from_spec`), ``"pod/web"``
(`object_from_name_type`), files and directories of manifests (`objects_from_files`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kr8s_trio._files import load_manifests
from kr8s_trio._objects._classes import get_class, new_class
from kr8s_trio._objects._resolve import resolve_kind
from kr8s_trio._registry import api as _default_api

if TYPE_CHECKING:
    from kr8s_trio._api import Api
    from kr8s_trio._objects._base import APIObject

__all__ = ["object_from_name_type", "object_from_spec", "objects_from_files"]


def object_from_spec(
    spec: Mapping[str, Any], api: Api | None = None, allow_unknown_type: bool = False
) -> APIObject:
    """The object for a manifest: the class for its ``kind`` and ``apiVersion`` (user classes
    first), wrapping ``spec`` itself (not a copy).

    With ``allow_unknown_type``, a kind no class knows gets a class from `new_class` whose
    plural and scope come from discovery on first use, so cluster-scoped custom resources work
    (kr8s assumes every unknown kind is namespaced).

    Raises:
        KeyError: no class for the kind and not ``allow_unknown_type``.
        ValueError: ``spec`` has no ``kind`` or ``apiVersion``.
    """
    kind, version = spec.get("kind"), spec.get("apiVersion")
    if not isinstance(kind, str) or not kind or not isinstance(version, str) or not version:
        raise ValueError("a manifest needs string 'kind' and 'apiVersion' fields")
    try:
        cls = get_class(kind, version)
    except KeyError:
        if not allow_unknown_type:
            raise
        cls = new_class(kind, version=version)
    return cls(spec if isinstance(spec, dict) else dict(spec), api=api)


async def object_from_name_type(
    name: str, namespace: str | None = None, api: Api | None = None
) -> APIObject:
    """Fetch the object kubectl would for ``"pod/web"``, ``"deploy.apps/web"``,
    ``"deployment.v1.apps/web"``.

    Raises:
        ValueError: ``name`` is not ``<kind>/<name>``.
        KeyError: the kind is unknown; NotFoundError: the object does not exist.

    Cancellation:
        Safe.
    """
    kind, sep, object_name = name.rpartition("/")
    if not sep or not kind or not object_name:
        raise ValueError(f"expected '<kind>/<name>' (e.g. 'pod/web'), got {name!r}")
    if api is None:
        api = await _default_api()
    cls = await resolve_kind(kind, api)
    return await cls.get(object_name, namespace=namespace, api=api)


async def objects_from_files(
    path: str | os.PathLike[str], api: Api | None = None, recursive: bool = False
) -> list[APIObject]:
    """The objects in a manifest file (YAML, several documents, JSON, ``kind: List``), or in
    the ``.yaml``, ``.yml`` and ``.json`` files of a directory (and its subdirectories with
    ``recursive``); kr8s reads only ``*.yaml``. Unknown kinds get classes (`new_class`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ManifestError (a ConfigError): a file does not parse or a document is not an object;
            the error names the file and document, never its contents.

    Cancellation:
        Safe; nothing is written.
    """
    manifests = await load_manifests(path, recursive=recursive)
    return [object_from_spec(spec, api=api, allow_unknown_type=True) for spec in manifests]
