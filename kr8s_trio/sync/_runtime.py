"""What the generated facade calls: value conversion between the async API and its sync twins,
and the call shapes (blocking call, iterator, context manager) bridged through the portal.

Twins:
    A sync class for an async one is a *twin*. `Twin` holds the async instance (``Api``,
    ``Response``, ``PortForward``, trio streams...); `SyncObject` is the base of the sync
    resource objects: an `ObjectData` (the same raw dict and bound client as the async object
    it stands for), whose verbs run on an async object of the twin class sharing that dict.
    `to_sync` turns what the async API returns into twins (recursively in tuples and lists;
    async iterators become `PortalIterator`), `to_async` turns arguments back.

Registry scope:
    Calls run in the portal's registry, shared by every thread, unless the calling context is
    inside ``with kr8s_trio.sync.open_registry()`` (`open_registry`): then they run in that
    registry, like async code inside ``async with open_registry()``.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import types
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import kr8s_trio
from kr8s_trio.objects import APIObject as _AsyncObject, ObjectData
from kr8s_trio.sync._bridges import PortalContextManager, PortalIterator
from kr8s_trio.sync._portal import portal

if TYPE_CHECKING:
    from kr8s_trio import Registry

__all__ = [
    "PortForwardControls",
    "SyncObject",
    "Twin",
    "api",
    "call",
    "call_method",
    "construct",
    "current_registry",
    "defaults",
    "direct",
    "direct_method",
    "enter",
    "enter_method",
    "enter_self",
    "exit_self",
    "get_attribute",
    "iterate",
    "iterate_method",
    "iterate_self",
    "open_registry",
    "set_attribute",
    "to_async",
    "to_sync",
]

T = TypeVar("T")

#: the context bridged calls run in (inside a sync ``open_registry`` block); None: the portal's
_scope: contextvars.ContextVar[contextvars.Context | None] = contextvars.ContextVar(
    "kr8s_trio_sync_scope", default=None
)
#: "module.qualname" of an async class -> its `Twin` class
_TWINS: dict[str, type[Twin]] = {}
#: async object class -> sync object class
_OBJECT_TWINS: dict[type[ObjectData], type[SyncObject]] = {}
#: id(async instance) -> its twin, while the twin lives (``api() is api()``)
_INSTANCES: weakref.WeakValueDictionary[int, Twin] = weakref.WeakValueDictionary()
_instances_lock = threading.Lock()
#: the names of the class attributes that describe a kind
KIND_ATTRIBUTES = (
    "version",
    "kind",
    "plural",
    "singular",
    "endpoint",
    "short_names",
    "namespaced",
    "scalable",
    "scalable_spec",
    "scale_subresource",
    "builtin",
)


class Twin:
    """Base of the generated sync twins of async classes: wraps one async instance.

    ``_async_name`` ("module.qualname" of the async class) is set by the generated subclass.
    One twin per async instance at a time, so identity carries over (``api() is api()``).
    """

    __slots__ = ("__weakref__", "_async", "_cm")

    _async_name: ClassVar[str] = ""
    _async: Any
    _cm: PortalContextManager[Any] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_async_name"):
            _TWINS[cls._async_name] = cls

    def _adopt(self, instance: object) -> None:
        """Become the twin of ``instance`` (constructors)."""
        self._async = instance
        self._cm = None
        with _instances_lock:
            _INSTANCES[id(instance)] = self

    def __repr__(self) -> str:
        return repr(self._async)

    def __str__(self) -> str:
        return str(self._async)


class PortForwardControls(Twin):
    """kr8s's sync spelling for the port-forward twin: `start` / `stop` instead of ``with``."""

    __slots__ = ()

    def start(self) -> int:
        """Start forwarding (served by the facade's loop thread until `stop`); the local port
        (the first one, when there are several)."""
        enter_self(self)
        port: int = get_attribute(self, "local_port")
        return port

    def stop(self) -> None:
        """Stop forwarding: close the listeners and the connections (waits for them)."""
        exit_self(self, None, None, None)


def _twin_of(instance: object, cls: type[Twin]) -> Twin:
    with _instances_lock:
        twin = _INSTANCES.get(id(instance))
        if twin is None or twin._async is not instance:
            twin = cls.__new__(cls)
            twin._async = instance
            twin._cm = None
            _INSTANCES[id(instance)] = twin
    return twin


class SyncObject(ObjectData):
    """Base of the sync resource objects (`kr8s_trio.sync.objects.APIObject`).

    ``_async_class`` is the async class whose verbs the twin runs. A user's subclass (with its
    own ``kind``...) gets an async twin class made here, registered for `get_class` like any
    async class, so objects of that kind come back as the user's sync class.
    """

    __slots__ = ()

    _registers: ClassVar[bool] = False
    _async_class: ClassVar[type[_AsyncObject]] = _AsyncObject

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_async_class" not in cls.__dict__:
            attributes: dict[str, Any] = {
                name: cls.__dict__[name] for name in KIND_ATTRIBUTES if name in cls.__dict__
            }
            attributes.update(__module__=cls.__module__, __qualname__=cls.__qualname__)
            cls._async_class = type(cls.__name__, (cls._async_class,), attributes)
        _OBJECT_TWINS.setdefault(cls._async_class, cls)

    def __init__(
        self, resource: object, namespace: str | None = None, api: object | None = None
    ) -> None:
        super().__init__(resource, namespace, to_async(api))

    def _twin(self) -> _AsyncObject:
        """An async object of the twin class over the same dict and client."""
        return self._async_class._wrap(self._raw, self._api)

    def _take_back(self, twin: _AsyncObject) -> None:
        """Keep what a verb changed (a new raw dict, a client bound on first use)."""
        self._raw = twin._raw
        self._api = twin._api


def _object_class(async_class: type[ObjectData]) -> type[SyncObject]:
    """The sync class for an async object class (made, and kept, for classes from `new_class`
    or a user's async subclass)."""
    found = _OBJECT_TWINS.get(async_class)
    if found is not None:
        return found
    base = next(_OBJECT_TWINS[klass] for klass in async_class.__mro__[1:] if klass in _OBJECT_TWINS)
    made = type(
        async_class.__name__,
        (base,),
        {
            "__slots__": (),
            "_async_class": async_class,
            "__module__": async_class.__module__,
            "__qualname__": async_class.__qualname__,
            **{name: getattr(async_class, name) for name in KIND_ATTRIBUTES},
        },
    )
    return _OBJECT_TWINS.setdefault(async_class, made)


# -- conversions ----------------------------------------------------------------------------

_PLAIN: frozenset[type] = frozenset(
    {str, bytes, int, float, bool, dict, type(None), bytearray, memoryview}
)
_converters: dict[type, Callable[[Any], Any]] = {}


def _same(value: T) -> T:
    return value


def _convert_class(value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, _AsyncObject):
        return _object_class(value)
    return value


def _converter_for(kind: type) -> Callable[[Any], Any]:
    if issubclass(kind, _AsyncObject):
        sync_class = _object_class(kind)
        return lambda value: sync_class._wrap(value._raw, value._api)
    for klass in kind.__mro__:
        twin = _TWINS.get(f"{klass.__module__}.{klass.__qualname__}")
        if twin is not None:
            twin_class = twin
            return lambda value: _twin_of(value, twin_class)
    if kind is tuple:
        return lambda value: tuple([to_sync(item) for item in value])
    if kind is list:
        return lambda value: [to_sync(item) for item in value]
    if issubclass(kind, type):
        return _convert_class
    if hasattr(kind, "__anext__"):
        return lambda value: PortalIterator(
            portal(), lambda: value, context=_scope.get(), convert=to_sync
        )
    return _same


_twin_modules_loaded = False


def _load_twin_modules() -> None:
    """Import every generated module once, so that every twin class is registered before a
    type's converter is chosen (and remembered)."""
    global _twin_modules_loaded
    if not _twin_modules_loaded:
        import kr8s_trio.sync._twins
        import kr8s_trio.sync.objects
        import kr8s_trio.sync.portforward  # noqa: F401 (registers the twins)

        _twin_modules_loaded = True


def to_sync(value: Any) -> Any:
    """What the async API returned, as the facade returns it (see the module docstring)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _converters.get(kind)
    if convert is None:
        _load_twin_modules()
        convert = _converters[kind] = _converter_for(kind)
    return convert(value)


class _Exchange:
    """The sync objects handed to one call (the receiver and the arguments) and the async
    objects standing for them: after the call each sync object takes back what the verb changed,
    and the async objects the call returns or yields come back as those same sync objects
    (``kr8s.create([pod])`` returns ``[pod]``, updated; ``pod.watch()`` yields ``pod``)."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: dict[int, tuple[SyncObject, _AsyncObject]] = {}

    def to_async(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if isinstance(value, SyncObject):
            twin = value._twin()
            self.pairs[id(twin)] = (value, twin)
            return twin
        if isinstance(value, Twin):
            return value._async
        if isinstance(value, type) and issubclass(value, SyncObject):
            return value._async_class
        if kind in (list, tuple, set, frozenset):
            return kind(self.to_async(item) for item in value)
        if isinstance(value, types.GeneratorType):
            return [self.to_async(item) for item in value]
        return value

    def receiver(self, owner: Any) -> Any:
        """The async side of ``owner`` (a twin, a sync object, or a sync object class)."""
        if isinstance(owner, Twin):
            return owner._async
        if isinstance(owner, SyncObject):
            return self.to_async(owner)
        return owner._async_class

    def arguments(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return tuple([self.to_async(a) for a in args]), {
            k: self.to_async(v) for k, v in kwargs.items()
        }

    def take_back(self) -> None:
        for sync, twin in self.pairs.values():
            sync._take_back(twin)

    def to_sync(self, value: Any) -> Any:
        if not self.pairs:
            return to_sync(value)
        found = self.pairs.get(id(value))
        if found is not None and found[1] is value:
            found[0]._take_back(value)
            return found[0]
        kind = type(value)
        if kind is tuple:
            return tuple([self.to_sync(item) for item in value])
        if kind is list:
            return [self.to_sync(item) for item in value]
        return to_sync(value)


def to_async(value: Any) -> Any:
    """An argument for the async API: twins unwrapped, sync objects to async objects over the
    same dict, sync object classes to their async twins, lists, tuples, sets and generators
    converted item by item."""
    return _Exchange().to_async(value)


# -- the call shapes ------------------------------------------------------------------------


def _call(
    exchange: _Exchange, afn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    a, k = exchange.arguments(args, kwargs)
    try:
        result = portal().run(lambda: afn(*a, **k), _scope.get())
    finally:
        exchange.take_back()
    return exchange.to_sync(result)


def call(afn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``await afn(*args, **kwargs)`` in the portal (arguments and result converted)."""
    return _call(_Exchange(), afn, args, kwargs)


def call_method(owner: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """``await owner.name(...)`` on the async side of ``owner`` (a twin, a sync object or a
    sync object class), in the portal."""
    exchange = _Exchange()
    return _call(exchange, getattr(exchange.receiver(owner), name), args, kwargs)


def _direct(
    exchange: _Exchange, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    a, k = exchange.arguments(args, kwargs)
    try:
        result = fn(*a, **k)
    finally:
        exchange.take_back()
    return exchange.to_sync(result)


def direct(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, a plain function of the async API, called in this thread (no I/O)."""
    return _direct(_Exchange(), fn, args, kwargs)


def direct_method(owner: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """`direct` for a plain method of the async side of ``owner``."""
    exchange = _Exchange()
    return _direct(exchange, getattr(exchange.receiver(owner), name), args, kwargs)


def construct(cls: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """An instance of an async class for a twin's constructor (arguments converted)."""
    a, k = _Exchange().arguments(args, kwargs)
    return cls(*a, **k)


def _iterate(
    exchange: _Exchange, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> PortalIterator[Any]:
    a, k = exchange.arguments(args, kwargs)
    return portal().iterate(lambda: fn(*a, **k), context=_scope.get(), convert=exchange.to_sync)


def iterate(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> PortalIterator[Any]:
    """An iterator over ``fn(...)`` (an async iterable, made and iterated in the portal)."""
    return _iterate(_Exchange(), fn, args, kwargs)


def iterate_method(owner: Any, name: str, /, *args: Any, **kwargs: Any) -> PortalIterator[Any]:
    """`iterate` for a method of the async side of ``owner`` (a sync object iterating over
    itself, as ``pod.watch()`` does, is yielded updated)."""
    exchange = _Exchange()
    return _iterate(exchange, getattr(exchange.receiver(owner), name), args, kwargs)


def iterate_self(owner: Twin) -> PortalIterator[Any]:
    """An iterator over the async twin itself (``__aiter__``)."""
    instance = owner._async
    return portal().iterate(lambda: instance, context=_scope.get(), convert=to_sync)


def _enter(
    exchange: _Exchange, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> PortalContextManager[Any]:
    a, k = exchange.arguments(args, kwargs)
    return portal().enter(fn(*a, **k), context=_scope.get(), convert=exchange.to_sync)


def enter(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> PortalContextManager[Any]:
    """A context manager over ``fn(...)`` (an async context manager, entered in the portal)."""
    return _enter(_Exchange(), fn, args, kwargs)


def enter_method(owner: Any, name: str, /, *args: Any, **kwargs: Any) -> PortalContextManager[Any]:
    """`enter` for a method of the async side of ``owner``."""
    exchange = _Exchange()
    return _enter(exchange, getattr(exchange.receiver(owner), name), args, kwargs)


def enter_self(owner: Twin) -> Any:
    """``__enter__`` of a twin whose async class is an async context manager."""
    if owner._cm is not None:
        raise RuntimeError(f"{type(owner).__name__} is already entered")
    cm = portal().enter(owner._async, context=_scope.get(), convert=to_sync)
    value = cm.__enter__()
    owner._cm = cm
    return value


def exit_self(
    owner: Twin,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: types.TracebackType | None,
) -> bool:
    """``__exit__`` matching `enter_self`."""
    cm, owner._cm = owner._cm, None
    if cm is None:
        raise RuntimeError(f"{type(owner).__name__} was not entered")
    return cm.__exit__(exc_type, exc, tb)


def get_attribute(owner: Any, name: str) -> Any:
    """A property of the async side of ``owner``, converted."""
    exchange = _Exchange()
    return exchange.to_sync(getattr(exchange.receiver(owner), name))


def set_attribute(owner: Any, name: str, value: Any) -> None:
    """Set a property on the async side of ``owner``."""
    exchange = _Exchange()
    setattr(exchange.receiver(owner), name, exchange.to_async(value))
    exchange.take_back()


def defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """The default values of ``fn``'s parameters (for defaults that are not literals)."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(fn).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


# -- registries -----------------------------------------------------------------------------


@asynccontextmanager
async def _scoped_registry() -> AsyncIterator[tuple[Registry, contextvars.Context]]:
    async with kr8s_trio.open_registry() as registry:
        yield registry, contextvars.copy_context()


@contextmanager
def open_registry() -> Iterator[Any]:
    """The sync ``open_registry``: a registry opened in the portal; calls made in this context
    inside the block run in it (and see it as the current registry)."""
    scope: PortalContextManager[tuple[Registry, contextvars.Context]]
    scope = portal().enter(_scoped_registry(), context=_scope.get())
    with scope as (registry, context):
        token = _scope.set(context)
        try:
            yield to_sync(registry)
        finally:
            _scope.reset(token)


def api(
    url: str | None = None,
    kubeconfig: Any = None,
    serviceaccount: str | None = None,
    namespace: str | None = None,
    context: str | None = None,
    **options: Any,
) -> Any:
    """The sync ``api``: ``kr8s_trio.api`` in the portal, except that ``api()`` with no
    arguments, once the portal's registry has a client, answers in the caller's thread (its
    first client: what the async call would return) without a hop."""
    args = (url, kubeconfig, serviceaccount, namespace, context)
    if not options and args == (None, None, None, None, None) and _scope.get() is None:
        loop = portal()
        if loop.running:
            clients = loop.registry.clients
            if clients:
                return to_sync(clients[0])
    return call(kr8s_trio.api, *args, **options)


def current_registry() -> Any:
    """The registry calls from this context use: the innermost sync ``open_registry`` block's,
    else the portal's."""
    return to_sync(portal().run(_current, _scope.get()))


async def _current() -> Registry | None:
    return kr8s_trio.current_registry()
