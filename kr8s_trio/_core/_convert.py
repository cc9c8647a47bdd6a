"""The project's one cattrs converter, and validation errors that name the offending path.

Kubernetes documents are camelCase (``apiVersion``, ``installHint``) except the kubeconfig's own
fields, which are kebab-case (``certificate-authority-data``, ``current-context``). Keys are
derived from the attrs field names by a hook factory, so a model class says only which style
it uses:

* camelCase is the default (``install_hint`` -> ``installHint``);
* a class decorated with :func:`kebab_keys` uses kebab-case (``proxy_url`` -> ``proxy-url``);
* one field may name its key explicitly with ``attrs.field(metadata={KEY: "tokenFile"})``;
* a trailing underscore is dropped (``as_`` -> ``as``).

The converter is stricter than cattrs' defaults, the way kubectl is: a string field refuses a
number, a boolean refuses ``"yes"``, a list refuses a mapping. ``null`` (a YAML key with no
value) is treated as absent, as Go's decoder does. Unknown keys are ignored.

Errors: :func:`structure` turns cattrs' grouped validation errors into one `ConfigError` whose
message names each offending path in the document's own keys, e.g.
``~/.kube/config: users[0].user.exec.command: required field missing``. Messages never quote
the offending value (it may be a token); only literal choices, which are never secret, are.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Literal, Protocol, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.gen._consts import AttributeOverride

from kr8s_trio._core._exceptions import ConfigError

__all__ = [
    "KEY",
    "InvalidValue",
    "converter",
    "describe",
    "kebab_keys",
    "key_of",
    "structure",
    "validation_problems",
]

T = TypeVar("T")


class _StructureFactory(Protocol):
    def __call__(
        self, cl: type, converter: cattrs.Converter, /, **overrides: AttributeOverride
    ) -> Callable[[Mapping[str, object], type], object]: ...


class _UnstructureFactory(Protocol):
    def __call__(
        self, cl: type, converter: cattrs.Converter, /, **overrides: AttributeOverride
    ) -> Callable[[object], object]: ...


# cattrs types ``**overrides`` together with its boolean options; these say only what we use
_make_structure = typing.cast(_StructureFactory, make_dict_structure_fn)
_make_unstructure = typing.cast(_UnstructureFactory, make_dict_unstructure_fn)

#: The ``attrs.field`` metadata entry that names a field's key explicitly.
KEY = "kr8s_trio.key"

_KEBAB: set[type] = set()


class InvalidValue(ValueError):
    """A value has the wrong shape; the message says what was expected (never the value)."""


def kebab_keys(cls: type[T]) -> type[T]:
    """Class decorator: this attrs class's keys are kebab-case (the kubeconfig's style)."""
    _KEBAB.add(cls)
    return cls


def key_of(cls: type, field: attrs.Attribute[object]) -> str:
    """The document key of ``field`` of the attrs class ``cls``."""
    explicit = field.metadata.get(KEY)
    if isinstance(explicit, str):
        return explicit
    words = field.name.rstrip("_").split("_")
    if cls in _KEBAB:
        return "-".join(words)
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def describe(value: object) -> str:
    """What kind of YAML/JSON value ``value`` is (``a string``, ``a list``...), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _expect(kind: type, wanted: str) -> Callable[[object, type], object]:
    def check(value: object, _: type) -> object:
        # bool is an int subclass: an integer field must still refuse ``true``.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidValue(f"expected {wanted}, got {describe(value)}")
        return value

    return check


def _is_literal(tp: object) -> bool:
    return typing.get_origin(tp) is Literal


def _literal_hook(tp: object) -> Callable[[object, type], object]:
    choices = typing.get_args(tp)

    def check(value: object, _: type) -> object:
        if value not in choices or type(value) is not type(choices[0]):
            allowed = ", ".join(repr(choice) for choice in choices)
            got = repr(value) if isinstance(value, str) else describe(value)
            raise InvalidValue(f"must be one of {allowed}, got {got}")
        return value

    return check


def _is_list_or_tuple(tp: object) -> bool:
    origin = typing.get_origin(tp)
    if origin is list:
        return True
    args = typing.get_args(tp)
    return origin is tuple and len(args) == 2 and args[1] is Ellipsis


def _sequence_hook(tp: type) -> Callable[[object, type], object]:
    make = (
        list_structure_factory
        if typing.get_origin(tp) is list
        else (homogenous_tuple_structure_factory)
    )
    inner = make(tp, converter)

    def structure_sequence(value: object, _: type) -> object:
        if not isinstance(value, list | tuple):
            raise InvalidValue(f"expected a list, got {describe(value)}")
        return inner(value, tp)

    return structure_sequence


def _is_mapping(tp: object) -> bool:
    return typing.get_origin(tp) in (dict, Mapping)


def _mapping_hook(tp: type) -> Callable[[object, type], object]:
    inner = converter.gen_structure_mapping(tp)

    def structure_mapping(value: object, _: type) -> object:
        if not isinstance(value, Mapping):
            raise InvalidValue(f"expected a mapping, got {describe(value)}")
        return inner(value, tp)

    return structure_mapping


def _attrs_structure_hook(cls: type) -> Callable[[object, type], object]:
    renames = {f.name: override(rename=key_of(cls, f)) for f in attrs.fields(cls)}
    inner = _make_structure(cls, converter, **renames)

    def structure_attrs(value: object, _: type) -> object:
        if not isinstance(value, Mapping):
            raise InvalidValue(f"expected a mapping, got {describe(value)}")
        # null means "not set" (Go's zero value), so the field's default applies
        return inner({k: v for k, v in value.items() if v is not None}, cls)

    return structure_attrs


def _attrs_unstructure_hook(cls: type) -> Callable[[object], object]:
    renames = {
        f.name: override(rename=key_of(cls, f), omit_if_default=True) for f in attrs.fields(cls)
    }
    return _make_unstructure(cls, converter, **renames)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    conv.register_structure_hook(str, _expect(str, "a string"))
    conv.register_structure_hook(bool, _expect(bool, "a boolean"))
    conv.register_structure_hook(int, _expect(int, "an integer"))
    # (a predicate, not a type: dispatching on ``object`` would catch every class)
    conv.register_structure_hook_func(lambda tp: tp is object, lambda value, _: value)
    conv.register_structure_hook_factory(_is_literal, _literal_hook)
    conv.register_structure_hook_factory(_is_list_or_tuple, _sequence_hook)
    conv.register_structure_hook_factory(_is_mapping, _mapping_hook)
    conv.register_structure_hook_factory(attrs.has, _attrs_structure_hook)
    conv.register_unstructure_hook_factory(attrs.has, _attrs_unstructure_hook)
    return conv


#: The converter every kr8s_trio model goes through (documents in, documents out).
converter = _make_converter()


def validation_problems(exc: BaseException, path: str = "") -> list[tuple[str, str]]:
    """Flatten a (grouped) structuring error into ``(path, problem)`` pairs.

    Paths use the document's keys (``users[0].user.exec.command``), not Python field names.
    """
    if isinstance(exc, ClassValidationError):
        keys = {f.name: key_of(exc.cl, f) for f in attrs.fields(exc.cl)}
        found: list[tuple[str, str]] = []
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            key = keys.get(note.name, note.name)
            found += validation_problems(inner, f"{path}.{key}" if path else key)
        for inner in without:
            found += validation_problems(inner, path)
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        items, rest = exc.group_exceptions()
        for inner, item in items:
            found += validation_problems(inner, f"{path}[{item.index}]")
        for inner in rest:
            found += validation_problems(inner, path)
        return found
    return [(path, _problem(exc))]


def _problem(exc: BaseException) -> str:
    if isinstance(exc, InvalidValue | ConfigError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    # anything else could quote the value: name the kind of failure only
    return f"invalid value ({type(exc).__name__})"


def structure(data: object, cls: type[T], *, source: str, path: str = "") -> T:
    """Structure ``data`` into ``cls``, raising `ConfigError` that names every bad path.

    Args:
        data: The decoded document (or a part of it).
        cls: The attrs class (or any type the converter knows) to build.
        source: Where the document came from (a file path, ``<dict>``), put first in messages.
        path: Where ``data`` sits in its document (``users[2].user.auth-provider.config``), the
            prefix of the reported paths.

    Raises:
        ConfigError: ``data`` does not fit ``cls``; the message lists ``path: problem`` pairs.
    """
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # cattrs raises ExceptionGroups and plain errors alike
        problems = validation_problems(exc, path)
        detail = "; ".join(f"{where}: {what}" if where else what for where, what in problems)
        raise ConfigError(f"{source}: {detail}") from None
