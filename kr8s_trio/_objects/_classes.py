"""The class registry: `get_class` finds the class for a kind, `new_class` makes one.

Every subclass of `APIObject` that names a ``kind`` registers itself when it is defined, so user
subclasses are found like built-in ones; the most recently defined match wins, so a user's class
for ``Pod`` replaces ours everywhere objects are made (``get``, ``watch``, `object_from_spec`).

Spellings accepted everywhere a kind is named, as kubectl accepts them: the Kind, singular,
plural or short name, case-insensitive, optionally qualified by group and version:
``deploy``, ``deployments.apps``, ``deployment.v1.apps``, ``deployment.apps/v1``, and
``version="apps/v1"`` as a separate argument.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kr8s_trio._discovery import parse_kind

if TYPE_CHECKING:
    from kr8s_trio._objects._base import APIObject
    from kr8s_trio._objects._data import ObjectData

__all__ = ["get_class", "guess_plural", "new_class", "register"]

_REGISTRY: list[type[ObjectData]] = []
#: how many of the registry's first classes are our built-in kinds
_builtins = 0
_builtins_loaded = False


def _load_builtin_kinds() -> None:
    """Define the built-in kinds (once), however kinds are first looked up: ``kr8s_trio.get``
    must find `Pod` even when nobody imported ``kr8s_trio.objects``."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        importlib.import_module("kr8s_trio.objects")


def register(cls: type[ObjectData]) -> None:
    """Called by ``ObjectData.__init_subclass__`` for every class that names a kind. Our
    built-in kinds go before every other class, whenever they are loaded, so that a user's class
    defined earlier still wins."""
    global _builtins
    if cls.__module__.startswith("kr8s_trio._objects.") and cls.builtin:
        _REGISTRY.insert(_builtins, cls)
        _builtins += 1
    else:
        _REGISTRY.append(cls)


def _names(cls: type[ObjectData]) -> set[str]:
    return {
        cls.kind.lower(),
        cls.plural.lower(),
        cls.singular.lower(),
        *(n.lower() for n in cls.short_names),
    }


def get_class(kind: str, version: str | None = None, **_ignored: Any) -> type[APIObject]:
    """The class for a kind: the most recently defined match (user subclasses win; for a name
    without a group, classes defined in code win over those `new_class` made).

    Args:
        kind: any spelling (see the module docstring).
        version: ``"v1"`` or ``"group/version"``; narrows the match when given.

    Raises:
        KeyError: no class is defined for that kind (`new_class` makes one).
    """
    _load_builtin_kinds()
    name, group, kind_version = parse_kind(kind)
    if version:
        v_group, _, v_version = version.rpartition("/")
        group = v_group.lower() if "/" in version else (group or "")
        kind_version = v_version
    # A name without a group means the kind kubectl would pick: classes defined in code
    # (built-in and user subclasses) before classes `new_class` made, so that a class made for
    # events.k8s.io's Event does not take "events" from the core group's.
    passes = (False, True) if group is None else (True,)
    for include_made in passes:
        for cls in reversed(_REGISTRY):
            if cls.__dict__.get("made_by_new_class", False) and not include_made:
                continue
            cls_group, _, cls_version = cls.version.rpartition("/")
            if group is not None and group != cls_group:
                continue
            if kind_version is not None and kind_version != cls_version:
                continue
            if name in _names(cls):
                return cls  # type: ignore[return-value]
    raise KeyError(f"no class for kind {kind!r}" + (f" version {version!r}" if version else ""))


def guess_plural(kind: str) -> str:
    """The plural Kubernetes' code generators give a Kind: lowercased, ``-s``, ``-es`` after
    s/x/z/ch/sh, ``-ies`` after a consonant and y (``Policy`` -> ``policies``, ``Ingress`` ->
    ``ingresses``); kr8s appends ``s`` (``policys``). Discovery, when it knows the kind, wins."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def new_class(
    kind: str,
    version: str | None = None,
    asyncio: bool = True,
    namespaced: bool | None = None,
    scalable: bool | None = None,
    scalable_spec: str | None = None,
    plural: str | None = None,
) -> type[APIObject]:
    """Make (and register) an `APIObject` subclass for a kind, e.g. a custom resource.

    Args:
        kind: the Kind (``"MyResource"``), optionally with its group and version
            (``"MyResource.example.com/v1"``; the first ``.`` splits them).
        version: ``"group/version"`` (default ``"v1"``) when ``kind`` does not say.
        asyncio: accepted for kr8s compatibility; our classes are always async (the sync facade
            is generated from them).
        namespaced: whether objects live in namespaces. None: as discovery says when the class
            is first used with a client (assumed namespaced until then).
        scalable, scalable_spec: whether `scale` works, and the ``spec`` field it sets.
        plural: the URL segment. None: as discovery says when first used, else `guess_plural`.

    Returns:
        The new class. Defining it registers it, so `get_class` finds it afterwards.
    """
    from kr8s_trio._objects._base import APIObject  # (the base class imports this module)

    del asyncio
    if "." in kind:
        kind, _, rest = kind.partition(".")
        version = version or rest
    attrs: dict[str, Any] = {
        "kind": kind,
        "version": version or "v1",
        "plural": plural or guess_plural(kind),
        "singular": kind.lower(),
        "namespaced": True if namespaced is None else namespaced,
        "scalable": bool(scalable) or scalable_spec is not None,
        "scalable_spec": scalable_spec or "replicas",
        # plural / scope left to discovery: confirmed on first use with a client
        "discover": plural is None or namespaced is None,
        "made_by_new_class": True,
    }
    attrs["endpoint"] = attrs["plural"]
    return type(kind, (APIObject,), attrs)
