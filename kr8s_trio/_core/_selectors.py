"""Label and field selectors: parse, build, print and match them the way kube-apiserver does.

The fake API server parses the ``labelSelector`` and ``fieldSelector`` query parameters with this
module and answers 400 with the `SelectorError` message, so the grammar, the semantics and the
messages follow apimachinery (``labels/selector.go``, ``fields/selector.go``, the label key and
value rules of ``api/validate/content``). The client uses the same classes to build selectors from
dicts and from Kubernetes ``LabelSelector`` objects, so it rejects early what the server would.

Semantics worth knowing:

* ``!=`` and ``notin`` match objects that do not have the key; ``=``, ``==``, ``in``, ``gt`` and
  ``lt`` need it. ``x in ()`` is not an error: like apimachinery it reads as ``x in ("")``.
* ``gt``/``lt`` compare 64-bit integers; a label value that is not one never matches.
* A field missing from the object counts as ``""``. A field term whose name and value are both
  empty (``=``) is dropped, as the real server does.

Deliberate differences from apimachinery: requirements are kept in a canonical order (sorted)
so that equal selectors compare equal, ``==`` is stored as ``=``, and a NUL character is an
ordinary (invalid) character rather than the end of the text.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias

import attrs

from ._exceptions import SelectorError
from ._names import (
    aggregate,
    go_quote,
    go_strings,
    invalid_text,
    label_key_errors,
    label_value_errors,
    parse_int64,
)

__all__ = [
    "LabelOperator",
    "LabelRequirement",
    "LabelSelector",
]

LabelOperator: TypeAlias = Literal["=", "!=", "in", "notin", "exists", "!", "gt", "lt"]

_LABEL_OPERATORS: dict[str, LabelOperator] = {
    op: op for op in ("=", "!=", "in", "notin", "exists", "!", "gt", "lt")
}
# apimachinery's validRequirementOperators, in its order (used in the "Unsupported value" text).
_GO_OPERATORS = ("in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!")
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"

# --- label requirements and selectors ---------------------------------------------------------


def _to_label_operator(operator: str) -> str:
    return "=" if operator == "==" else operator


def _to_values(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise SelectorError(f"values: expected a sequence of strings, got the string {values!r}")
    return tuple(sorted(set(values)))


@attrs.frozen
class LabelRequirement:
    """One term of a label selector: ``key``, an operator and its values.

    The values are kept sorted and without duplicates (they are a set). Construction validates
    like apimachinery's ``NewRequirement`` and raises `SelectorError` with its message.

    Attributes:
        key: the label key, ``[prefix/]name``.
        operator: ``=``, ``!=``, ``in``, ``notin``, ``exists``, ``!`` (does not exist), ``gt``
            or ``lt``; ``==`` is accepted and stored as ``=``.
        values: one value for ``=``, ``!=``, ``gt``, ``lt``; at least one for ``in``/``notin``;
            none for ``exists`` and ``!``.
    """

    key: str
    operator: LabelOperator = attrs.field(converter=_to_label_operator)
    values: tuple[str, ...] = attrs.field(default=(), converter=_to_values)

    def __attrs_post_init__(self) -> None:
        errors = _requirement_errors(self.key, self.operator, self.values)
        if errors:
            raise SelectorError(aggregate(errors))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with these labels satisfies the requirement.

        Args:
            labels: the object's labels.

        Returns:
            True when the requirement holds; ``!=``, ``notin`` and ``!`` hold when the key is
            absent, every other operator needs it.
        """
        op = self.operator
        present = self.key in labels
        if op == "exists" or op == "!":
            return present == (op == "exists")
        if not present:
            return op in ("!=", "notin")
        value = labels[self.key]
        if op in ("=", "in"):
            return value in self.values
        if op in ("!=", "notin"):
            return value not in self.values
        have, want = parse_int64(value), parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if op == "gt" else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return "!" + self.key
        if op in ("in", "notin"):
            return f"{self.key} {op} ({','.join(self.values)})"
        symbol = {"gt": ">", "lt": "<"}.get(op, op)
        return f"{self.key}{symbol}{self.values[0]}"


def _requirement_errors(key: str, operator: str, values: tuple[str, ...]) -> list[str]:
    """Errors of apimachinery's ``NewRequirement`` (no path), in its order."""
    errors: list[str] = []
    if key_errors := label_key_errors(key):
        errors.append(invalid_text("key", go_quote(key), "; ".join(key_errors)))
    shown = go_strings(values)
    if operator in ("in", "notin"):
        if not values:
            detail = "for 'in', 'notin' operators, values set can't be empty"
            errors.append(invalid_text("values", shown, detail))
    elif operator in ("=", "!="):
        if len(values) != 1:
            detail = "exact-match compatibility requires one single value"
            errors.append(invalid_text("values", shown, detail))
    elif operator in ("exists", "!"):
        if values:
            detail = "values set must be empty for exists and does not exist"
            errors.append(invalid_text("values", shown, detail))
    elif operator in ("gt", "lt"):
        if len(values) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            errors.append(invalid_text("values", shown, detail))
        for i, value in enumerate(values):
            if parse_int64(value) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errors.append(invalid_text(f"values[{i}]", go_quote(value), detail))
    else:
        supported = ", ".join(go_quote(op) for op in _GO_OPERATORS)
        errors.append(
            f"operator: Unsupported value: {go_quote(operator)}: supported values: {supported}"
        )
    for i, value in enumerate(values):
        if value_errors := label_value_errors(value):
            path = f"values[{i}][{key}]"
            errors.append(invalid_text(path, go_quote(value), "; ".join(value_errors)))
    return errors


def _requirement_order(r: LabelRequirement) -> tuple[str, str, tuple[str, ...]]:
    return (r.key, r.operator, r.values)


def _sorted_requirements(reqs: Iterable[LabelRequirement]) -> tuple[LabelRequirement, ...]:
    return tuple(sorted(reqs, key=_requirement_order))


_EXPRESSION_OPERATORS: dict[str, LabelOperator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


@attrs.frozen
class LabelSelector:
    """A label selector: every requirement must hold (logical AND).

    Requirements are kept sorted, so selectors that differ only in term order compare equal.
    ``str(selector)`` is the canonical text, and ``LabelSelector.parse(str(s)) == s``.
    """

    requirements: tuple[LabelRequirement, ...] = attrs.field(
        default=(), converter=_sorted_requirements
    )

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse the text form (the ``labelSelector`` query parameter).

        Args:
            text: e.g. ``"app=web,tier in (a,b),!legacy,version>2"``; ``""`` selects everything.

        Returns:
            The selector.

        Raises:
            SelectorError: the text does not parse; the message is kube-apiserver's.
        """
        return cls(_LabelParser(text).parse())

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        """A selector requiring every ``key=value`` of ``labels`` (``{}`` selects everything).

        Raises:
            SelectorError: a key or value is not a valid label key or value.
        """
        return cls(LabelRequirement(key, "=", (value,)) for key, value in labels.items())

    @classmethod
    def from_label_selector(
        cls, selector: Mapping[str, object] | None, *, path: str = ""
    ) -> LabelSelector:
        """Convert a Kubernetes ``LabelSelector`` object (``matchLabels``/``matchExpressions``).

        ``None`` and ``{}`` select everything. (apimachinery's ``LabelSelectorAsSelector`` maps
        a nil selector to "nothing"; callers that need that must check for None themselves.)

        Args:
            selector: the object as decoded from JSON.
            path: where the object sits, prefixed to error paths (e.g. ``"spec.selector"``).

        Returns:
            The equivalent selector.

        Raises:
            SelectorError: the object is malformed; every problem is reported with its path
                (``matchExpressions[1].values: Required value: ...``).
        """
        if selector is None:
            return cls()
        base = path + "." if path else ""
        errors: list[str] = []
        requirements: list[LabelRequirement] = []
        for name in selector:
            if name not in ("matchLabels", "matchExpressions"):
                errors.append(
                    f"{base}{name}: unknown field (a label selector has matchLabels and "
                    "matchExpressions)"
                )
        labels = selector.get("matchLabels")
        if labels is not None:
            requirements += _match_labels(labels, base + "matchLabels", errors)
        expressions = selector.get("matchExpressions")
        if expressions is not None:
            requirements += _match_expressions(expressions, base + "matchExpressions", errors)
        if errors:
            raise SelectorError(aggregate(errors))
        return cls(requirements)

    @property
    def empty(self) -> bool:
        """True when the selector has no requirements (it selects everything)."""
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with ``labels`` (None meaning none) satisfies every requirement."""
        found = labels if labels is not None else {}
        return all(r.matches(found) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _match_labels(labels: object, path: str, errors: list[str]) -> list[LabelRequirement]:
    if not isinstance(labels, Mapping):
        errors.append(f"{path}: Invalid value: expected an object of strings")
        return []
    found: list[LabelRequirement] = []
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            errors.append(f"{path}[{key}]: Invalid value: {value!r}: expected a string")
            continue
        before = len(errors)
        errors.extend(invalid_text(path, go_quote(key), msg) for msg in label_key_errors(key))
        errors.extend(invalid_text(path, go_quote(value), msg) for msg in label_value_errors(value))
        if len(errors) == before:
            found.append(LabelRequirement(key, "=", (value,)))
    return found


def _match_expressions(exprs: object, path: str, errors: list[str]) -> list[LabelRequirement]:
    if not isinstance(exprs, list | tuple):
        errors.append(f"{path}: Invalid value: expected a list of requirements")
        return []
    found: list[LabelRequirement] = []
    for index, expr in enumerate(exprs):
        where = f"{path}[{index}]"
        if not isinstance(expr, Mapping):
            errors.append(f"{where}: Invalid value: expected an object")
            continue
        before = len(errors)
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values")
        if values is None:
            values = []
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            errors.append(f"{where}.values: Invalid value: expected a list of strings")
            values = []
        strings = [v for v in values if isinstance(v, str)]
        op = _EXPRESSION_OPERATORS.get(operator) if isinstance(operator, str) else None
        if op in ("in", "notin") and not strings:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errors.append(f"{where}.values: Required value: {detail}")
        elif op in ("exists", "!") and strings:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errors.append(f"{where}.values: Forbidden: {detail}")
        elif op is None:
            shown = go_quote(operator) if isinstance(operator, str) else repr(operator)
            errors.append(invalid_text(f"{where}.operator", shown, "not a valid selector operator"))
        if not isinstance(key, str):
            errors.append(f"{where}.key: Required value: expected a string")
        else:
            errors.extend(
                invalid_text(f"{where}.key", go_quote(key), msg) for msg in label_key_errors(key)
            )
        for i, value in enumerate(strings):
            errors.extend(
                invalid_text(f"{where}.values[{i}]", go_quote(value), msg)
                for msg in label_value_errors(value)
            )
        if len(errors) == before and op is not None and isinstance(key, str):
            found.append(LabelRequirement(key, op, strings))
    return found


# --- the label selector lexer and parser (apimachinery's grammar and messages) ---------------


class _Tok(enum.Enum):
    END = "end"
    IDENT = "identifier"
    OPEN = "("
    CLOSE = ")"
    COMMA = ","
    NOT = "!"
    EQ = "="
    DEQ = "=="
    NEQ = "!="
    GT = ">"
    LT = "<"
    IN = "in"
    NOTIN = "notin"


_SPECIAL = frozenset("=!(),<>")
_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS = {t.value: t for t in (_Tok.OPEN, _Tok.CLOSE, _Tok.COMMA, _Tok.NOT, _Tok.EQ)}
_SYMBOLS |= {t.value: t for t in (_Tok.DEQ, _Tok.NEQ, _Tok.GT, _Tok.LT)}
_KEYWORDS = {"in": _Tok.IN, "notin": _Tok.NOTIN}
_OPERATOR_TOKENS: dict[_Tok, LabelOperator] = {
    _Tok.IN: "in",
    _Tok.NOTIN: "notin",
    _Tok.EQ: "=",
    _Tok.DEQ: "=",
    _Tok.NEQ: "!=",
    _Tok.GT: "gt",
    _Tok.LT: "lt",
}


def _lex(text: str) -> list[tuple[_Tok, str]]:
    """Split selector text into tokens; symbols are matched longest first (``!=`` over ``!``)."""
    tokens: list[tuple[_Tok, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos == end:
            tokens.append((_Tok.END, ""))
            return tokens
        if text[pos] in _SPECIAL:
            # Every single special character is a token, so the first step always matches.
            stop, probe = pos + 1, pos + 2
            while probe <= end and text[probe - 1] in _SPECIAL and text[pos:probe] in _SYMBOLS:
                stop, probe = probe, probe + 1
            tokens.append((_SYMBOLS[text[pos:stop]], text[pos:stop]))
            pos = stop
            continue
        start = pos
        while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        tokens.append((_KEYWORDS.get(word, _Tok.IDENT), word))


class _LabelParser:
    """Recursive descent over the token list; ``values`` context reads in/notin as identifiers."""

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._pos = 0

    def _peek(self, values: bool = True) -> tuple[_Tok, str]:
        tok, lit = self._tokens[self._pos]
        return (_Tok.IDENT if values and tok in (_Tok.IN, _Tok.NOTIN) else tok), lit

    def _next(self, values: bool = True) -> tuple[_Tok, str]:
        item = self._peek(values)
        self._pos = min(self._pos + 1, len(self._tokens) - 1)
        return item

    def parse(self) -> list[LabelRequirement]:
        found: list[LabelRequirement] = []
        while True:
            tok, lit = self._peek()
            if tok is _Tok.END:
                return found
            if tok not in (_Tok.IDENT, _Tok.NOT):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                found.append(self._requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            tok, lit = self._next()
            if tok is _Tok.END:
                return found
            if tok is not _Tok.COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self._peek()
            if tok not in (_Tok.IDENT, _Tok.NOT):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> LabelRequirement:
        tok, key = self._next()
        negated = tok is _Tok.NOT
        if negated:
            tok, key = self._next()
        if tok is not _Tok.IDENT:
            raise SelectorError(f"found '{key}', expected: identifier")
        if key_errors := label_key_errors(key):
            raise SelectorError(invalid_text("<nil>", go_quote(key), "; ".join(key_errors)))
        if negated or self._peek()[0] in (_Tok.END, _Tok.COMMA):
            return LabelRequirement(key, "!" if negated else "exists")
        tok, lit = self._next(values=False)
        operator = _OPERATOR_TOKENS.get(tok)
        if operator is None:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        values = self._value_set() if operator in ("in", "notin") else [self._exact_value()]
        return LabelRequirement(key, operator, values)

    def _exact_value(self) -> str:
        if self._peek()[0] in (_Tok.END, _Tok.COMMA):
            return ""
        tok, lit = self._next()
        if tok is not _Tok.IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        return lit

    def _value_set(self) -> list[str]:
        tok, lit = self._next()
        if tok is not _Tok.OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok is _Tok.CLOSE:  # "()" reads as the set {""}
            self._next()
            return [""]
        if tok not in (_Tok.IDENT, _Tok.COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        found: list[str] = []
        while True:
            tok, lit = self._next()
            if tok is _Tok.IDENT:
                found.append(lit)
                after, after_lit = self._peek()
                if after is _Tok.CLOSE:
                    break
                if after is not _Tok.COMMA:
                    raise SelectorError(f"found '{after_lit}', expected: ',' or ')'")
            elif tok is _Tok.COMMA:  # empty values around commas: "(,a)", "(a,,b)", "(a,)"
                if not found:
                    found.append("")
                after = self._peek()[0]
                if after is _Tok.CLOSE:
                    found.append("")
                    break
                if after is _Tok.COMMA:
                    self._next()
                    found.append("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")
        self._next()  # the ")"
        return found
