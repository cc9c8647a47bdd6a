"""Field selectors: parse, build, print and match them the way kube-apiserver does.

The grammar is apimachinery's ``fields/selector.go``: terms joined by ``,`` (all must hold), each
``field=value``, ``field==value`` or ``field!=value``, with ``\\``, ``\\,`` and ``\\=`` escaped in
values. Which fields a kind supports is the server's business; a field missing from an object
counts as ``""``, and a term whose name and value are both empty (``=``) is dropped, as the real
server does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias

import attrs

from ._exceptions import SelectorError

__all__ = ["FieldOperator", "FieldRequirement", "FieldSelector"]

FieldOperator: TypeAlias = Literal["=", "!="]


def _to_field_operator(operator: str) -> str:
    return "=" if operator == "==" else operator


def _has_unescaped_comma(text: str) -> bool:
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            return True
    return False


def _escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(raw: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in raw:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            # Go prints the rune as a number here (%v of a rune).
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


@attrs.frozen
class FieldRequirement:
    """One term of a field selector: ``field`` equals (``=``) or differs from (``!=``) ``value``.

    Construction rejects what the text form cannot carry: a field name containing ``=``, an
    unescaped ``,`` or ending in ``!``, and the empty term (empty field and empty value).
    """

    field: str
    operator: FieldOperator = attrs.field(converter=_to_field_operator)
    value: str

    def __attrs_post_init__(self) -> None:
        where = f"field selector term {self.field!r}"
        if self.operator not in ("=", "!="):
            raise SelectorError(f"{where}: operator {self.operator!r} is not one of '=', '!='")
        if "=" in self.field or self.field.endswith("!") or _has_unescaped_comma(self.field):
            raise SelectorError(f"{where}: a field name cannot contain '=' or ',' or end in '!'")
        if not self.field and not self.value:
            raise SelectorError(f"{where}: the field name and the value are both empty")

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether the object's selectable ``fields`` satisfy the term (missing means ``""``)."""
        return (fields.get(self.field, "") == self.value) == (self.operator == "=")

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{_escape_field_value(self.value)}"


def _field_order(r: FieldRequirement) -> tuple[str, str, str]:
    return (r.field, r.operator, r.value)


def _sorted_field_requirements(reqs: Iterable[FieldRequirement]) -> tuple[FieldRequirement, ...]:
    return tuple(sorted(reqs, key=_field_order))


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    start, escaped = 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


@attrs.frozen
class FieldSelector:
    """A field selector: every term must hold. ``FieldSelector.parse(str(s)) == s``."""

    requirements: tuple[FieldRequirement, ...] = attrs.field(
        default=(), converter=_sorted_field_requirements
    )

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        """Parse the text form (the ``fieldSelector`` query parameter).

        Args:
            text: terms joined by ``,``, each ``field=value``, ``field==value`` or
                ``field!=value``; ``\\``, ``,`` and ``=`` in values are escaped with ``\\``.

        Returns:
            The selector (``""`` selects everything).

        Raises:
            SelectorError: a term does not parse; the message is kube-apiserver's.
        """
        found: list[FieldRequirement] = []
        # apimachinery looks at the terms in sorted order, which decides which error is reported.
        for part in sorted(_split_terms(text)):
            if not part:
                continue
            split = _split_term(part)
            if split is None:
                raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
            field, op, raw = split
            value = _unescape_field_value(raw)
            if field or value:
                found.append(FieldRequirement(field, op, value))
        return cls(found)

    @classmethod
    def from_mapping(cls, fields: Mapping[str, str]) -> FieldSelector:
        """A selector requiring ``field=value`` for every item of ``fields``."""
        return cls(FieldRequirement(field, "=", value) for field, value in fields.items())

    @property
    def fields(self) -> frozenset[str]:
        """The field names the selector uses (the server checks them against the kind)."""
        return frozenset(r.field for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector has no terms (it selects everything)."""
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether an object whose selectable field values are ``fields`` satisfies every term."""
        return all(r.matches(fields) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)
