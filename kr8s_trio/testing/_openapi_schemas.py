"""The parsed built-in schema catalog, and the schema shapes kube-apiserver writes.

kubectl reads the schemas of built-in kinds for their ``x-kubernetes-patch-*`` extensions (to
compute a client-side-apply strategic merge patch) and for ``explain``. This module turns the
hand-written catalog text of `kr8s_trio.testing._openapi_catalog` into OpenAPI v3 schemas (on
first use), and holds the property shapes kube-apiserver writes (``allOf`` references, the
``apiVersion`` / ``kind`` / ``metadata`` trio) that `kr8s_trio.testing._openapi_document` reuses
for the schemas it builds.
"""

from __future__ import annotations

import re
from typing import Any

from kr8s_trio.testing._openapi_catalog import CATALOG_TEXT

__all__ = [
    "API_VERSION",
    "KIND",
    "META",
    "METADATA",
    "REF",
    "catalog",
    "kind_schema",
    "schema_ref",
]

JSONObject = dict[str, Any]

REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_OBJECT_META = META + "ObjectMeta"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

API_VERSION = {
    "type": "string",
    "description": "The versioned schema of this representation of an object (group/version).",
}
KIND = {"type": "string", "description": "The REST resource this object represents (CamelCase)."}
METADATA = {
    "description": "Standard object metadata: name, namespace, labels, annotations...",
    "default": {},
    "allOf": [{"$ref": REF + _OBJECT_META}],
}
_SCALARS = {
    META + "Time": {"type": "string", "format": "date-time", "description": "An RFC 3339 time."},
    _QUANTITY: {"type": "string", "description": "A fixed-point number: 100m, 1Gi, 2."},
    _INT_OR_STRING: {
        "type": "string",
        "format": "int-or-string",
        "description": "An integer or a string.",
    },
}
_SCALAR_TYPES: dict[str, JSONObject] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "byte": {"type": "string", "format": "byte"},
}


def schema_ref(name: str) -> JSONObject:
    """A reference as kube-apiserver writes it for a property (``allOf`` keeps the description)."""
    ref: JSONObject = {"allOf": [{"$ref": REF + name}]}
    return ref if name in _SCALARS else {"default": {}, **ref}


def kind_schema(description: str) -> JSONObject:
    props = {"apiVersion": API_VERSION, "kind": KIND, "metadata": METADATA}
    return {"description": description, "type": "object", "properties": dict(props)}


def _parse_type(token: str, names: dict[str, str]) -> JSONObject:
    """The schema of one field type of the catalog text (see `CATALOG_TEXT`)."""
    if token in _SCALAR_TYPES:
        return dict(_SCALAR_TYPES[token])
    if token == "loose":
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if token.startswith("string("):
        return {"type": "string", "enum": token[7:-1].split("|")}
    if token.startswith("{}"):
        return {"type": "object", "additionalProperties": _parse_type(token[2:], names)}
    if token.startswith("[]"):
        item, _, keys = token[2:].partition("/")
        out: JSONObject = {"type": "array", "items": _parse_type(item, names)}
        keys, _, retain = keys.partition("+")
        if keys == "set":
            out.update({"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"})
        elif keys:
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = keys.split(",")
            out["x-kubernetes-patch-merge-key"] = keys.split(",")[0]
            out["x-kubernetes-patch-strategy"] = "merge" + (f",{retain}" if retain else "")
        else:
            out["x-kubernetes-list-type"] = "atomic"
        return out
    return schema_ref(names[token])


def _parse_catalog(text: str) -> dict[str, JSONObject]:
    blocks: list[tuple[str, JSONObject, list[tuple[str, str, str]]]] = []
    names: dict[str, str] = {n.rsplit(".", 1)[1]: n for n in _SCALARS}
    package = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("@ "):
            package = line[2:].strip()
        elif not line.startswith(" "):
            head, _, description = line.partition(": ")
            required = re.search(r" \[([\w, ]+)\]$", description)
            if required:
                description = description[: required.start()]
            short = head.removesuffix("!")
            if head.endswith("!"):
                schema = kind_schema(description)
            else:
                schema = {"description": description, "type": "object", "properties": {}}
            if required:
                schema["required"] = required.group(1).split(", ")
            names[short] = f"{package}.{short}"
            blocks.append((names[short], schema, []))
        else:
            field, _, rest = line.strip().partition(": ")
            token, _, description = rest.partition(" ")
            blocks[-1][2].append((field, token, description))
    schemas = dict(_SCALARS)
    for name, schema, fields in blocks:
        for field, token, description in fields:
            schema["properties"][field] = {"description": description, **_parse_type(token, names)}
        if not schema["properties"]:
            del schema["properties"]
        schemas[name] = schema
    return schemas


_CATALOG: dict[str, JSONObject] = {}


def catalog() -> dict[str, JSONObject]:
    """Every hand-written schema by name (parsed on first use)."""
    if not _CATALOG:
        _CATALOG.update(_parse_catalog(CATALOG_TEXT))
    return _CATALOG
