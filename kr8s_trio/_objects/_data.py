"""`ObjectData`: what an `APIObject` is without talking to the server.

The raw dict decoded from the API server is the source of truth (DESIGN.md, "Objects"): an object
holds it (never a copy) and its bound client, nothing else; attribute access
(``pod.metadata.name``) goes through the lazy views of `_core._views`. Unknown fields survive
every round trip because nothing is ever converted.

Identity is ``(group, kind, namespace, name)``: objects are hashable and compare equal when they
name the same resource, whatever their contents (kr8s defines ``__eq__`` without ``__hash__``,
which leaves its objects unhashable).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import KeysView, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import yaml

from kr8s_trio._core._views import View, unwrap
from kr8s_trio._objects._classes import register

if TYPE_CHECKING:
    from kr8s_trio._api import Api

__all__ = ["ObjectData"]

JSONObject = dict[str, Any]


def _as_dict(resource: object) -> JSONObject:
    """The dict behind one of the resource forms kr8s accepts (the dict itself, not a copy)."""
    if isinstance(resource, dict):
        return resource
    if isinstance(resource, View):
        return resource.to_dict()
    to_dict = getattr(resource, "to_dict", None)
    if callable(to_dict):  # kubernetes / kubernetes_asyncio models, lightkube, our own objects
        result = to_dict()
        if isinstance(result, dict):
            return result
    obj = getattr(resource, "obj", None)
    if isinstance(obj, dict):  # pykube
        return obj
    if isinstance(resource, Mapping) or (
        hasattr(resource, "keys") and hasattr(resource, "__getitem__")
    ):
        return {key: resource[key] for key in resource.keys()}  # noqa: SIM118 (not a Mapping)
    raise TypeError(
        f"expected a resource dict, a name, a Mapping, or a model with .to_dict(), "
        f"got {type(resource).__name__}"
    )


class ObjectData:
    """A Kubernetes object as data: the raw dict, its identity and views over it.

    Class attributes (set them on a subclass to describe a kind; see `new_class`):

    ``version``
        ``"v1"`` or ``"group/version"``.
    ``kind``, ``plural``, ``singular``, ``short_names``
        The names kubectl accepts; ``endpoint`` is the URL segment (the plural).
    ``namespaced``
        Whether objects live in a namespace.
    ``scalable``, ``scalable_spec``
        Whether `scale` works, and the ``spec`` field it sets (dotted: ``"replicas"``).
    """

    __slots__ = ("_api", "_raw")

    version: ClassVar[str] = "v1"
    kind: ClassVar[str] = ""
    plural: ClassVar[str] = ""
    singular: ClassVar[str] = ""
    endpoint: ClassVar[str] = ""
    short_names: ClassVar[tuple[str, ...]] = ()
    namespaced: ClassVar[bool] = False
    scalable: ClassVar[bool] = False
    scalable_spec: ClassVar[str] = "replicas"
    #: served with a scale subresource (``scale`` uses it; otherwise it patches the spec)
    scale_subresource: ClassVar[bool] = False
    #: a kind built into Kubernetes: strategic merge patches work on it
    builtin: ClassVar[bool] = False
    #: whether the class is found by `get_class` (False for the sync facade's classes: their
    #: async twins are registered instead)
    _registers: ClassVar[bool] = True

    _api: Api | None
    _raw: JSONObject

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.kind:
            return
        cls._complete_names()
        if cls._registers:
            register(cls)

    @classmethod
    def _complete_names(cls) -> None:
        """Derive ``plural``, ``endpoint`` and ``singular`` from ``kind`` where not given."""
        if "plural" not in cls.__dict__ or not cls.plural:
            cls.plural = cls.endpoint or f"{cls.kind.lower()}s"
        if "endpoint" not in cls.__dict__ or not cls.endpoint:
            cls.endpoint = cls.plural
        if "singular" not in cls.__dict__ or not cls.singular:
            cls.singular = cls.kind.lower()

    def __init__(
        self, resource: object, namespace: str | None = None, api: Api | None = None
    ) -> None:
        """Wrap a resource.

        Args:
            resource: the object as a dict (kept, not copied), its name (a str), a Mapping, an
                object with ``.to_dict()`` (kubernetes / kubernetes_asyncio models) or with an
                ``.obj`` dict (pykube).
            namespace: sets ``metadata.namespace``.
            api: the client its verbs use; None: the cached default client, looked up on first
                use (``await kr8s_trio.api()``).

        Raises:
            TypeError: ``resource`` is none of those forms.
        """
        if isinstance(resource, str):
            raw: JSONObject = {"metadata": {"name": resource}}
        else:
            raw = _as_dict(resource)
        raw.setdefault("apiVersion", self.version)
        raw.setdefault("kind", self.kind)
        if namespace is not None:
            metadata = raw.setdefault("metadata", {})
            metadata["namespace"] = namespace
        self._raw = raw
        self._api = api

    @classmethod
    def _wrap(cls, raw: JSONObject, api: Api | None) -> Self:
        """Wrap a dict decoded from the server as is (the listing fast path: no checks)."""
        obj = cls.__new__(cls)
        obj._raw = raw
        obj._api = api
        return obj

    # -- the data -------------------------------------------------------------------------------

    @property
    def raw(self) -> JSONObject:
        """The object as the server sent it (the dict itself; writes go through)."""
        return self._raw

    @raw.setter
    def raw(self, value: Mapping[str, Any]) -> None:
        self._raw = _as_dict(value)

    @property
    def group(self) -> str:
        """The API group (``""`` for the core group)."""
        return self.version.rpartition("/")[0]

    @property
    def metadata(self) -> View:
        """``metadata`` as a view. Raises KeyError when the object has none."""
        return View(self._raw["metadata"])

    @metadata.setter
    def metadata(self, value: Mapping[str, Any]) -> None:
        self._raw["metadata"] = unwrap(value)

    @property
    def spec(self) -> View:
        """``spec`` as a view. Raises KeyError when the object has none."""
        return View(self._raw["spec"])

    @spec.setter
    def spec(self, value: Mapping[str, Any]) -> None:
        self._raw["spec"] = unwrap(value)

    @property
    def status(self) -> View:
        """``status`` as a view. Raises KeyError when the object has none."""
        return View(self._raw["status"])

    @status.setter
    def status(self, value: Mapping[str, Any]) -> None:
        self._raw["status"] = unwrap(value)

    def _metadata_map(self, field: str) -> View:
        found = self._raw.get("metadata", {}).get(field)
        if found is None:  # an empty view over a detached dict: reading costs no write
            return View({})
        return View(found)

    @property
    def labels(self) -> View:
        """``metadata.labels`` as a view (empty when there are none; use `label` to change
        them on the server)."""
        return self._metadata_map("labels")

    @labels.setter
    def labels(self, value: Mapping[str, str]) -> None:
        self._raw.setdefault("metadata", {})["labels"] = dict(value)

    @property
    def annotations(self) -> View:
        """``metadata.annotations`` as a view (empty when there are none)."""
        return self._metadata_map("annotations")

    @annotations.setter
    def annotations(self, value: Mapping[str, str]) -> None:
        self._raw.setdefault("metadata", {})["annotations"] = dict(value)

    @property
    def name(self) -> str:
        """``metadata.name``.

        Raises:
            ValueError: the object has no name yet (only a ``generateName``, before `create`).
        """
        metadata = self._raw.get("metadata", {})
        name = metadata.get("name")
        if isinstance(name, str) and name:
            return name
        if metadata.get("generateName"):
            raise ValueError(
                f"{self.kind} with generateName {metadata['generateName']!r} has no name until "
                "it is created"
            )
        raise ValueError(f"{self.kind} has no metadata.name")

    @name.setter
    def name(self, value: str) -> None:
        self._raw.setdefault("metadata", {})["name"] = value

    @property
    def namespace(self) -> str | None:
        """``metadata.namespace``, else the client's default namespace for a namespaced kind;
        None for cluster-scoped kinds (and for a namespaced object with no namespace and no
        client bound yet)."""
        if not self.namespaced:
            return None
        namespace = self._raw.get("metadata", {}).get("namespace")
        if namespace:
            return str(namespace)
        return self._api.namespace if self._api is not None else None

    @namespace.setter
    def namespace(self, value: str | None) -> None:
        self._raw.setdefault("metadata", {})["namespace"] = value

    @property
    def replicas(self) -> Any:
        """The replica count at ``spec.<scalable_spec>`` (``parallelism`` for a Job).

        Raises:
            NotImplementedError: the kind is not scalable.
        """
        if not self.scalable:
            raise NotImplementedError(f"{self.kind} is not scalable")
        value: Any = self._raw.get("spec", {})
        for part in self.scalable_spec.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    # -- identity -------------------------------------------------------------------------------

    def _identity(self) -> tuple[str, str, str | None, str | None]:
        metadata = self._raw.get("metadata", {})
        # the namespace property: a bound object without one is in its client's namespace
        return (self.group, self.kind, self.namespace, metadata.get("name"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectData):
            return NotImplemented
        if self is other:
            return True
        mine = self._identity()
        return mine[3] is not None and mine == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        metadata = self._raw.get("metadata", {})
        name = metadata.get("name")
        if not name and metadata.get("generateName"):
            name = f"generateName({metadata['generateName']})"
        namespace = metadata.get("namespace") if self.namespaced else None
        where = f" namespace={namespace}" if namespace else ""
        return f"<{self.kind} {name}{where}>"

    def __str__(self) -> str:
        return str(self._raw.get("metadata", {}).get("name", ""))

    # -- dict-like access -----------------------------------------------------------------------

    def keys(self) -> KeysView[str]:
        """The raw dict's keys (with `__getitem__`, ``dict(obj)`` works)."""
        return self._raw.keys()

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._raw[key] = unwrap(value)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    # -- conversions ----------------------------------------------------------------------------

    def to_dict(self) -> JSONObject:
        """A deep copy of the raw dict, yours to change (`raw` is the dict itself)."""
        return copy.deepcopy(self._raw)

    def to_yaml(self) -> str:
        """The object as YAML (keys in the server's order)."""
        return yaml.safe_dump(self._raw, sort_keys=False)

    def pprint(self, use_rich: bool = True, theme: str = "ansi_dark") -> None:
        """Print the object as YAML (highlighted with rich when it is installed)."""
        text = self.to_yaml()
        if use_rich:
            try:
                console = importlib.import_module("rich.console")
                syntax = importlib.import_module("rich.syntax")
            except ImportError:
                pass
            else:
                console.Console().print(syntax.Syntax(text, "yaml", theme=theme))
                return
        print(text, end="")

    def to_lightkube(self) -> Any:
        """The object as a lightkube resource (``lightkube.codecs.from_dict``).

        Raises:
            ImportError: lightkube is not installed.
        """
        codecs = _optional("lightkube.codecs", "to_lightkube", "lightkube")
        return codecs.from_dict(self.to_dict())

    def to_pykube(self, api: Any) -> Any:
        """The object as a pykube-ng object of pykube's class for the kind (a new class for
        kinds pykube does not have), bound to ``api`` (a ``pykube.HTTPClient``).

        Raises:
            ImportError: pykube-ng is not installed.
        """
        objects = _optional("pykube.objects", "to_pykube", "pykube-ng")
        cls = getattr(objects, self.kind, None)
        if cls is None:
            base = objects.NamespacedAPIObject if self.namespaced else objects.APIObject
            attrs = {"version": self.version, "endpoint": self.endpoint, "kind": self.kind}
            cls = type(self.kind, (base,), attrs)
        return cls(api, self.to_dict())

    @property
    def raw_template(self) -> JSONObject:
        """What `create` sends: a copy of `raw` without the fields the server sets
        (``metadata.resourceVersion``, ``uid``, ``creationTimestamp``, ``managedFields``,
        ``generation``) and without ``status``."""
        template = {k: v for k, v in self._raw.items() if k != "status"}
        metadata = {
            k: v for k, v in template.get("metadata", {}).items() if k not in _SERVER_SET_METADATA
        }
        template["metadata"] = metadata
        return template


def _optional(module: str, method: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{method}() needs {package}: pip install {package}") from exc


#: metadata fields the server owns; templates for create and apply leave them out
_SERVER_SET_METADATA = frozenset(
    {"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink"}
)
