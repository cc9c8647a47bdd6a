"""The generator's reading of the async API (`kr8s_trio.sync._generate`): what a name in a
module's source means (its imports, including ``TYPE_CHECKING`` ones), what shape a function
has (coroutine, async iterator, async context manager, plain), which classes get sync twins,
and their members."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any

import trio

PROTOCOL = {"__aenter__": "__enter__", "__aexit__": "__exit__", "__aiter__": "__iter__"}

ASYNC_ITERATORS = {
    "collections.abc.AsyncIterator",
    "collections.abc.AsyncIterable",
    "collections.abc.AsyncGenerator",
    "typing.AsyncIterator",
    "typing.AsyncIterable",
    "typing.AsyncGenerator",
}

ASYNC_CMS = {"contextlib.AbstractAsyncContextManager", "typing.AsyncContextManager"}

AWAITABLES = {"collections.abc.Awaitable", "collections.abc.Coroutine", "typing.Awaitable"}


class GenerateError(Exception):
    """The async API has something the generator cannot mirror."""


_module_names: dict[str, dict[str, tuple[str, str | None]]] = {}


def _names_of(module_name: str) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, attribute or None for a module), from a module's source."""
    found = _module_names.get(module_name)
    if found is not None:
        return found
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, tuple[str, str | None]] = {}
    package = module_name if hasattr(module, "__path__") else module_name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = (alias.name, None)
                else:
                    root = alias.name.split(".")[0]
                    names[root] = (root, None)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                names[alias.asname or alias.name] = (base, alias.name)
    for node in tree.body:
        targets: list[str] = []
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        for target in targets:
            names[target] = (module_name, target)
    _module_names[module_name] = names
    return names


def _resolve(module_name: str, dotted: list[str]) -> tuple[object, str]:
    """The object a dotted name means in a module's source, and its "module.qualname"."""
    names = _names_of(module_name)
    head = dotted[0]
    if head in names:
        source, attribute = names[head]
        if attribute is None:
            value: object = importlib.import_module(source)
        else:
            try:
                value = getattr(importlib.import_module(source), attribute)
            except (ImportError, AttributeError):
                value = importlib.import_module(f"{source}.{attribute}")
    elif hasattr(builtins, head):
        value = getattr(builtins, head)
    else:
        raise GenerateError(f"{module_name}: cannot resolve {'.'.join(dotted)}")
    for part in dotted[1:]:
        value = getattr(value, part)
    return value, _qualified(value)


def _qualified(value: object) -> str:
    if isinstance(value, types.ModuleType):
        return value.__name__
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if module is None or qualname is None:
        return repr(value)
    return f"{module}.{qualname}"


def _dotted(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else [*inner, node.attr]
    return None


def _is_async_cm_function(fn: Any) -> bool:
    wrapped = getattr(fn, "__wrapped__", None)
    return wrapped is not None and inspect.isasyncgenfunction(wrapped)


def _async_members(cls: type) -> bool:
    for klass in cls.__mro__:
        if klass is object:
            continue
        for name, value in vars(klass).items():
            fn = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            if name in ("__aenter__", "__aiter__", "__anext__"):
                return True
            if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                return True
            if _is_async_cm_function(fn):
                return True
    return False


#: classes from outside kr8s_trio that get twins (the streams of an exec process)
FOREIGN_TWINS = {"trio.abc.SendStream", "trio.abc.ReceiveStream"}


def _ours(cls: type) -> bool:
    return cls.__module__.startswith("kr8s_trio") or _qualified(cls) in FOREIGN_TWINS


def _wants_twin(cls: type) -> bool:
    """Our classes with async members, except async iterables (mirrored as iterators); other
    libraries' classes (trio.Nursery, an httpx.Response already read) are returned as they are."""
    return _ours(cls) and _async_members(cls) and not _iterator_like(cls)


def _iterator_like(cls: type) -> bool:
    """An async iterable that is not a trio resource: mirrored as a `PortalIterator`."""
    return hasattr(cls, "__anext__") and not issubclass(cls, trio.abc.AsyncResource)


def _source_module(fn: Any) -> str:
    """The module whose source defines ``fn`` (trio renames ``__module__`` to its public one)."""
    path = inspect.getsourcefile(inspect.unwrap(fn))
    for name, module in list(sys.modules.items()):
        if path is not None and getattr(module, "__file__", None) == path:
            return name
    return str(fn.__module__)


def _function_tree(fn: Any) -> ast.FunctionDef | ast.AsyncFunctionDef:
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(fn)))
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    raise GenerateError(f"no function in the source of {fn!r}")


def _shape(fn: Any, tree: ast.FunctionDef | ast.AsyncFunctionDef, module: str) -> str:
    raw = inspect.unwrap(fn)
    if _is_async_cm_function(fn):
        return "enter"
    if inspect.isasyncgenfunction(raw):
        return "iterate"
    if inspect.iscoroutinefunction(raw):
        return "call"
    if tree.returns is not None:
        node = tree.returns.value if isinstance(tree.returns, ast.Subscript) else tree.returns
        dotted = _dotted(node)
        if dotted is not None:
            value, qualified = _resolve(module, dotted)
            if qualified in ASYNC_ITERATORS or (isinstance(value, type) and _iterator_like(value)):
                return "iterate"
            if qualified in ASYNC_CMS:
                return "enter"
    return "direct"


def _defines(cls: type, name: str) -> bool:
    return any(name in vars(klass) for klass in cls.__mro__ if klass is not object)


def _members(cls: type, stop: set[type]) -> Iterator[tuple[str, type, Any]]:
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass in stop or klass is object:
            continue
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            if name.startswith("_") and name not in ("__init__", *PROTOCOL):
                continue
            if isinstance(value, staticmethod):
                continue
            if isinstance(value, property | classmethod) or inspect.isfunction(value):
                yield name, klass, value


def _instance_attributes(cls: type, stop: set[type]) -> Iterator[tuple[str, str]]:
    """Public attributes set in ``__init__`` (``self.x: T = ...`` or ``self.x = param``)."""
    init = vars(cls).get("__init__")
    if init is None or not inspect.isfunction(init) or cls in stop:
        return
    tree = _function_tree(init)
    params = {a.arg: a.annotation for a in [*tree.args.args, *tree.args.kwonlyargs]}
    seen: set[str] = set()
    for node in ast.walk(tree):
        target: ast.expr | None = None
        annotation: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, annotation = node.target, node.annotation
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(node.value, ast.Name):
                annotation = params.get(node.value.id)
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and not target.attr.startswith("_")
            and target.attr not in seen
            and not isinstance(
                getattr(cls, target.attr, types.MemberDescriptorType), property | types.FunctionType
            )
        ):
            seen.add(target.attr)
            yield target.attr, ast.unparse(annotation) if annotation is not None else "Any"
