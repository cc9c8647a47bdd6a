"""The ``wait()`` condition language of kr8s (``kubectl wait --for=...`` syntax), sans-IO.

`parse_conditions` turns condition text into a `Conditions` value whose `Conditions.check` tells,
for one snapshot of an object (its raw dict, or None once it is gone), whether the wait is over.
The I/O layer refreshes/watches the object and calls `check` on every new version.

Syntax (each is one condition; a wait takes one or a list):

``condition=<type>`` / ``condition=<type>=<status>``
    ``status.conditions[]`` has an entry whose ``type`` equals ``<type>`` (compared without case,
    as kubectl does) and whose ``status`` equals ``<status>`` (default ``True``; ``true`` and
    ``false`` are accepted in any case, any other status text is compared as is). Like kubectl,
    a condition is stale (not satisfied) while its ``observedGeneration`` (or else
    ``status.observedGeneration``) is below ``metadata.generation``.
``delete``
    The object is gone.
``create``
    The object exists (kubectl's ``--for=create``).
``jsonpath=<path>=<value>``
    The path selects a scalar whose Go-printed text (``3``, ``true``, ``Running``) equals
    ``<value>``, surrounding spaces ignored. ``<path>`` may be quoted and braced or not:
    ``jsonpath='{.status.phase}'=Running``, ``jsonpath={.status.phase}=Running`` and
    ``jsonpath=.status.phase=Running`` are the same condition. Quotes around ``<value>`` are
    dropped. Maps and lists never equal a value; nor does a JSON null.
``jsonpath=<path>``
    (no value) The path selects something, whatever its value (kubectl 1.31 semantics).

Differences from kr8s/kubectl, on purpose: a path that selects nothing means "not yet" (kr8s
raises ValueError); a path that selects several values is satisfied when any of them matches
(kubectl and kr8s raise). Pure functions and frozen values, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeAlias

import attrs

from ._jsonpath import find_jsonpath, go_string, relaxed_jsonpath

__all__ = [
    "Condition",
    "Conditions",
    "Created",
    "Deleted",
    "JSONPathCondition",
    "StatusCondition",
    "WaitMode",
    "parse_condition",
    "parse_conditions",
]

WaitMode: TypeAlias = Literal["any", "all"]

_EXPECTED = "expected condition=<type>[=<status>], delete, create or jsonpath='{<path>}'[=<value>]"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@attrs.frozen
class StatusCondition:
    """``condition=<type>=<status>``: an entry of ``status.conditions`` has that status."""

    type: str
    status: str = "True"

    def holds(self, raw: Mapping[str, object] | None) -> bool:
        """Whether ``raw`` (None: the object is gone) satisfies the condition."""
        if raw is None:
            return False
        status = raw.get("status")
        conditions = status.get("conditions") if isinstance(status, Mapping) else None
        if not isinstance(conditions, list):
            return False
        metadata = raw.get("metadata")
        generation = _int(metadata.get("generation")) if isinstance(metadata, Mapping) else None
        for entry in conditions:
            if not isinstance(entry, Mapping):
                continue
            kind, value = entry.get("type"), entry.get("status")
            if not isinstance(kind, str) or kind.casefold() != self.type.casefold():
                continue
            if not isinstance(value, str):
                continue
            if generation is not None:
                observed = _int(entry.get("observedGeneration"))
                if observed is None and isinstance(status, Mapping):
                    observed = _int(status.get("observedGeneration"))
                if observed is not None and observed < generation:
                    return False
            if self.status in ("True", "False"):
                return value.casefold() == self.status.casefold()
            return value == self.status
        return False

    def __str__(self) -> str:
        return f"condition={self.type}={self.status}"


@attrs.frozen
class Deleted:
    """``delete``: the object is gone."""

    def holds(self, raw: Mapping[str, object] | None) -> bool:
        """Whether ``raw`` (None: the object is gone) satisfies the condition."""
        return raw is None

    def __str__(self) -> str:
        return "delete"


@attrs.frozen
class Created:
    """``create``: the object exists."""

    def holds(self, raw: Mapping[str, object] | None) -> bool:
        """Whether ``raw`` (None: the object is gone) satisfies the condition."""
        return raw is not None

    def __str__(self) -> str:
        return "create"


@attrs.frozen
class JSONPathCondition:
    """``jsonpath='{<expression>}'[=<value>]``; ``expression`` is kept braced (``{.a.b}``)."""

    expression: str
    value: str | None = None

    def holds(self, raw: Mapping[str, object] | None) -> bool:
        """Whether ``raw`` (None: the object is gone) satisfies the condition."""
        if raw is None:
            return False
        found = find_jsonpath(raw, self.expression)
        if self.value is None:
            return bool(found)
        want = self.value.strip()
        return any(
            v is not None and not isinstance(v, Mapping | list) and go_string(v).strip() == want
            for v in found
        )

    def __str__(self) -> str:
        text = f"jsonpath='{self.expression}'"
        return text if self.value is None else f"{text}={self.value}"


Condition: TypeAlias = StatusCondition | Deleted | Created | JSONPathCondition


@attrs.frozen
class Conditions:
    """Parsed wait conditions and how they combine (``any``: one suffices; ``all``: every one)."""

    items: tuple[Condition, ...]
    mode: WaitMode = "any"

    def check(self, raw: Mapping[str, object] | None) -> bool:
        """Whether the wait is over for this snapshot (``raw`` is None once the object is gone)."""
        results = (c.holds(raw) for c in self.items)
        return any(results) if self.mode == "any" else all(results)

    def unmet(self, raw: Mapping[str, object] | None) -> list[Condition]:
        """The conditions that do not hold for this snapshot (for timeout messages)."""
        return [c for c in self.items if not c.holds(raw)]

    @property
    def waits_for_deletion(self) -> bool:
        """Whether ``delete`` is among the conditions."""
        return any(isinstance(c, Deleted) for c in self.items)

    @property
    def satisfied_by_deletion(self) -> bool:
        """Whether the object being gone ends the wait successfully.

        True in ``any`` mode with ``delete`` among the conditions, and in ``all`` mode when every
        condition is ``delete``. When False, a 404 means the wait can never succeed.
        """
        return self.check(None)

    def __str__(self) -> str:
        return ", ".join(str(c) for c in self.items) + f" ({self.mode})"


def parse_conditions(conditions: str | Sequence[str], mode: str = "any") -> Conditions:
    """Parse ``wait()`` conditions (one string or a list) combined by ``mode``.

    Args:
        conditions: condition text(s), see the module docstring.
        mode: ``"any"`` (the default: one condition suffices) or ``"all"``.

    Returns:
        The parsed conditions, in the order given.

    Raises:
        ValueError: an unknown mode, no conditions, a malformed condition (the message quotes
            it and says why), or ``all`` mode mixing ``delete`` with conditions that need the
            object to exist (such a wait could never end).
        TypeError: a condition is not a string.
    """
    if mode not in ("any", "all"):
        raise ValueError(f"invalid wait mode {mode!r}: expected 'any' or 'all'")
    texts = [conditions] if isinstance(conditions, str) else list(conditions)
    if not texts:
        raise ValueError("no wait conditions given")
    items = tuple(parse_condition(t) for t in texts)
    if mode == "all" and any(isinstance(c, Deleted) for c in items):
        others = [str(c) for c in items if not isinstance(c, Deleted)]
        if others:
            raise ValueError(
                f"conditions 'delete' and {others[0]!r} can never hold together "
                "(mode 'all' needs the object gone and present at once)"
            )
    return Conditions(items, "any" if mode == "any" else "all")


def parse_condition(text: str) -> Condition:
    """Parse one condition (see the module docstring).

    Raises:
        ValueError: the text is not a condition; the message quotes it and says why.
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"a wait condition must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if stripped in ("delete", "create"):
        return Deleted() if stripped == "delete" else Created()
    if stripped.startswith("condition="):
        name, sep, status = stripped.removeprefix("condition=").partition("=")
        if not name.strip():
            raise ValueError(f"invalid condition {text!r}: the condition type is empty")
        if sep and not status.strip():
            raise ValueError(f"invalid condition {text!r}: the status after '=' is empty")
        status = status.strip() if sep else "True"
        if status.casefold() in ("true", "false"):
            status = status.title()
        return StatusCondition(name.strip(), status)
    if stripped.startswith("jsonpath="):
        expression, value = _split_jsonpath(text, stripped.removeprefix("jsonpath="))
        try:
            braced = relaxed_jsonpath(expression)
        except ValueError as exc:
            raise ValueError(f"invalid condition {text!r}: {exc}") from None
        return JSONPathCondition(braced, value)
    raise ValueError(f"unknown condition {text!r}: {_EXPECTED}")


def _split_jsonpath(text: str, spec: str) -> tuple[str, str | None]:
    """Split ``<path>[=<value>]`` at the first ``=`` outside quotes and brackets."""
    quote = spec[:1] if spec[:1] in ("'", '"') else ""
    start = len(quote)
    depth, inner, end, rest = 0, "", -1, ""
    for i in range(start, len(spec)):
        ch = spec[i]
        if inner:
            inner = "" if ch == inner else inner
        elif depth and ch in "'\"":
            inner = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth < 0:
                raise ValueError(f"invalid condition {text!r}: unbalanced {ch!r} in the path")
        elif not depth and ((quote and ch == quote) or (not quote and ch == "=")):
            end, rest = i, spec[i + len(quote) :]
            break
    if end < 0:
        if quote or depth or inner:
            raise ValueError(f"invalid condition {text!r}: unterminated quote or bracket")
        end = len(spec)
    expression = spec[start:end]
    if not expression.strip():
        raise ValueError(f"invalid condition {text!r}: the JSONPath expression is empty")
    if not rest:
        return expression, None
    if not rest.startswith("="):
        raise ValueError(f"invalid condition {text!r}: unexpected {rest!r} after the path")
    value = rest[1:].strip().strip("'\"").strip()
    if not value:
        raise ValueError(f"invalid condition {text!r}: the value after '=' is empty")
    return expression, value
