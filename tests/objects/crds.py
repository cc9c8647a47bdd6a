"""CustomResourceDefinition manifests for the object suites (imported as ``crds``: the suites'
directory is on sys.path, as tests/testing's support.py is for its own)."""

from __future__ import annotations

from typing import Any


def crd(group: str, plural: str, kind: str, scope: str = "Namespaced", **names: Any) -> Any:
    """A CustomResourceDefinition serving ``v1`` that keeps whatever fields it is given;
    ``names`` adds to ``spec.names`` (``shortNames``, ``singular``...)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, **names},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
