"""Whether a pod may run on a node: node name, node selector, required node affinity, taints.

The DaemonSet controller decides which nodes get a daemon pod with the scheduler's own
predicates (``NodeShouldRunDaemonPod``), and pins each pod to its node with a
``matchFields`` node-affinity term on ``metadata.name``, which the scheduler then honours. These
are those predicates, as pure functions of pod specs and Node dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._selectors import LabelOperator, LabelRequirement

__all__ = [
    "affinity_for_node",
    "fits_node",
    "node_affinity_target",
    "selects_node",
    "tolerates",
    "untolerated_taints",
]

JSONObject = dict[str, Any]
Obj = Mapping[str, Any]


# The API's node-selector operators as label-selector operators (matchExpressions).
_LABEL_OPERATORS: dict[str, LabelOperator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
    "Gt": "gt",
    "Lt": "lt",
}


def _expression_matches(req: Obj, labels: Mapping[str, str]) -> bool:
    """A ``matchExpressions`` requirement holds for the node's labels; like the scheduler, one
    that is not a valid label requirement matches nothing."""
    key, operator = req.get("key"), _LABEL_OPERATORS.get(str(req.get("operator")))
    if not isinstance(key, str) or operator is None:
        return False
    try:
        requirement = LabelRequirement(key, operator, [str(v) for v in req.get("values") or []])
    except SelectorError:
        return False
    return requirement.matches(labels)


def _field_matches(req: Obj, fields: Mapping[str, str]) -> bool:
    """A ``matchFields`` requirement (``metadata.name``) holds. Field values are node names (up
    to 253 characters), not label values, so this does not go through `LabelRequirement`."""
    key, operator = req.get("key"), req.get("operator")
    values = [str(v) for v in req.get("values") or []]
    value = fields.get(key) if isinstance(key, str) else None
    match operator:
        case "In":
            return value is not None and value in values
        case "NotIn":
            return value is None or value not in values
        case "Exists":
            return value is not None
        case "DoesNotExist":
            return value is None
        case "Gt" | "Lt":
            try:
                have, want = int(value or ""), int(values[0])
            except (ValueError, IndexError):
                return False
            return have > want if operator == "Gt" else have < want
    return False


def _term_matches(term: Obj, node: Obj) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term selects nothing
    labels = (node.get("metadata") or {}).get("labels") or {}
    node_fields = {"metadata.name": str((node.get("metadata") or {}).get("name", ""))}
    return all(_expression_matches(r, labels) for r in expressions) and all(
        _field_matches(r, node_fields) for r in fields
    )


def _affinity_terms(spec: Obj) -> list[Obj] | None:
    """The required node-affinity terms; None when there is no required affinity (a present
    one without terms selects no node)."""
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not isinstance(required, Mapping):
        return None
    return [t for t in required.get("nodeSelectorTerms") or [] if isinstance(t, Mapping)]


def selects_node(spec: Obj, node: Obj) -> bool:
    """The pod's ``nodeSelector`` and required node affinity allow ``node``."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    terms = _affinity_terms(spec)
    return terms is None or any(_term_matches(t, node) for t in terms)


def fits_node(spec: Obj, node: Obj) -> bool:
    """``spec.nodeName`` (if set), ``nodeSelector`` and the required node affinity allow
    ``node`` (taints aside)."""
    name = (node.get("metadata") or {}).get("name")
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False
    return selects_node(spec, node)


def tolerates(tolerations: Sequence[Obj], taint: Obj) -> bool:
    """Some toleration matches the taint (key, value per operator, effect)."""
    for tol in tolerations:
        effect = tol.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if not key:
            if operator == "Exists":
                return True
            continue
        if key != taint.get("key"):
            continue
        if operator == "Exists" or (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated_taints(spec: Obj, node: Obj, effects: Sequence[str]) -> list[Obj]:
    """The node's taints with one of ``effects`` that the pod does not tolerate."""
    tolerations = spec.get("tolerations") or []
    return [
        t
        for t in (node.get("spec") or {}).get("taints") or []
        if t.get("effect") in effects and not tolerates(tolerations, t)
    ]


def affinity_for_node(affinity: Obj | None, node_name: str) -> JSONObject:
    """``affinity`` pinned to ``node_name`` (``ReplaceDaemonSetPodNodeNameNodeAffinity``): every
    required term's ``matchFields`` becomes ``metadata.name In [node_name]``."""
    out: JSONObject = dict(affinity or {})
    node_affinity: JSONObject = dict(out.get("nodeAffinity") or {})
    pin = {"key": "metadata.name", "operator": "In", "values": [node_name]}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = [dict(t) for t in required.get("nodeSelectorTerms") or []]
    if not terms:
        terms = [{"matchFields": [pin]}]
    else:
        for term in terms:
            term["matchFields"] = [pin]
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        **required,
        "nodeSelectorTerms": terms,
    }
    out["nodeAffinity"] = node_affinity
    return out


def node_affinity_target(spec: Obj) -> str | None:
    """The node a pod is bound or pinned to: ``spec.nodeName``, else a single
    ``metadata.name In [node]`` field requirement of its required node affinity."""
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    for term in _affinity_terms(spec) or []:
        for req in term.get("matchFields") or []:
            values = req.get("values") or []
            if (
                req.get("key") == "metadata.name"
                and req.get("operator") == "In"
                and len(values) == 1
            ):
                return str(values[0])
    return None
