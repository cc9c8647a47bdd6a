"""Lazy attribute views over decoded JSON: ``pod.metadata.name`` without copying anything.

The raw dict decoded from the API server is the source of truth (DESIGN.md, "Objects"). A
:class:`View` wraps a dict, a :class:`ListView` wraps a list; neither copies. Nested values are
wrapped on access (never cached: a fresh wrapper is cheaper than a cache slot per view) and
scalars come back as they are::

    pod = View(raw)
    pod.metadata.name                           # raw["metadata"]["name"]
    pod.spec.containers[0].imagePullPolicy      # keys are used exactly as written (camelCase)
    pod.metadata.labels["app"] = "web"          # writes go through to raw
    pod.spec.replicas = 3                       # setattr sets raw["spec"]["replicas"]
    pod.spec.to_dict() is raw["spec"]           # True: the underlying dict itself

There is no snake_case fallback: kr8s wraps objects in ``Box(value)`` with python-box's defaults,
where ``camel_killer_box`` is off, so ``pod.spec.restart_policy`` does not find ``restartPolicy``
there either.

Missing keys raise :class:`AttributeError` naming the key and the path (``'status.podIP'``), so
``getattr(view, "x", None)`` and ``hasattr`` work; item access (``view["x"]``) raises
:class:`KeyError` like a dict.

Method names win over keys, exactly as for Python dicts (and for kr8s's ``Box``, a dict
subclass): ``view.items``, ``view.keys``, ``view.values``, ``view.get``, ``view.pop``,
``view.popitem``, ``view.setdefault``, ``view.update``, ``view.clear`` and ``view.to_dict`` are
the methods. Reach such keys by item access: ``pod_list["items"]``,
``volume.configMap["items"]``, ``requirement["values"]``. Assigning to one of these names as
an attribute raises :class:`AttributeError` rather than silently creating a key the attribute
can never read back. The same holds for the three slot names ``_data``, ``_parent`` and
``_key`` (no built-in Kubernetes field starts with an underscore; a custom resource's can still
be reached as ``view["_key"]``), and for ``__dunder__`` names, which are left to Python's
protocols (copy, pickle, IPython) instead of being answered from the data.

Cost (CPython 3.11 on the dev machine; ``sys.getsizeof``, ``tracemalloc``, ``timeit``):
a View or ListView is 56 bytes (both measures: three slots, no ``__dict__``, no
``__weakref__``), and wrapping a decoded object allocates nothing else until someone accesses
it; ``View(raw)`` takes about 0.3 µs. Nested wrappers are created per access and dropped: one
attribute hop is about 0.7-0.85 µs (``view.metadata``), ``view.metadata.name`` about 1.3 µs,
``view.spec.containers[0].image`` about 2.4-2.8 µs, against 0.02-0.03 µs for the raw dict
chain; a miss (``getattr(view.status, "podIP", None)``) about 2.7 µs. Most of a hop is
``__getattr__`` dispatch itself (a bare three-slot class with a four-line ``__getattr__`` takes
0.5 µs per hop on the same machine); ``view["metadata"]`` is about 0.3-0.45 µs. Caching child
views would cost a dict per view to save a fraction of that, so they are not cached. Code that
walks thousands of objects in a hot loop should use ``to_dict()``.

Writes store plain data: assigning a View or ListView stores its underlying dict or list, so
the raw dict stays JSON-serialisable. Slicing a ListView returns a ListView over a new list
(a shallow slice, as for lists): assignments to the slice do not reach the original list, but
writes into its dict items do. Copies happen only on request: ``copy.copy`` gives a view over
a shallow copy, ``copy.deepcopy`` and ``pickle`` copy the data (never the chain of parents).
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Iterator, KeysView, MutableMapping, MutableSequence
from typing import TYPE_CHECKING, Any, overload

__all__ = ["ListView", "View", "unwrap"]

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxdict = 4
_REPR.maxlist = 4
_REPR.maxstring = 40
_REPR.maxother = 40

if TYPE_CHECKING:
    # (bare `slice` is `slice[Any, Any, Any]` in typeshed, which _core's mypy settings refuse)
    from typing import SupportsIndex, TypeAlias

    _Slice: TypeAlias = slice[SupportsIndex | None, SupportsIndex | None, SupportsIndex | None]
    _Key: TypeAlias = str | int | _Slice | None


def unwrap(value: object) -> object:
    """The plain dict or list under a View or ListView; anything else unchanged."""
    if isinstance(value, View | ListView):
        return value._data
    return value


def _wrap(value: object, parent: View | ListView, key: str | int | _Slice) -> Any:  # type: ignore[explicit-any]
    if isinstance(value, dict):
        return View(value, parent, key)
    if isinstance(value, list):
        return ListView(value, parent, key)
    return value


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name[:2] == name[-2:] == "__"


def _path(node: View | ListView | None, tail: _Key = None) -> str:
    """Render the access path of ``node`` (plus ``tail``): ``spec.containers[0].image``."""
    keys: list[str | int | _Slice] = [] if tail is None else [tail]
    while node is not None and node._key is not None:
        keys.append(node._key)
        node = node._parent
    out: list[str] = []
    for key in reversed(keys):
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif isinstance(key, slice):
            start = "" if key.start is None else key.start
            stop = "" if key.stop is None else key.stop
            step = "" if key.step is None else f":{key.step}"
            out.append(f"[{start}:{stop}{step}]")
        elif key.isidentifier():
            out.append(f".{key}" if out else key)
        else:
            out.append(f"[{key!r}]")
    return "".join(out)


class View(MutableMapping[str, object]):
    """Attribute and item access over a JSON object (a dict), without copying it.

    ``View(d).to_dict() is d``. Equality compares the underlying data with a dict or another
    View. Views are unhashable, like dicts.
    """

    __slots__ = ("_data", "_key", "_parent")

    _data: dict[str, object]
    _parent: View | ListView | None
    _key: _Key

    def __init__(
        self,
        mapping: dict[str, object] | View,
        _parent: View | ListView | None = None,
        _key: _Key = None,
    ) -> None:
        data: object = mapping._data if isinstance(mapping, View) else mapping
        if not isinstance(data, dict):
            raise TypeError(f"View wraps a dict, not {type(data).__name__}")
        _set_data(self, data)
        _set_parent(self, _parent)
        _set_key(self, _key)

    # attribute access -------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:  # type: ignore[explicit-any]
        # Only called when normal lookup fails: methods and slots are found first.
        if name[:1] == "_" and (name in _SLOTS or _is_dunder(name)):
            # An unset slot (an instance under construction) must not recurse into _data, and
            # protocol probes (copy, pickle, numpy, IPython) must not be answered by data.
            raise AttributeError(name)
        try:
            value = self._data[name]
        except KeyError:
            path = _path(self, name)
            raise AttributeError(f"no key {name!r} at {path!r}", name=name, obj=self) from None
        return _wrap(value, self, name)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(type(self), name):
            raise AttributeError(
                f"{name!r} is a View method or attribute; set the key with view[{name!r}] = ..."
            )
        self._data[name] = unwrap(value)

    def __delattr__(self, name: str) -> None:
        if hasattr(type(self), name):
            raise AttributeError(f"{name!r} is a View method or attribute; use del view[{name!r}]")
        try:
            del self._data[name]
        except KeyError:
            path = _path(self, name)
            raise AttributeError(f"no key {name!r} at {path!r}", name=name, obj=self) from None

    def __dir__(self) -> Iterable[str]:
        keys = [k for k in self._data if isinstance(k, str) and k.isidentifier()]
        return sorted(set(super().__dir__()) | set(keys))

    # mapping protocol -------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:  # type: ignore[explicit-any]
        return _wrap(self._data[key], self, key)

    def __setitem__(self, key: str, value: object) -> None:
        self._data[key] = unwrap(value)

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, View):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: object = None) -> Any:  # type: ignore[explicit-any]
        """``view[key]`` (wrapped) when present, else ``default`` (returned as given)."""
        try:
            value = self._data[key]
        except KeyError:
            return default
        return _wrap(value, self, key)

    def keys(self) -> KeysView[str]:
        """The underlying dict's own keys view (live, no copy)."""
        return self._data.keys()

    def __copy__(self) -> View:
        return View(self._data.copy())

    def __reduce__(self) -> tuple[type[View], tuple[dict[str, object]]]:
        # copy.deepcopy and pickle: the data, not the chain of parents.
        return (View, (self._data,))

    def to_dict(self) -> dict[str, object]:
        """The underlying dict itself, not a copy: mutating it mutates the view."""
        return self._data

    def __repr__(self) -> str:
        return f"View({_REPR.repr(self._data)})"


class ListView(MutableSequence[object]):
    """A list-like view over a JSON array: indexing and iteration wrap dict and list items.

    ``ListView(lst).to_list() is lst``. Equal to a plain list (or ListView) with equal items.
    """

    __slots__ = ("_data", "_key", "_parent")

    _data: list[object]
    _parent: View | ListView | None
    _key: _Key

    def __init__(
        self,
        sequence: list[object] | ListView,
        _parent: View | ListView | None = None,
        _key: _Key = None,
    ) -> None:
        data: object = sequence._data if isinstance(sequence, ListView) else sequence
        if not isinstance(data, list):
            raise TypeError(f"ListView wraps a list, not {type(data).__name__}")
        _set_list_data(self, data)
        _set_list_parent(self, _parent)
        _set_list_key(self, _key)

    @overload
    def __getitem__(self, index: int) -> Any: ...  # type: ignore[explicit-any]
    @overload
    def __getitem__(self, index: _Slice) -> ListView: ...
    def __getitem__(self, index: int | _Slice) -> Any:  # type: ignore[explicit-any]
        if isinstance(index, slice):
            return ListView(self._data[index], self, index)
        return _wrap(self._data[index], self, index)

    @overload
    def __setitem__(self, index: int, value: object) -> None: ...
    @overload
    def __setitem__(self, index: _Slice, value: Iterable[object]) -> None: ...
    def __setitem__(self, index: int | _Slice, value: object) -> None:
        if isinstance(index, slice):
            if not isinstance(value, Iterable):
                raise TypeError("can only assign an iterable to a slice")
            self._data[index] = [unwrap(v) for v in value]
        else:
            self._data[index] = unwrap(value)

    def __delitem__(self, index: int | _Slice) -> None:
        del self._data[index]

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:  # type: ignore[explicit-any]
        for index, value in enumerate(self._data):
            yield _wrap(value, self, index)

    def __contains__(self, value: object) -> bool:
        return unwrap(value) in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ListView):
            return self._data == other._data
        if isinstance(other, list):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def insert(self, index: int, value: object) -> None:
        self._data.insert(index, unwrap(value))

    def append(self, value: object) -> None:
        self._data.append(unwrap(value))

    def __copy__(self) -> ListView:
        return ListView(self._data.copy())

    def __reduce__(self) -> tuple[type[ListView], tuple[list[object]]]:
        return (ListView, (self._data,))

    def to_list(self) -> list[object]:
        """The underlying list itself, not a copy: mutating it mutates the view."""
        return self._data

    def __repr__(self) -> str:
        return f"ListView({_REPR.repr(self._data)})"


_SLOTS = frozenset(View.__slots__)

# Slot setters: View.__setattr__ writes keys, so __init__ stores its own state through the
# slot descriptors directly (also faster than object.__setattr__).
_set_data = View.__dict__["_data"].__set__
_set_parent = View.__dict__["_parent"].__set__
_set_key = View.__dict__["_key"].__set__
_set_list_data = ListView.__dict__["_data"].__set__
_set_list_parent = ListView.__dict__["_parent"].__set__
_set_list_key = ListView.__dict__["_key"].__set__
