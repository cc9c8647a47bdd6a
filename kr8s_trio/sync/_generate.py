"""Generate the sync facade from the async API: ``python -m kr8s_trio.sync._generate [--check]``.

For every public name of `kr8s_trio`, `kr8s_trio.objects` and `kr8s_trio.portforward` it writes
the sync twin into ``kr8s_trio/sync/{__init__,objects,portforward}.py``, and into
``kr8s_trio/sync/_twins.py`` the twins of classes the API returns without exporting them (exec
processes, trio streams). ``--check`` writes nothing and exits 1 if a committed file differs
from what it would write (the test suite runs it).

How an async member becomes sync (the signature is copied from the source, parameter by
parameter, with its annotations and defaults):

- coroutine function -> blocking function (`_runtime.call` / ``call_method``);
- async generator, or a function returning an async iterator -> a `PortalIterator`;
- ``@asynccontextmanager`` function, or one returning an async context manager ->
  a `PortalContextManager`; ``__aenter__``/``__aexit__`` -> ``__enter__``/``__exit__``;
- plain function -> called in the caller's thread, its result converted;
- ``aclose`` -> ``close``, ``aiter_*`` -> ``iter_*``, ``__aiter__`` -> ``__iter__``;
- a class with async members -> a twin class; a resource class -> a sync object class (same
  kind attributes); other classes, exceptions and values -> re-exported as they are.

In annotations, async classes become their twins, ``AsyncIterator[X]`` becomes
``PortalIterator[X]`` and ``AbstractAsyncContextManager[X]`` ``PortalContextManager[X]``.
Names are resolved in the module that defines each function (its imports, including
``TYPE_CHECKING`` ones) and imported, for type checking only, by the generated module.

Reading the async API is `_gensource`; the text of the generated modules is `_gentext`.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kr8s_trio.objects import ObjectData
from kr8s_trio.sync._gensource import (
    ASYNC_CMS,
    ASYNC_ITERATORS,
    AWAITABLES,
    PROTOCOL,
    GenerateError,
    _async_members,
    _defines,
    _dotted,
    _function_tree,
    _instance_attributes,
    _is_async_cm_function,
    _iterator_like,
    _members,
    _names_of,
    _ours,
    _qualified,
    _resolve,
    _shape,
    _source_module,
    _wants_twin,
)
from kr8s_trio.sync._gentext import (
    DOCS,
    _docstring,
    _format,
    _property,
    _render,
)
from kr8s_trio.sync._runtime import KIND_ATTRIBUTES

SYNC_DIR = Path(__file__).parent
#: async public module -> (generated file, sync module name)
TARGETS = {
    "kr8s_trio": ("__init__.py", "kr8s_trio.sync"),
    "kr8s_trio.objects": ("objects.py", "kr8s_trio.sync.objects"),
    "kr8s_trio.portforward": ("portforward.py", "kr8s_trio.sync.portforward"),
}
EXTRA = ("_twins.py", "kr8s_trio.sync._twins")
#: async function -> the hand-written runtime function its twin delegates to
SPECIAL = {
    "kr8s_trio._registry.api": "api",
    "kr8s_trio._registry.open_registry": "open_registry",
    "kr8s_trio._registry.current_registry": "current_registry",
}
#: mixins with hand-written sync-only methods, by async class
MIXINS = {"kr8s_trio._portforward.PortForward": "_rt.PortForwardControls"}
RENAMES = {"aclose": "close", "aiter_bytes": "iter_bytes", "aiter_lines": "iter_lines"}


# -- name resolution ------------------------------------------------------------------------


# -- what a class or function is ------------------------------------------------------------


# -- the generator --------------------------------------------------------------------------


@dataclass
class Output:
    """One generated module being built."""

    async_module: str
    sync_module: str
    path: Path
    runtime_imports: set[str] = field(default_factory=set)
    type_imports: dict[str, str] = field(default_factory=dict)  # local name -> import line
    type_values: dict[str, object] = field(default_factory=dict)  # local name -> its value
    typevars: dict[str, str] = field(default_factory=dict)
    reexports: list[tuple[str, str]] = field(default_factory=list)  # (module, name)
    blocks: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)


@dataclass
class TwinInfo:
    name: str
    output: Output
    cls: type
    public_ref: str | None  # runtime expression for the async class (public ones)


class Generator:
    def __init__(self) -> None:
        self.outputs: dict[str, Output] = {}
        for module, (filename, sync_module) in TARGETS.items():
            self.outputs[module] = Output(module, sync_module, SYNC_DIR / filename)
        self.extra = Output("", EXTRA[1], SYNC_DIR / EXTRA[0])
        self.twins: dict[type, TwinInfo] = {}
        self.pending: list[type] = []
        self.object_base: type = importlib.import_module("kr8s_trio.objects").APIObject

    # -- planning ---------------------------------------------------------------------

    def plan(self) -> None:
        """Decide which names get twins (public ones first, in their module)."""
        for module_name, output in self.outputs.items():
            module = importlib.import_module(module_name)
            for name in module.__all__:
                value = getattr(module, name)
                if isinstance(value, type) and _async_members(value):
                    alias = self._module_alias(output, module_name)
                    self.twins[value] = TwinInfo(name, output, value, f"{alias}.{name}")

    def _module_alias(self, output: Output, module_name: str) -> str:
        alias = "_async" if module_name == "kr8s_trio" else "_async_" + module_name.split(".")[-1]
        output.runtime_imports.add(f"import {module_name} as {alias}")
        return alias

    def _twin_for(self, cls: type) -> TwinInfo:
        info = self.twins.get(cls)
        if info is None:
            info = TwinInfo(cls.__name__, self.extra, cls, None)
            self.twins[cls] = info
            self.pending.append(cls)
        return info

    # -- annotations ------------------------------------------------------------------

    def annotation(self, output: Output, module_name: str, text: str, owner: str) -> str:
        """``text`` (an annotation in ``module_name``) as the sync module writes it."""
        tree = ast.parse(text, mode="eval")
        return ast.unparse(self._map(output, module_name, tree.body, owner))

    def _map(self, output: Output, module: str, node: ast.expr, owner: str) -> ast.expr:
        if isinstance(node, ast.Subscript):
            dotted = _dotted(node.value)
            if dotted is not None:
                _, qualified = _resolve(module, dotted)
                args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if qualified in ASYNC_ITERATORS:
                    return self._generic(
                        output, "PortalIterator", self._map(output, module, args[0], owner)
                    )
                if qualified in ASYNC_CMS:
                    return self._generic(
                        output, "PortalContextManager", self._map(output, module, args[0], owner)
                    )
                if qualified in AWAITABLES:
                    return self._map(output, module, args[-1], owner)
            node.value = self._map(output, module, node.value, owner)
            node.slice = self._map(output, module, node.slice, owner)
            return node
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                return node
            value, qualified = _resolve(module, dotted)
            if (
                isinstance(value, type)
                and issubclass(value, ObjectData)  # a base of APIObject (MetadataVerbs)
                and value not in self.twins
                and _async_members(value)
            ):
                value = self.object_base
            if isinstance(value, type) and (value in self.twins or _wants_twin(value)):
                info = self._twin_for(value)
                self._use_twin(output, info)
                return ast.Name(info.name)
            if isinstance(value, type) and _ours(value) and _iterator_like(value):
                item = self._anext_type(output, value, owner)
                return self._generic(output, "PortalIterator", item)
            if isinstance(value, TypeVar):
                self._typevar(output, module, value, owner)
                return ast.Name(value.__name__)
            root = dotted[0]
            source, attribute = _names_of(module).get(root, ("builtins", root))
            if source == "builtins":
                return node
            line = (
                f"import {source} as {root}"
                if attribute is None and source != root
                else f"import {source}"
                if attribute is None
                else f"from {source} import {attribute} as {root}"
                if attribute != root
                else f"from {source} import {attribute}"
            )
            known = output.type_imports.get(root)
            if known is not None and known != line:
                first = output.type_values.get(root)
                if first is None or first != _resolve(module, [root])[0]:
                    raise GenerateError(f"{owner}: {root} means two things ({known} / {line})")
                return node  # the same alias under the same name (JSONObject)
            output.type_imports[root] = line
            output.type_values[root] = _resolve(module, [root])[0]
            return node
        if isinstance(node, ast.BinOp):
            node.left = self._map(output, module, node.left, owner)
            node.right = self._map(output, module, node.right, owner)
            return node
        if isinstance(node, ast.Tuple | ast.List):
            node.elts = [self._map(output, module, e, owner) for e in node.elts]
            return node
        return node  # constants (Literal values, None)

    def _generic(self, output: Output, name: str, inner: ast.expr) -> ast.expr:
        output.type_imports[name] = f"from kr8s_trio.sync._bridges import {name}"
        return ast.Subscript(ast.Name(name), inner)

    def _anext_type(self, output: Output, cls: type, owner: str) -> ast.expr:
        fn = vars(cls).get("__anext__") or next(
            vars(k)["__anext__"] for k in cls.__mro__ if "__anext__" in vars(k)
        )
        tree = _function_tree(fn)
        if tree.returns is None:
            return ast.Name("Any")
        text = ast.unparse(tree.returns)
        return ast.parse(self.annotation(output, _source_module(fn), text, owner), mode="eval").body

    def _typevar(self, output: Output, module: str, var: TypeVar, owner: str) -> None:
        bound = var.__bound__
        if isinstance(bound, type):
            text = bound.__name__
            bound_module = bound.__module__
        elif bound is not None:
            text = getattr(bound, "__forward_arg__", str(bound))
            bound_module = module
        else:
            output.typevars[var.__name__] = f'{var.__name__} = _TypeVar("{var.__name__}")'
            return
        mapped = self.annotation(output, bound_module, text, owner)
        definition = f'{var.__name__} = _TypeVar("{var.__name__}", bound="{mapped}")'
        output.typevars[var.__name__] = definition

    def _use_twin(self, output: Output, info: TwinInfo) -> None:
        if info.output is not output:
            output.type_imports[info.name] = f"from {info.output.sync_module} import {info.name}"

    # -- functions --------------------------------------------------------------------

    def function(
        self,
        output: Output,
        fn: Any,
        name: str,
        *,
        kind: str = "function",  # function | method | classmethod | init
        target: str,
        indent: str = "",
    ) -> str:
        """The sync twin of ``fn`` (``target``: the runtime expression reaching it)."""
        raw = inspect.unwrap(fn)
        module = _source_module(raw)
        tree = _function_tree(raw)
        owner = f"{module}.{raw.__qualname__}"
        params, forward = self._parameters(output, module, raw, tree, kind, owner)
        shape = _shape(fn, tree, module)
        returns = "None"
        if tree.returns is not None:
            returns_node = tree.returns
            if _is_async_cm_function(fn) and isinstance(returns_node, ast.Subscript):
                # @asynccontextmanager: AsyncIterator[X] is what the generator yields
                yielded = ast.unparse(returns_node.slice).split(",")[0]
                inner = self.annotation(output, module, yielded, owner)
                parsed = ast.parse(inner, mode="eval").body
                returns = ast.unparse(self._generic(output, "PortalContextManager", parsed))
            else:
                returns = self.annotation(output, module, ast.unparse(returns_node), owner)
        if name == "__init__":
            returns = "None"
        if name == "__aiter__":
            owner_class = _resolve(module, raw.__qualname__.split(".")[:1])[0]
            assert isinstance(owner_class, type)
            returns = ast.unparse(
                self._generic(
                    output, "PortalIterator", self._anext_type(output, owner_class, owner)
                )
            )
        sync_name = PROTOCOL.get(name, RENAMES.get(name, name))
        runtime_name = SPECIAL.get(owner)
        receiver = {"function": "", "init": "", "method": "self", "classmethod": "cls"}[kind]
        if runtime_name is not None:
            body = f"_rt.{runtime_name}({forward})"
        elif name == "__aenter__":
            body = "_rt.enter_self(self)"
        elif name == "__aexit__":
            body = f"_rt.exit_self(self, {forward})"
        elif name == "__aiter__":
            body = "_rt.iterate_self(self)"
        elif kind == "init":
            body = f"self._adopt(_rt.construct({target}{', ' if forward else ''}{forward}))"
        elif receiver:
            call = {"call": "call_method", "iterate": "iterate_method", "enter": "enter_method"}
            helper = call.get(shape, "direct_method")
            args = f", {forward}" if forward else ""
            body = f'_rt.{helper}({receiver}, "{name}"{args})'
        else:
            helper = {"call": "call", "iterate": "iterate", "enter": "enter"}.get(shape, "direct")
            args = f", {forward}" if forward else ""
            body = f"_rt.{helper}({target}{args})"
        if returns == "None":
            statement = body
        elif body.startswith("_rt.") and _helper_type(body) == returns:
            statement = f"return {body}"
        else:
            output.runtime_imports.add("from typing import cast as _cast")
            statement = f'return _cast("{returns}", {body})'
        decorator = f"{indent}@classmethod\n" if kind == "classmethod" else ""
        doc = _docstring(raw, indent + "    ")
        return (
            f"{decorator}{indent}def {sync_name}({params}) -> {returns}:\n"
            f"{doc}{indent}    {statement}\n"
        )

    def _parameters(
        self,
        output: Output,
        module: str,
        fn: Any,
        tree: ast.FunctionDef | ast.AsyncFunctionDef,
        kind: str,
        owner: str,
    ) -> tuple[str, str]:
        signature = inspect.signature(fn)
        args = tree.args
        rendered: list[str] = []
        forward: list[str] = []
        positional = [*args.posonlyargs, *args.args]
        first = kind in ("method", "classmethod", "init")
        for index, arg in enumerate(positional):
            if first and index == 0:
                rendered.append(arg.arg)
                continue
            if self._dropped(module, arg, signature):
                continue
            rendered.append(self._param(output, module, fn, arg, signature, owner))
            forward.append(arg.arg)
            if args.posonlyargs and arg is args.posonlyargs[-1]:
                rendered.append("/")
        if args.vararg is not None:
            rendered.append("*" + self._param(output, module, fn, args.vararg, signature, owner))
            forward.append("*" + args.vararg.arg)
        elif args.kwonlyargs:
            rendered.append("*")
        for arg in args.kwonlyargs:
            if self._dropped(module, arg, signature):
                continue
            rendered.append(self._param(output, module, fn, arg, signature, owner))
            forward.append(f"{arg.arg}={arg.arg}")
        if rendered and rendered[-1] == "*":
            rendered.pop()
        if args.kwarg is not None:
            rendered.append("**" + self._param(output, module, fn, args.kwarg, signature, owner))
            forward.append("**" + args.kwarg.arg)
        return ", ".join(rendered), ", ".join(forward)

    def _dropped(self, module: str, arg: ast.arg, signature: inspect.Signature) -> bool:
        """Private parameters with defaults, and trio's ``task_status``."""
        parameter = signature.parameters[arg.arg]
        if arg.arg.startswith("_") and parameter.default is not inspect.Parameter.empty:
            return True
        if arg.annotation is not None:
            dotted = _dotted(
                arg.annotation.value
                if isinstance(arg.annotation, ast.Subscript)
                else arg.annotation
            )
            if dotted is not None and _resolve(module, dotted)[1] == "trio.TaskStatus":
                return True
        return False

    def _param(
        self,
        output: Output,
        module: str,
        fn: Any,
        arg: ast.arg,
        signature: inspect.Signature,
        owner: str,
    ) -> str:
        text = arg.arg
        if arg.annotation is not None:
            mapped = self.annotation(output, module, ast.unparse(arg.annotation), owner)
            text += f": {mapped}"
        default = signature.parameters[arg.arg].default
        if default is not inspect.Parameter.empty:
            text += (" = " if arg.annotation is not None else "=") + self._default(
                output, fn, arg.arg, default, owner
            )
        return text

    def _default(self, output: Output, fn: Any, name: str, value: object, owner: str) -> str:
        literal = repr(value)
        try:
            if ast.literal_eval(literal) == value and type(value) in (
                str,
                int,
                float,
                bool,
                tuple,
                type(None),
            ):
                return literal
        except (ValueError, SyntaxError):
            pass
        reference = self._public_reference(output, fn)
        if reference is None:
            raise GenerateError(f"{owner}: default {name}={literal} is not a literal")
        variable = f"_DEFAULTS_{fn.__qualname__.replace('.', '_')}"
        line = f"{variable} = _rt.defaults({reference})"
        if line not in output.defaults:
            output.defaults.append(line)
        return f'{variable}["{name}"]'

    def _public_reference(self, output: Output, fn: Any) -> str | None:
        owner_name = fn.__qualname__.rpartition(".")[0]
        for cls, info in self.twins.items():
            if cls.__qualname__ == owner_name and info.public_ref is not None:
                return f"{info.public_ref}.{fn.__name__}"
        return None

    # -- classes ----------------------------------------------------------------------

    def twin_class(self, info: TwinInfo) -> str:
        cls, output = info.cls, info.output
        is_object = issubclass(cls, self.object_base)
        if is_object:
            base_async = next(
                b for b in cls.__mro__[1:] if b in self.twins or b.__name__ == "ObjectData"
            )
            stop = set(base_async.__mro__)
            bases = self.twins[base_async].name if base_async in self.twins else "_rt.SyncObject"
        else:
            stop = {object}
            mixin = MIXINS.get(_qualified(cls))
            bases = mixin or "_rt.Twin"
        lines = [f"class {info.name}({bases}):\n", _docstring(cls, "    ", summary=True)]
        lines.append("    __slots__ = ()\n\n")
        if is_object:
            lines.append(f"    _async_class = {info.public_ref}\n")
            for attribute in KIND_ATTRIBUTES:
                value = getattr(cls, attribute)
                if value != getattr(base_async, attribute):
                    lines.append(f"    {attribute} = {value!r}\n")
        else:
            lines.append(f'    _async_name = "{_qualified(cls)}"\n')
        lines.append("\n")
        for name, defined_in, value in _members(cls, stop):
            if name == "__init__" and (is_object or info.public_ref is None):
                continue
            if name == "aclose" and _defines(cls, "close"):
                continue
            lines.append(self._member(output, info, name, defined_in, value))
        if not is_object:
            for name, annotation in _instance_attributes(cls, stop):
                if annotation == "Any":
                    output.type_imports["Any"] = "from typing import Any"
                    mapped = annotation
                else:
                    module = _source_module(vars(cls)["__init__"])
                    mapped = self.annotation(output, module, annotation, _qualified(cls))
                lines.append(_property(name, mapped, setter=False, doc=""))
        return "".join(lines)

    def _member(
        self, output: Output, info: TwinInfo, name: str, defined_in: type, value: Any
    ) -> str:
        if isinstance(value, property):
            assert value.fget is not None
            tree = _function_tree(value.fget)
            mapped = "Any"
            if tree.returns is not None:
                mapped = self.annotation(
                    output, _source_module(value.fget), ast.unparse(tree.returns), name
                )
            output.type_imports.setdefault("Any", "from typing import Any")
            return _property(
                name, mapped, setter=value.fset is not None, doc=_docstring(value.fget, "        ")
            )
        if isinstance(value, classmethod):
            return (
                self.function(
                    output, value.__func__, name, kind="classmethod", target="", indent="    "
                )
                + "\n"
            )
        kind = "init" if name == "__init__" else "method"
        return (
            self.function(
                output, value, name, kind=kind, target=info.public_ref or "", indent="    "
            )
            + "\n"
        )

    # -- modules ----------------------------------------------------------------------

    def build(self) -> dict[Path, str]:
        self.plan()
        for module_name, output in self.outputs.items():
            module = importlib.import_module(module_name)
            alias = self._module_alias(output, module_name)
            for name in module.__all__:
                value = getattr(module, name)
                output.names.append(name)
                if isinstance(value, type) and value in self.twins:
                    output.blocks.append(self.twin_class(self.twins[value]))
                elif inspect.isfunction(value) or inspect.isfunction(inspect.unwrap(value)):
                    output.blocks.append(
                        self.function(output, value, name, target=f"{alias}.{name}")
                    )
                else:
                    output.reexports.append((module_name, name))
        while self.pending:
            cls = self.pending.pop(0)
            self.extra.blocks.append(self.twin_class(self.twins[cls]))
            self.extra.names.append(self.twins[cls].name)
        files = {
            output.path: _render(output, DOCS[module]) for module, output in self.outputs.items()
        }
        files[self.extra.path] = _render(self.extra, DOCS[EXTRA[1]])
        return files


def _helper_type(body: str) -> str:
    """The declared return type of the runtime helper a body calls."""
    helper = body[4:].split("(")[0]
    if helper.startswith("iterate"):
        return "PortalIterator[Any]"
    if helper.startswith("enter") and helper != "enter_self":
        return "PortalContextManager[Any]"
    return "Any"


def main(argv: list[str] | None = None, write: Callable[[str], Any] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m kr8s_trio.sync._generate")
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    options = parser.parse_args(argv)
    files = _format(Generator().build())
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if options.check:
        for path in stale:
            write(f"stale: {path} (run python -m kr8s_trio.sync._generate)")
        return 1 if stale else 0
    for path in stale:
        path.write_text(files[path])
        write(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
