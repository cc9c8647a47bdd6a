"""The scheduling predicates shared by the scheduler and the DaemonSet controller (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from kr8s_trio.testing._nodes import unfit_reason
from kr8s_trio.testing._placement import fits_node, tolerates

JSON = dict[str, Any]
LONG_NAME = "n" * 100 + ".example.com"  # a valid node name, too long for a label value
NODE: JSON = {"metadata": {"name": "node-1", "labels": {"zone": "a", "cores": "8"}}}


def pinned(*expressions: JSON, fields: list[JSON] | None = None) -> JSON:
    term: JSON = {"matchExpressions": list(expressions)}
    if fields is not None:
        term["matchFields"] = fields
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            }
        }
    }


@pytest.mark.parametrize(
    ("requirement", "fits"),
    [
        ({"key": "zone", "operator": "In", "values": ["a", "b"]}, True),
        ({"key": "zone", "operator": "In", "values": ["b"]}, False),
        ({"key": "zone", "operator": "NotIn", "values": ["b"]}, True),
        ({"key": "disk", "operator": "NotIn", "values": ["ssd"]}, True),
        ({"key": "zone", "operator": "Exists"}, True),
        ({"key": "disk", "operator": "Exists"}, False),
        ({"key": "disk", "operator": "DoesNotExist"}, True),
        ({"key": "cores", "operator": "Gt", "values": ["4"]}, True),
        ({"key": "cores", "operator": "Lt", "values": ["4"]}, False),
        ({"key": "zone", "operator": "Gt", "values": ["4"]}, False),
        ({"key": "cores", "operator": "Gt", "values": ["four"]}, False),
        ({"key": "zone", "operator": "In", "values": []}, False),  # invalid: matches nothing
        ({"key": "zone", "operator": "Near", "values": ["a"]}, False),
        ({"key": "bad key!", "operator": "DoesNotExist"}, False),
    ],
)
def test_placement_node_affinity_expressions(requirement: JSON, fits: bool) -> None:
    assert fits_node(pinned(requirement), NODE) is fits
    assert (unfit_reason({"spec": pinned(requirement)}, NODE) is None) is fits


def test_placement_match_fields_take_node_names_of_any_length() -> None:
    node = {"metadata": {"name": LONG_NAME}}
    field = {"key": "metadata.name", "operator": "In", "values": [LONG_NAME]}
    assert fits_node(pinned(fields=[field]), node)
    assert not fits_node(pinned(fields=[field]), NODE)
    assert not fits_node(pinned(), NODE)  # an empty term selects nothing


def test_placement_unfit_reasons_in_the_schedulers_words() -> None:
    cordoned = {**NODE, "spec": {"unschedulable": True}}
    assert unfit_reason({"spec": {}}, cordoned) == "node(s) were unschedulable"
    tolerant = {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]}
    assert unfit_reason({"spec": tolerant}, cordoned) is None
    assert unfit_reason({"spec": {"nodeSelector": {"zone": "b"}}}, NODE) == (
        "node(s) didn't match Pod's node affinity/selector"
    )
    tainted = {**NODE, "spec": {"taints": [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]}}
    assert unfit_reason({"spec": {}}, tainted) == "node(s) had untolerated taint {gpu: yes}"
    assert tolerates([{"key": "gpu", "value": "yes"}], tainted["spec"]["taints"][0])
    assert not tolerates([{"key": "gpu", "value": "no"}], tainted["spec"]["taints"][0])
    assert tolerates([{"operator": "Exists"}], tainted["spec"]["taints"][0])
